"""Which rows of the 4.2.0 captures pass now:
`python -m tests.compat.report42 [--site as42|pg4117|pg42] [--route TEXT] [-v] [--write-pending]`.

Run from the checkout root with the dev venv (the PostgreSQL sites need the server of
tests/compat/golden42.py, PG_ADMIN_URL). It replays every row of each chosen site
(default: all three) and prints the failing rows grouped by reason, then the PENDING42
rows that pass now and the rows outside PENDING42 that fail. `--write-pending` rewrites
tests/compat/pending42.py for the chosen sites from the rows failing now (the other sites'
lists are kept), each row with the reason `reason_of` gives it: after a merge, one command
refreshes the lists; review the diff before committing.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

os.environ["TZ"] = "UTC"
time.tzset()

from tests.compat.golden42 import SITES, Harness42, Row42, pg_reachable, route_key  # noqa: E402
from tests.compat.pending42 import PENDING42  # noqa: E402
from tests.conftest import shared_dir  # noqa: E402

PENDING_FILE = Path(__file__).with_name("pending42.py")

# Fields 4.2.0 added that issue 13 brings (the current GUI reads them).
ISSUE13_KEYS = frozenset(
    {
        "split",
        "splits",
        "workflow_commit",
        "minutes_queue",
        "SY",
        "Total_energy",
        "Total_footprint",
        "footprint",
        "platform_info",
        "CHSY",
        "Parallelization",
        "pagination",
        "HPCLOGDIR",
        "HPCROOTDIR",
        "DESCRIPTION",
        "date",
    }
)
JOB_LIST_MISSING = re.compile(r"job_list_\w+\.pkl not found|has no job list|couldn't open pkl")
EXPID = re.compile(r"\b(a9m[0-9]|a8p[0-9]|a9p[0-9]|zzzz)")


def reason_of(site: str, row: Row42, problem: str) -> str:
    """A short, stable reason for a failing row (no paths of this run, no expids)."""
    text = problem.split("): ", 1)[-1]
    if JOB_LIST_MISSING.search(text):
        where = "public.job_pkl" if site == "pg4117" else "the 4.2 job list"
        return f"{where} not read yet (issue 12)"
    if "the database changed" in text:
        return "the database changed while answering (issue 12: never a write)"
    if text.startswith("server error"):
        return f"500 on {route_key(row.path)} (issue 12)"
    missing = re.match(r"at (\S+): key 4\.2\.0 sends is missing", text)
    if missing:
        if _last_key(missing.group(1)) in ISSUE13_KEYS:
            return f"4.2.0-only field {_last_key(missing.group(1))} (issue 13)"
        return f"{route_key(row.path)}: key {_generic(missing.group(1))} missing"
    diff = re.match(r"at (\S+): ([^:(]+)", text)
    if diff:
        if _last_key(diff.group(1)) in ISSUE13_KEYS and "4.0.1 never had" in text:
            return f"4.2.0's value of {_last_key(diff.group(1))} (issue 13)"
        return f"{route_key(row.path)}: {_generic(diff.group(1))}: {diff.group(2).strip()}"
    message = re.search(r"error_message (\".{0,70})", text)
    if message:
        return f"{route_key(row.path)}: error instead of data: {EXPID.sub('<e>', message.group(1))}"
    return f"{route_key(row.path)}: {EXPID.sub('<e>', text)[:90]}"


def _last_key(path: str) -> str:
    return re.split(r"[.\]\[]", path.rstrip("]"))[-1].strip('"')


def _generic(path: str) -> str:
    path = re.sub(r"\[\d+\]", "[*]", path)
    return EXPID.sub("<e>", re.sub(r"\[(\w+)=[^\]]*\]", r"[\1=*]", path))


def run_site(shared: Path, site: str, route: str, base: str) -> List[Tuple[Row42, Optional[str]]]:
    def new_dir(name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=name, dir=base))

    harness = Harness42(shared, SITES[site], new_dir)
    try:
        results = []
        for row in harness.rows.values():
            if route not in row.path:
                continue
            try:
                problem = harness.check(row)
            except Exception as exc:  # one broken route must not hide the other rows
                problem = f"{row.describe()} ({row.file}): raised {type(exc).__name__}: {exc}"
            results.append((row, problem))
        return results
    finally:
        harness.close()


def pending_source(lists: Dict[str, Dict[str, str]]) -> str:
    """pending42.py with the given lists, rows grouped by reason."""
    head, _, _ = PENDING_FILE.read_text(encoding="utf-8").partition("PENDING42 = ")
    lines = [head.rstrip() + "\n", "", "PENDING42 = {"]
    for site in SITES:
        lines.append(f'    "{site}": {{')
        groups: "OrderedDict[str, List[str]]" = OrderedDict()
        entries = sorted(lists.get(site, {}).items(), key=lambda item: (item[1], item[0]))
        for name, reason in entries:
            groups.setdefault(reason, []).append(name)
        for reason, names in groups.items():
            lines.append(f"        **_rows(\n            {_quote(reason)},")
            lines.extend(f"            {_quote(name)}," for name in names)
            lines.append("        ),")
        lines.append("    },")
    lines += ["}", ""]
    return "\n".join(lines)


def _quote(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", action="append", choices=sorted(SITES), help="default: all")
    parser.add_argument("--route", default="", help="only rows whose path contains TEXT")
    parser.add_argument("-v", "--verbose", action="store_true", help="full failure messages")
    parser.add_argument("--write-pending", action="store_true", help="rewrite pending42.py")
    args = parser.parse_args(argv)
    if args.write_pending and args.route:
        parser.error("--write-pending replays every row: drop --route")
    if not args.verbose:
        logging.disable(logging.CRITICAL)
    shared = shared_dir()
    sites = args.site or list(SITES)
    new_lists = {site: dict(PENDING42.get(site, {})) for site in SITES}
    exit_code = 0
    with tempfile.TemporaryDirectory(prefix="golden42-report-") as base:
        for site in sites:
            spec = SITES[site]
            if not (shared / spec.golden / "index.tsv").is_file():
                print(f"== {site}: no capture under {shared / spec.golden}", file=sys.stderr)
                exit_code = 2
                continue
            if spec.postgres and not pg_reachable():
                print(f"== {site}: no PostgreSQL reachable (psql and the server)", file=sys.stderr)
                exit_code = 2
                continue
            results = run_site(shared, site, args.route, base)
            failing = {row.file: reason_of(site, row, p) for row, p in results if p}
            _print_site(site, results, failing, args.verbose)
            new_lists[site] = failing
    if args.write_pending:
        PENDING_FILE.write_text(pending_source(new_lists), encoding="utf-8")
        print(f"wrote {PENDING_FILE}: " + ", ".join(f"{s} {len(new_lists[s])}" for s in SITES))
    return exit_code


def _print_site(site: str, results, failing: Dict[str, str], verbose: bool) -> None:
    pending = PENDING42.get(site, {})
    print(f"== {site}: {len(results) - len(failing)} of {len(results)} rows pass")
    groups: "OrderedDict[str, list]" = OrderedDict()
    for row, problem in results:
        if problem:
            groups.setdefault(failing[row.file], []).append((row, problem))
    for reason, items in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        print(f"  {len(items):3d}  {reason}")
        for row, problem in items:
            mark = "" if row.file in pending else "  [NOT PENDING: regression]"
            print(f"         {row.file}{mark}")
            if verbose:
                print(f"           {problem}")
    replayed = {row.file for row, _ in results}
    now_pass = sorted(name for name in pending if name not in failing and name in replayed)
    if now_pass:
        print(f"  PENDING rows that PASS now (remove them, or --write-pending): {len(now_pass)}")
        for name in now_pass:
            print(f"         {name}")


if __name__ == "__main__":
    sys.exit(main())
