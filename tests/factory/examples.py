"""The bundled example experiments, as the factory builds them, and the tool that ships them.

`autosubmit_api start` with no `.autosubmitrc` serves a small site (autosubmit_api/examples.py).
The site is built here, by the factory, in the real formats Autosubmit writes, and shipped as
package data in `autosubmit_api/example_site/` (docs/cli.md#the-bundled-examples): the runtime
package copies it and holds no writer. After changing the examples or a writer they use,
regenerate the shipped copy (and bump `examples.LAYOUT` if the set of examples changed):

    python -m tests.factory.examples

tests/test_examples.py fails while the shipped copy differs from what this module builds.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

from autosubmit_api import examples
from tests.factory import conf, make_experiment, make_site, workflow

# The site root the shipped pickles record in their jobs' tmp and log paths (the API reads
# neither): a fixed placeholder, so the shipped files do not depend on where they were built.
RECORDED_ROOT = "/autosubmit_api/examples"
OWNER = "demo"
SHIPPED = Path(examples.__file__).resolve().parent / examples.SITE_DIR


def write_examples(root: Path, recorded_root: Optional[str] = RECORDED_ROOT) -> None:
    """The example site: seven experiments in different job list formats, configs and states."""
    site = make_site(root, recorded_root=recorded_root)
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


def directories(root: Path) -> list:
    """The site's directories, relative and sorted: the empty ones are not package data."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_dir())


def build_shipped(target: Path) -> None:
    """The shipped copy in `target`: the site without its `.autosubmitrc`, plus the directory list."""
    write_examples(target)
    (target / ".autosubmitrc").unlink()
    (target / examples.DIRECTORIES).write_text("".join(f"{name}\n" for name in directories(target)))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "site"
        build_shipped(built)
        if SHIPPED.exists():
            shutil.rmtree(SHIPPED)
        shutil.copytree(built, SHIPPED)
    print(f"wrote {SHIPPED}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
