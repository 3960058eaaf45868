"""The client's connection to the API: configuration, HTTP calls, exit codes, spinner.

Configuration (docs/client.md), highest first:
- the API address: `--url`, then `AUTOSUBMIT_API_URL`, then `url` in the config file, then
  http://127.0.0.1:8000;
- the token: `AUTOSUBMIT_API_TOKEN`, then `token` in the config file; none when neither is set
  (enough for a server with PROTECTION_LEVEL NONE). It is never taken from the command line,
  where other users could read it in the process list.

The config file is an INI file (stdlib `configparser`) with a `[client]` section; its path is
`--config`, then `AUTOSUBMIT_API_CLIENT_CONFIG`, then
`$XDG_CONFIG_HOME/autosubmit_api/client.ini` (default `~/.config/autosubmit_api/client.ini`).
"""

from __future__ import annotations

import configparser
import os
import stat
import sys
import threading
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import quote

import requests

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 60.0

# Exit codes scripts can test (docs/client.md).
OK = 0
USAGE = 1  # bad arguments, bad configuration, or a request the API refused as malformed (400)
NOT_FOUND = 2  # unknown experiment, job or log (404)
AUTH = 3  # the API refused the token, or wants one (401, 403)
SERVER = 4  # the API is unreachable, timed out, failed (5xx) or answered something unreadable
INTERRUPTED = 130  # Ctrl-C during a call (not during `logs --follow`, which ends with 0)


class ClientError(Exception):
    """A failure the client reports on stderr, ending with `code`."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass
class Config:
    url: str
    token: Optional[str]
    timeout: float = DEFAULT_TIMEOUT


def config_path(env: Mapping[str, str], given: Optional[str] = None) -> str:
    if given:
        return given
    if env.get("AUTOSUBMIT_API_CLIENT_CONFIG"):
        return env["AUTOSUBMIT_API_CLIENT_CONFIG"]
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "autosubmit_api", "client.ini")


def _read_file(path: str, explicit: bool) -> Dict[str, str]:
    if not os.path.isfile(path):
        if explicit:
            raise ClientError(f"config file {path} does not exist", USAGE)
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise ClientError(f"cannot read config file {path}: {exc}", USAGE) from None
    values = dict(parser["client"]) if parser.has_section("client") else {}
    if values.get("token") and os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(
            f"autosubmit_api client: warning: {path} holds a token and others may read it (chmod 600 {path})",
            file=sys.stderr,
        )
    return values


def load_config(
    env: Mapping[str, str], url: Optional[str] = None, path: Optional[str] = None, timeout: Optional[float] = None
) -> Config:
    explicit = bool(path or env.get("AUTOSUBMIT_API_CLIENT_CONFIG"))
    values = _read_file(config_path(env, path), explicit)
    chosen = (url or env.get("AUTOSUBMIT_API_URL") or values.get("url") or DEFAULT_URL).strip()
    if not chosen.startswith(("http://", "https://")):
        raise ClientError(f"the API address must start with http:// or https://, not {chosen!r}", USAGE)
    token = (env.get("AUTOSUBMIT_API_TOKEN") or values.get("token") or "").strip() or None
    if timeout is None:
        try:
            timeout = float(values.get("timeout", DEFAULT_TIMEOUT))
        except ValueError:
            raise ClientError(f"timeout in the config file is not a number: {values['timeout']!r}", USAGE) from None
    if timeout <= 0:
        raise ClientError("the timeout must be a positive number of seconds", USAGE)
    return Config(url=chosen.rstrip("/"), token=token, timeout=timeout)


def segment(value: str) -> str:
    """One path segment, quoted: an expid or file name never adds a path level."""
    return quote(value, safe="")


class Spinner:
    """A spinner on stderr while a call lasts longer than `delay`; only when stderr is a TTY."""

    FRAMES = "|/-\\"

    def __init__(self, label: str, enabled: bool, delay: float = 0.3, period: float = 0.1):
        self.label = label
        self.enabled = enabled
        self.delay = delay
        self.period = period
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._shown = False

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        frame = 0
        while not self._stop.is_set():
            sys.stderr.write(f"\r{self.FRAMES[frame % len(self.FRAMES)]} {self.label}")
            sys.stderr.flush()
            self._shown = True
            frame += 1
            self._stop.wait(self.period)

    def __enter__(self) -> "Spinner":
        if self.enabled:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            if self._shown:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason or ""
    if isinstance(body, dict):
        return str(body.get("error_message") or body.get("message") or body.get("msg") or "")
    return ""


class Api:
    """GET calls to the API, each answered with its JSON body or a ClientError."""

    def __init__(self, config: Config, spinner: Optional[bool] = None):
        self.config = config
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "autosubmit_api-client"
        if config.token:
            self.session.headers["Authorization"] = f"Bearer {config.token}"
        self.spinner = sys.stderr.isatty() if spinner is None else spinner

    def get(self, path: str, params: Optional[Dict[str, Any]] = None, label: str = "") -> Any:
        return self.get_if_changed(path, params, label=label)[0]

    def get_if_changed(
        self, path: str, params: Optional[Dict[str, Any]] = None, etag: Optional[str] = None, label: str = ""
    ) -> Tuple[Any, Optional[str]]:
        """(JSON body, ETag) of a GET; with `etag`, (None, etag) when the API answers 304
        (the answer is still the one that tag names)."""
        url = self.config.url + path
        headers = {"If-None-Match": etag} if etag else {}
        try:
            with Spinner(label or path, self.spinner):
                response = self.session.get(url, params=params, headers=headers, timeout=self.config.timeout)
        except requests.Timeout:
            raise ClientError(f"{self.config.url} did not answer within {self.config.timeout:g} s", SERVER) from None
        except requests.RequestException as exc:
            raise ClientError(f"cannot reach {self.config.url}: {type(exc).__name__}", SERVER) from None
        status = response.status_code
        if status == 304 and etag:
            return None, etag
        if status in (401, 403):
            detail = _message(response) or "refused"
            hint = "" if self.config.token else " (no token: set AUTOSUBMIT_API_TOKEN or token in the config file)"
            raise ClientError(f"the API refused the request ({status} {detail}){hint}", AUTH)
        if status == 404:
            raise ClientError(_message(response) or f"not found: {path}", NOT_FOUND)
        if 400 <= status < 500:
            raise ClientError(f"the API refused the request ({status}): {_message(response)}", USAGE)
        if status >= 300:
            raise ClientError(f"the API failed ({status}): {_message(response)}", SERVER)
        try:
            body = response.json()
        except ValueError:
            raise ClientError(f"{url} did not answer JSON: is {self.config.url} an Autosubmit API?", SERVER) from None
        if isinstance(body, dict) and body.get("error") is True:
            # v3 routes answer 200 with an error body.
            raise ClientError(f"the API answered an error: {body.get('error_message') or 'unknown'}", SERVER)
        return body, response.headers.get("ETag")
