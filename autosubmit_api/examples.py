"""The bundled example experiments, served by `autosubmit_api start` when there is no site.

When no `.autosubmitrc` is found and `AUTOSUBMIT_CONFIGURATION` is unset, a first start
would otherwise serve `~/debug/autosubmit`, which does not exist, and answer 503 to every
experiment route. Instead the CLI writes a small site with the project's factory (the same
real formats Autosubmit writes) into a per-user data directory,
`$XDG_DATA_HOME/autosubmit_api/examples` (default `~/.local/share/autosubmit_api/examples`),
and serves it. It is rewritten only when missing, unfinished, or made by another version.

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
OWNER = "demo"


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
    """The example site: seven experiments in different job list formats, configs and states."""
    from tests.factory import conf, make_experiment, make_site, workflow

    site = make_site(root)
    # details.hpc as the details worker would write it: the configuration's HPCARCH.
    hpc = conf.default_as4_config("a000")["DEFAULT"]["HPCARCH"]
    details = {"user": OWNER, "created": "2024-05-02 09:30:00", "model": "NA", "branch": "NA", "hpc": hpc}

    running = workflow.standard_jobs("a000", dates=("20000101", "20000201"), chunks=3)
    make_experiment(
        site,
        "a000",
        running,
        pkl_format="F4",
        autosubmit_version="4.1.12",
        description="Coupled run in progress (Autosubmit 4.1.12 job list)",
        details=details,
        status="RUNNING",
    )

    finished = workflow.standard_jobs("a001", members=("fc0", "fc1"))
    for job in finished:
        job.status = workflow.COMPLETED
    make_experiment(
        site,
        "a001",
        finished,
        pkl_format="F3",
        autosubmit_version="4.1.11",
        description="Finished ensemble (Autosubmit 4.1.0-4.1.11 networkx job list)",
        details=dict(details, created="2024-03-11 16:02:41"),
        status="NOT RUNNING",
        config={"CONFIG": {"AUTOSUBMIT_VERSION": "4.1.11"}},
    )

    failed = workflow.standard_jobs("a002")
    failed[len(failed) // 2].status = workflow.FAILED
    make_experiment(
        site,
        "a002",
        failed,
        pkl_format="F2",
        autosubmit_version="4.0.95",
        description="Stopped on a failed SIM (Autosubmit 4.0 job list)",
        details=dict(details, created="2024-01-08 14:52:35"),
        status="NOT RUNNING",
        config={"CONFIG": {"AUTOSUBMIT_VERSION": "4.0.95"}},
    )

    make_experiment(
        site,
        "a003",
        workflow.standard_jobs("a003", chunks=3),
        pkl_format="F1",
        autosubmit_version="3.13.0",
        as3_config=True,
        description="Autosubmit 3 experiment (INI configuration)",
        details=dict(details, hpc="marenostrum4", created="2023-02-09 12:10:01"),
        status="NOT RUNNING",
    )

    wrapped = workflow.standard_jobs("a004", chunks=4)
    sims = [job.name for job in wrapped if job.section == "SIM"]
    for job in wrapped:
        if job.name in sims:
            job.wrapper_type = "vertical"
    make_experiment(
        site,
        "a004",
        wrapped,
        pkl_format="F4",
        autosubmit_version="4.1.12",
        description="Vertical wrapper of the SIM chunks",
        details=dict(details, created="2024-04-19 13:53:24"),
        config={"WRAPPERS": {"WRAPPER_V": {"TYPE": "vertical", "JOBS_IN_WRAPPER": "SIM"}}},
        packages={"a004_ASThread_17128472368642_4_4": sims},
    )

    # Autosubmit 4.2: no pickle, the job list in db/job_list.db (docs/storage.md).
    current = workflow.standard_jobs("a005", dates=("20000101",), members=("fc0", "fc1"), chunks=2)
    for job in current[: len(current) // 2]:
        job.status = workflow.COMPLETED
    make_experiment(
        site,
        "a005",
        current,
        job_list_layout="db",
        autosubmit_version="4.2.0",
        description="Autosubmit 4.2 experiment (job list in db/job_list.db)",
        details=dict(details, created="2025-11-20 10:15:00"),
        status="NOT RUNNING",
        config={"CONFIG": {"AUTOSUBMIT_VERSION": "4.2.0"}},
    )

    make_experiment(
        site,
        "t000",
        workflow.standard_jobs("t000", chunks=1),
        pkl_format="F4",
        description="Test experiment",
        details=details,
    )


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
