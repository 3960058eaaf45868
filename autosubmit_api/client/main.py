"""The client's commands (docs/client.md): arguments, calls and output.

Every command prints a table for people, or with `--json` one JSON document on stdout for
scripts; errors go to stderr and end with the exit codes of `api.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, NoReturn, Optional, Sequence, Tuple, TypeVar

from autosubmit_api.client import api as client_api
from autosubmit_api.client.api import Api, ClientError, segment

PROG = "autosubmit_api client"
EXPERIMENTS_PAGE = 200
LOG_TAIL_MAX = 10000  # the v4 log route's largest `tail`
FOLLOW_WINDOW = 1000  # lines read per poll of `logs --follow`
FOLLOW_FAILURES = 5  # consecutive failed polls before `--follow` gives up
T = TypeVar("T")
JOB_COLUMNS = ("name", "section", "date", "member", "chunk", "status")


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors end with exit code 1 (USAGE)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(client_api.USAGE, f"{self.prog}: error: {message}\n")


def _common() -> _Parser:
    # Accepted before or after the command; SUPPRESS keeps a later default from hiding an earlier value.
    common = _Parser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts instead of a table"
    )
    common.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help=f"API address (default: $AUTOSUBMIT_API_URL, the config file, {client_api.DEFAULT_URL})",
    )
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="config file (default: $AUTOSUBMIT_API_CLIENT_CONFIG, ~/.config/autosubmit_api/client.ini)",
    )
    common.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help=f"seconds to wait for each answer (default {client_api.DEFAULT_TIMEOUT:g})",
    )
    return common


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= LOG_TAIL_MAX:
        raise argparse.ArgumentTypeError(f"must be between 1 and {LOG_TAIL_MAX}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _polling_options(cmd: argparse.ArgumentParser, interval: int) -> None:
    """--interval and --for of a command with --follow (both polled by _polls)."""
    cmd.add_argument(
        "--interval",
        type=_seconds,
        default=float(interval),
        metavar="SECONDS",
        help=f"seconds between polls with --follow (default {interval})",
    )
    cmd.add_argument(
        "--for", dest="follow_for", type=_seconds, metavar="SECONDS", help="stop following after this many seconds"
    )


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(
        prog=PROG,
        parents=[common],
        description="Command-line client of an Autosubmit API server.",
        epilog="exit codes: 0 ok, 1 usage, 2 not found, 3 token refused or missing, "
        "4 server failed or unreachable (docs/client.md)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    cmd = commands.add_parser("experiments", parents=[common], help="list experiments")
    cmd.add_argument("--query", help="name prefix, or description or owner substring")
    cmd.add_argument("--owner", help="only this owner's experiments")
    cmd.add_argument("--active", action="store_true", help="only running experiments")

    cmd = commands.add_parser("status", parents=[common], help="job counts per status, and the running and failed jobs")
    cmd.add_argument("expid")

    cmd = commands.add_parser("jobs", parents=[common], help="an experiment's jobs")
    cmd.add_argument("expid")
    cmd.add_argument(
        "--status",
        action="append",
        default=[],
        help="only jobs in this status (repeatable or comma-separated), e.g. FAILED",
    )
    cmd.add_argument(
        "--section",
        action="append",
        default=[],
        help="only jobs of this section (repeatable or comma-separated), e.g. SIM",
    )
    cmd.add_argument(
        "-f",
        "--follow",
        action="store_true",
        help="then keep printing the jobs that change (the API's change feed, polled) until Ctrl-C",
    )
    _polling_options(cmd, interval=5)

    cmd = commands.add_parser("logs", parents=[common], help="the end of a job's log")
    cmd.add_argument("expid")
    cmd.add_argument("job", help="a job name (its .out log; --err for the .err) or a log file name")
    cmd.add_argument("--err", action="store_true", help="the job's .err log instead of its .out")
    cmd.add_argument(
        "--tail", type=_positive, default=50, metavar="N", help=f"lines from the end (1..{LOG_TAIL_MAX}, default 50)"
    )
    cmd.add_argument(
        "-f", "--follow", action="store_true", help="keep printing new lines (polling the API) until Ctrl-C"
    )
    _polling_options(cmd, interval=2)

    cmd = commands.add_parser("runs", parents=[common], help="an experiment's runs")
    cmd.add_argument("expid")

    cmd = commands.add_parser("performance", parents=[common], help="an experiment's performance metrics")
    cmd.add_argument("expid")
    return parser


# --- output -----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(round(value, 4))
    return str(value)


def table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Tuple[str, str]], width: Optional[Dict[str, int]] = None
) -> str:
    """`rows` as aligned text columns: `columns` is (key, heading); long cells are cut to `width`."""
    width = width or {}
    cells = []
    for row in rows:
        line = []
        for key, _ in columns:
            text = _cell(row.get(key)).replace("\n", " ")
            limit = width.get(key)
            if limit and len(text) > limit:
                text = text[: limit - 1] + "~"
            line.append(text)
        cells.append(line)
    headings = [heading for _, heading in columns]
    sizes = [max([len(h)] + [len(line[i]) for line in cells]) for i, h in enumerate(headings)]
    out = ["  ".join(h.ljust(s) for h, s in zip(headings, sizes)).rstrip()]
    out += ["  ".join(c.ljust(s) for c, s in zip(line, sizes)).rstrip() for line in cells]
    return "\n".join(out)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def _values(options: Iterable[str]) -> List[str]:
    return [part.strip().upper() for option in options for part in option.split(",") if part.strip()]


# --- commands ---------------------------------------------------------------------------


def cmd_experiments(api: Api, args) -> Any:
    params: Dict[str, Any] = {"page_size": EXPERIMENTS_PAGE, "order_by": "expid"}
    if args.query:
        params["query"] = args.query
    if args.owner:
        params["owner"] = args.owner
    if args.active:
        params["only_active"] = "true"
    found: List[Dict[str, Any]] = []
    page = 1
    while True:
        body = api.get("/v4/experiments", dict(params, page=page), label="experiments")
        found += body.get("experiments", [])
        pages = body.get("pagination", {}).get("total_pages", 1) or 1
        if page >= pages:
            break
        page += 1
    if args.json:
        return found
    rows = [dict(e, jobs=f"{e.get('completed', 0)}/{e.get('total', 0)}") for e in found]
    text = table(
        rows,
        [
            ("name", "EXPID"),
            ("user", "OWNER"),
            ("status", "STATUS"),
            ("hpc", "HPC"),
            ("version", "VERSION"),
            ("jobs", "DONE/TOTAL"),
            ("running", "RUNNING"),
            ("failed", "FAILED"),
            ("description", "DESCRIPTION"),
        ],
        {"description": 50},
    )
    return f"{text}\n{len(found)} experiment(s)"


def _jobs(api: Api, expid: str) -> List[Dict[str, Any]]:
    return api.get(f"/v4/experiments/{segment(expid)}/jobs", label=f"jobs of {expid}").get("jobs", [])


def _job_rows(jobs: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    return [{key: job.get(key) for key in JOB_COLUMNS} for job in jobs]


def _job_table(jobs: Sequence[Mapping[str, Any]]) -> str:
    return table(jobs, [(key, key.upper()) for key in JOB_COLUMNS])


def cmd_status(api: Api, args) -> Any:
    detail = api.get(f"/v4/experiments/{segment(args.expid)}", label=args.expid)
    jobs = _jobs(api, args.expid)
    counts = Counter(job.get("status") or "UNKNOWN" for job in jobs)
    running = _job_rows([job for job in jobs if job.get("status") == "RUNNING"])
    failed = _job_rows([job for job in jobs if job.get("status") == "FAILED"])
    if args.json:
        return {
            "expid": args.expid,
            "description": detail.get("description"),
            "total": len(jobs),
            "counts": dict(sorted(counts.items())),
            "running": running,
            "failed": failed,
        }
    lines = [f"{args.expid}: {detail.get('description') or ''}".rstrip(), ""]
    lines.append(
        table(
            [{"status": s, "jobs": n} for s, n in sorted(counts.items())] + [{"status": "TOTAL", "jobs": len(jobs)}],
            [("status", "STATUS"), ("jobs", "JOBS")],
        )
    )
    for title, rows in (("Running jobs", running), ("Failed jobs", failed)):
        lines += ["", f"{title}: {len(rows)}"]
        if rows:
            lines.append(_job_table(rows))
    return "\n".join(lines)


def _wanted(args):
    statuses, sections = set(_values(args.status)), set(_values(args.section))

    def keep(job: Mapping[str, Any]) -> bool:
        return (not statuses or str(job.get("status", "")).upper() in statuses) and (
            not sections or str(job.get("section", "")).upper() in sections
        )

    return keep


def cmd_jobs(api: Api, args) -> Any:
    keep = _wanted(args)
    if args.follow:
        _follow_jobs(api, args, keep)
        return None
    jobs = [job for job in _jobs(api, args.expid) if keep(job)]
    if args.json:
        return jobs
    return f"{_job_table(_job_rows(jobs))}\n{len(jobs)} job(s)"


def _feed_line(job: Mapping[str, Any]) -> str:
    when = time.strftime("%H:%M:%S")
    return f"{when}  {job.get('name')}  {job.get('status')}"


def _polls(args, fetch: Callable[[], T]) -> Iterator[T]:
    """`fetch()` every `--interval` seconds until `--for` seconds have passed (for ever
    without it), each answer yielded. A server failure is retried with a warning on stderr;
    FOLLOW_FAILURES in a row, or any other error, ends the loop by raising it."""
    deadline = time.monotonic() + args.follow_for if args.follow_for else None
    failures = 0
    while deadline is None or time.monotonic() < deadline:
        pause = args.interval if deadline is None else min(args.interval, max(0.0, deadline - time.monotonic()))
        time.sleep(pause)
        try:
            answer = fetch()
        except ClientError as exc:
            if exc.code != client_api.SERVER:
                raise
            failures += 1
            if failures >= FOLLOW_FAILURES:
                raise
            print(f"{PROG}: warning: {exc} (retrying)", file=sys.stderr)
            continue
        failures = 0
        yield answer


def _follow_jobs(api: Api, args, keep) -> None:
    """`jobs --follow`: the jobs (table, or one JSON object per job), then every change the
    change feed reports (`jobs?since=<cursor>`, with If-None-Match so an unchanged poll is a
    304), one line per changed job, until Ctrl-C or `--for` seconds (docs/client.md)."""
    path = f"/v4/experiments/{segment(args.expid)}/jobs"
    body, etag = api.get_if_changed(path, {"since": ""}, label=f"jobs of {args.expid}")
    known = {job.get("name"): job for job in body.get("jobs", [])}
    shown = [job for job in body.get("jobs", []) if keep(job)]
    if args.json:
        for job in shown:
            print(json.dumps(job, sort_keys=True), flush=True)
    else:
        print(f"{_job_table(_job_rows(shown))}\n{len(shown)} job(s); following changes (Ctrl-C to stop)", flush=True)
    cursor = body.get("cursor", "")
    try:
        for body, etag in _polls(args, lambda: api.get_if_changed(path, {"since": cursor}, etag=etag, label="changes")):
            if body is None:  # 304: nothing changed since the cursor
                continue
            if body.get("full"):
                # The whole list again (jobs added or removed, or the server lost the cursor's
                # base): print only what differs from the copy we hold.
                fresh = {job.get("name"): job for job in body.get("jobs", [])}
                changed = [job for name, job in fresh.items() if known.get(name) != job]
                for name in known.keys() - fresh.keys():
                    print(f"{PROG}: {name} is no longer in the job list", file=sys.stderr)
                known = fresh
            else:
                changed = body.get("jobs", [])
                known.update((job.get("name"), job) for job in changed)
            cursor = body.get("cursor", cursor)
            for job in changed:
                if keep(job):
                    print(json.dumps(job, sort_keys=True) if args.json else _feed_line(job), flush=True)
    except KeyboardInterrupt:
        pass


def _log_file(api: Api, args) -> str:
    """The log file name for `job`: a job's .out (or .err) log, or `job` itself as a file name."""
    for job in _jobs(api, args.expid):
        if job.get("name") == args.job:
            name = job.get("err_path_local" if args.err else "out_path_local")
            if not name:
                raise ClientError(
                    f"job {args.job} has no {'.err' if args.err else '.out'} log yet", client_api.NOT_FOUND
                )
            return name
    if "." in args.job:
        return args.job
    raise ClientError(f"experiment {args.expid} has no job {args.job}", client_api.NOT_FOUND)


