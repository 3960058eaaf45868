"""`python -m autosubmit_api.workers [--once JOB ...]`: the background jobs without the HTTP API.

Without arguments it runs the scheduler in the foreground (a separate worker process, for
sites that run the API with `--disable-bg-tasks`) until SIGINT/SIGTERM. `--once status
details` runs those jobs once and exits with 1 if one failed; `--once all` runs every job.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from autosubmit_api import workers
from autosubmit_api.config import ConfigError, load_settings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autosubmit_api.workers")
    parser.add_argument(
        "--once",
        nargs="+",
        metavar="JOB",
        help="run these jobs once (%s, or all) and exit" % ", ".join(j.name for j in workers.jobs()),
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"
    )
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.once:
        names = [j.name for j in workers.jobs()] if args.once == ["all"] else args.once
        try:
            table = [workers.job(name) for name in names]
        except KeyError as exc:
            parser.error(f"unknown job {exc}")
        ok = all([workers.run_job(entry, settings, force=True) for entry in table])
        return 0 if ok else 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    scheduler = workers.start_scheduler(settings)
    stop.wait()
    scheduler.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
