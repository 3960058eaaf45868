"""Write a whole Autosubmit site holding one N-job experiment, for benchmarks and manual tests.

    python benchmarks/make_experiment.py --jobs 50000 --out /tmp/site [--format F4|DB] [--expid a000]

`--format DB` writes the Autosubmit 4.2 layout instead of a pickle: the job list, edges and
sections in `<expid>/db/job_list.db` (docs/storage.md).

The site (`.autosubmitrc`, central DBs, metadata directories) is laid out by
`tests.factory.make_site`; the experiment (pickle, structure DB, history DB,
configuration) by `make_experiment` with `factory.workflow.big_workflow`. Point the API at
it with `AUTOSUBMIT_CONFIGURATION=<out>/.autosubmitrc`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for tests.factory

from tests.factory import make_experiment, make_site, workflow
from tests.factory.pickles import FORMATS


def build(out: Path, n_jobs: int, fmt: str = "F4", expid: str = "a000", seed: int = 0):
    """The site and the experiment written into `out`; returns the factory's Experiment."""
    site = make_site(out)
    jobs = workflow.big_workflow(expid, n_jobs, seed=seed)
    if fmt == "DB":
        return make_experiment(
            site,
            expid,
            jobs,
            job_list_layout="db",
            autosubmit_version="4.2.0",
            description=f"benchmark 4.2 experiment with {n_jobs} jobs",
        )
    return make_experiment(site, expid, jobs, pkl_format=fmt, description=f"benchmark experiment with {n_jobs} jobs")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, required=True, help="number of jobs")
    parser.add_argument("--out", type=Path, required=True, help="site directory to create")
    parser.add_argument(
        "--format",
        default="F4",
        choices=tuple(FORMATS) + ("DB",),
        help="pickle format, or DB for the Autosubmit 4.2 job list database",
    )
    parser.add_argument("--expid", default="a000", help="experiment id")
    parser.add_argument("--seed", type=int, default=0, help="seed of the status mix")
    args = parser.parse_args(argv)
    if (args.out / "autosubmit.db").exists():
        parser.error(f"{args.out} already holds a site; choose an empty directory")
    started = time.perf_counter()
    experiment = build(args.out, args.jobs, args.format, args.expid, args.seed)
    written = experiment.job_db_path if args.format == "DB" else experiment.pkl_path
    print(
        f"wrote {args.expid} ({args.jobs} jobs, {args.format}) in {args.out} "
        f"in {time.perf_counter() - started:.1f} s; job list {written.stat().st_size:,} bytes"
    )
    print(f"AUTOSUBMIT_CONFIGURATION={args.out / '.autosubmitrc'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