def new_lines(before: Sequence[str], after: Sequence[str], full: bool) -> Tuple[List[str], bool]:
    """The lines appended between two equal-sized tails of one log: (lines, whether some may be
    missing).

    `after` is `before` shifted by the appended lines: the longest head of `after` that is the
    end of `before` is the part already printed. `full` says the file grew while both tails
    were cut by the window: then at least one line is new (identical repeated lines would
    otherwise all look already printed).
    """
    top = min(len(before), len(after))
    for kept in range(top, -1, -1):
        if kept and after[0] != before[len(before) - kept]:
            continue
        if list(after[:kept]) == list(before[len(before) - kept :]):
            if full and kept == len(after) and kept:
                continue
            return list(after[kept:]), kept == 0 and bool(before) and bool(after)
    return list(after), bool(before)


def _follow(api: Api, args, path: str, first: Mapping[str, Any], out) -> None:
    """Poll the log's tail every `--interval` seconds and print what was appended, until Ctrl-C
    or `--for` seconds; `first` is the first tail, read with the same window."""
    window = _window(args)
    lines, size = list(first.get("lines", [])), first.get("size", 0)
    for body in _polls(args, lambda: api.get(path, {"tail": window}, label="log")):
        after, new_size = list(body.get("lines", [])), body.get("size", 0)
        if new_size < size:
            print(f"{PROG}: {args.job}: the log was truncated or replaced", file=sys.stderr)
            fresh, gap = after, False
        else:
            cut = bool(body.get("truncated")) or len(after) >= window
            fresh, gap = new_lines(lines, after, new_size > size and cut)
        if gap:
            print(f"{PROG}: more lines were written than one poll reads; some are not shown", file=sys.stderr)
        for line in fresh:
            out(line)
        lines, size = after, new_size


