"""`python -m autosubmit_api.workers.populate_running_experiments`: the reference's standalone entry point
(docs/api.md 8): run the `status` job once, then exit (1 if it failed)."""

from __future__ import annotations

import sys

from autosubmit_api.workers.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["--once", "status"]))
