"""The bundled example experiments, served by `autosubmit_api start` when there is no site.

When no `.autosubmitrc` is found and `AUTOSUBMIT_CONFIGURATION` is unset, a first start
would otherwise serve `~/debug/autosubmit`, which does not exist, and answer 503 to every
experiment route. Instead the CLI copies a small site, shipped as package data in
`example_site/` (built by the project's factory, tests/factory/examples.py, in the real formats
Autosubmit writes), into a per-user data directory, `$XDG_DATA_HOME/autosubmit_api/examples`
(default `~/.local/share/autosubmit_api/examples`), and serves it. It is rewritten only when
missing, unfinished, or made by another version.

Defaults for the examples, each overridden by setting the variable explicitly:
`PROTECTION_LEVEL=NONE` (demo data, so `curl localhost:8000/v4/experiments` answers without
a login; the server still binds 127.0.0.1 unless told otherwise) and background tasks off
(the status worker would otherwise mark the "running" example as stopped, since nothing
runs it).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Mapping, Optional

from autosubmit_api import __version__
from autosubmit_api.config import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)

# Bump when the set of examples changes, so existing copies are rewritten.
LAYOUT = 3
MARKER = ".autosubmit_api_examples"
PARTIAL = ".autosubmit_api_examples.partial"
# The site as tests/factory/examples.py builds it, shipped as package data (docs/cli.md), and
# the list of its directories (empty ones are not package data).
SITE_DIR = "example_site"
DIRECTORIES = "directories.txt"

# An `.autosubmitrc` for a site rooted in {root}; also the factory's (tests/factory).
RC_TEMPLATE = """[database]
path = {root}
filename = autosubmit.db
backend = sqlite
[local]
path = {root}
[globallogs]
path = {root}/logs
[historicdb]
path = {root}/metadata/data
[structures]
path = {root}/metadata/structures
[historiclog]
path = {root}/metadata/logs
[graph]
path = {root}/metadata/graph
"""


def examples_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME")
    if not base:
        home = env.get("HOME") or os.path.expanduser("~")
        base = os.path.join(home, ".local", "share")
    return Path(base) / "autosubmit_api" / "examples"


def _stamp() -> str:
    return f"autosubmit_api {__version__} examples layout {LAYOUT}\n"


def is_current(root: Path) -> bool:
    marker = root / MARKER
    return marker.is_file() and marker.read_text() == _stamp() and not (root / PARTIAL).exists()


def _write(root: Path) -> None:
    """The example site: the shipped copy, its empty directories and an `.autosubmitrc` for `root`."""
    shipped = Path(__file__).resolve().parent / SITE_DIR
    # Contents only: the files are as new as the copy (as if Autosubmit had just written them)
    # and get the user's default modes, even from a read-only installation.
    for source in sorted(shipped.rglob("*")):
        if source.is_file():
            target = root / source.relative_to(shipped)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    for name in (root / DIRECTORIES).read_text().split():
        (root / name).mkdir(parents=True, exist_ok=True)
    (root / DIRECTORIES).unlink()
    (root / ".autosubmitrc").write_text(RC_TEMPLATE.format(root=root))


def ensure_examples(root: Path) -> Path:
    """Write the examples into `root` unless a current copy is there; returns the rc path.

    A directory that is neither empty nor ours is never removed: ConfigError instead.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / ".examples.lock", "w") as lock:
        # Several `start`s at once: one writes, the others wait and reuse its copy.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_current(root):
            if root.exists():
                ours = (root / MARKER).exists() or (root / PARTIAL).exists()
                if not ours and any(root.iterdir()):
                    raise ConfigError(
                        f"{root} exists and was not written by autosubmit_api; remove it or "
                        "set AUTOSUBMIT_CONFIGURATION to a site's .autosubmitrc"
                    )
                shutil.rmtree(root)
            root.mkdir(parents=True)
            (root / PARTIAL).write_text(_stamp())
            log.info("writing the example experiments into %s", root)
            _write(root)
            (root / MARKER).write_text(_stamp())
            (root / PARTIAL).unlink()
    return root / ".autosubmitrc"


def example_settings(env: Mapping[str, str], root: Optional[Path] = None) -> Settings:
    """Settings serving the examples (written first if needed), with the example defaults."""
    root = root or examples_dir(env)
    rc_path = ensure_examples(root)
    serving = dict(env)
    serving["AUTOSUBMIT_CONFIGURATION"] = str(rc_path)
    serving.setdefault("PROTECTION_LEVEL", "NONE")
    serving.setdefault("DISABLE_BACKGROUND_TASKS", "True")
    message = (
        f"autosubmit_api: no .autosubmitrc found; serving the bundled example experiments from "
        f"{root} (PROTECTION_LEVEL={serving['PROTECTION_LEVEL']}). Set AUTOSUBMIT_CONFIGURATION "
        "to serve a real Autosubmit installation."
    )
    log.info(message)
    print(message, file=sys.stderr, flush=True)
    settings = load_settings(serving, dotenv=False)
    return settings.replace(examples=True)
