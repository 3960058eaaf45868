"""`autosubmit_api client`: a command-line client of a running API (docs/client.md).

It talks to the API over HTTP only (`requests`), like any other client: it imports nothing of
the server (routes, services, readers, config), so it works from a laptop with the package
installed and no Autosubmit data (tests/test_layering.py checks the imports).

- `api.py`: where the API is and which token to send, the HTTP calls, the exit codes, the spinner.
- `main.py`: the commands, their arguments and their output (tables, or JSON with `--json`).
"""