def _window(args) -> int:
    return min(max(args.tail, FOLLOW_WINDOW), LOG_TAIL_MAX)


def cmd_logs(api: Api, args) -> Any:
    name = _log_file(api, args)
    path = f"/v4/experiments/{segment(args.expid)}/logs/{segment(name)}"
    body = api.get(path, {"tail": _window(args) if args.follow else args.tail}, label=name)
    if args.json and not args.follow:
        return body

    def out(line: str) -> None:
        print(json.dumps({"line": line}) if args.json else line, flush=True)

    for line in body.get("lines", [])[-args.tail :]:
        out(line)
    if args.follow:
        try:
            _follow(api, args, path, body, out)
        except KeyboardInterrupt:
            pass
    return None


def cmd_runs(api: Api, args) -> Any:
    api.get(f"/v4/experiments/{segment(args.expid)}", label=args.expid)  # 404 for an unknown experiment
    runs = api.get(f"/runs/{segment(args.expid)}", label=f"runs of {args.expid}").get("runs", [])
    if args.json:
        return runs
    rows = [dict(r, jobs=f"{r.get('completed', 0)}/{r.get('total', 0)}") for r in runs]
    text = table(
        rows,
        [
            ("run_id", "RUN"),
            ("created", "STARTED"),
            ("finish", "FINISHED"),
            ("jobs", "DONE/TOTAL"),
            ("failed", "FAILED"),
            ("running", "RUNNING"),
            ("queuing", "QUEUING"),
            ("SYPD", "SYPD"),
            ("ASYPD", "ASYPD"),
        ],
    )
    return f"{text}\n{len(runs)} run(s)"


PERFORMANCE_METRICS = ("SYPD", "ASYPD", "RSYPD", "CHSY", "JPSY", "Parallelization")


def cmd_performance(api: Api, args) -> Any:
    api.get(f"/v4/experiments/{segment(args.expid)}", label=args.expid)  # 404 for an unknown experiment
    body = api.get(f"/performance/{segment(args.expid)}", label=f"performance of {args.expid}")
    result = {key: value for key, value in body.items() if key not in ("error", "error_message")}
    if args.json:
        return result
    lines = [
        table(
            [{"metric": m, "value": result.get(m)} for m in PERFORMANCE_METRICS],
            [("metric", "METRIC"), ("value", "VALUE")],
        )
    ]
    considered = result.get("considered") or []
    lines += ["", f"Jobs considered: {len(considered)}"]
    if considered:
        lines.append(
            table(
                considered,
                [
                    ("name", "NAME"),
                    ("chunk", "CHUNK"),
                    ("queue", "QUEUE_S"),
                    ("running", "RUN_S"),
                    ("ncpus", "CPUS"),
                    ("SYPD", "SYPD"),
                    ("ASYPD", "ASYPD"),
                    ("CHSY", "CHSY"),
                    ("JPSY", "JPSY"),
                    ("energy", "ENERGY"),
                ],
            )
        )
    for warning in result.get("warnings_job_data") or []:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


COMMANDS = {
    "experiments": cmd_experiments,
    "status": cmd_status,
    "jobs": cmd_jobs,
    "logs": cmd_logs,
    "runs": cmd_runs,
    "performance": cmd_performance,
}


def main(argv: Optional[Sequence[str]] = None, env: Optional[Mapping[str, str]] = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (1), already printed
        return exc.code if isinstance(exc.code, int) else client_api.USAGE
    for name, default in (("json", False), ("url", None), ("config", None), ("timeout", None)):
        if not hasattr(args, name):
            setattr(args, name, default)
    try:
        config = client_api.load_config(
            os.environ if env is None else env, url=args.url, path=args.config, timeout=args.timeout
        )
        result = COMMANDS[args.command](Api(config), args)
    except ClientError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return client_api.INTERRUPTED
    if result is not None:
        if args.json:
            _print_json(result)
        else:
            print(result)
    return client_api.OK
