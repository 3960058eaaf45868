"""Which golden rows pass now: `python -m tests.compat.report [--all] [--route TEXT] [-v]`.

Run from the checkout root with the dev venv. By default it replays only the PENDING rows
(tests/compat/pending.py) and prints, grouped by route, those that pass now (remove them
from PENDING) and those still failing with their first difference. `--all` replays every
row and also lists rows outside PENDING that fail (regressions). `--write-pending` rewrites
pending.py from the rows failing now, `--prune` only removes the PENDING rows that pass now
(both edit tests/compat/pending.py in place; review the diff before committing). `--v42`
checks the keys upstream 4.2.0 added instead (test_keys_4_2_added).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

os.environ["TZ"] = "UTC"
time.tzset()

from tests.compat.golden import Harness, Row, load_rows, split_route  # noqa: E402
from tests.compat.pending import PENDING  # noqa: E402
from tests.conftest import shared_dir  # noqa: E402

PENDING_FILE = Path(__file__).with_name("pending.py")


def route_of(path: str) -> str:
    """A grouping key for a request path: the route module that should answer it."""
    version, segments = split_route(path)
    if not segments:
        return f"/{version}"
    if version == "v4" and segments[0] == "experiments" and len(segments) > 1:
        tail = f"/{segments[2]}" if len(segments) > 2 else ""
        return f"/v4/experiments/<e>{tail}"
    if version == "v4":
        return "/v4/" + "/".join(segments[:2])
    return f"/v3/{segments[0]}"


def run(rows: List[Row], harness: Harness) -> List[Tuple[Row, Optional[str]]]:
    results = []
    for row in rows:
        try:
            problem = harness.check(row)
        except Exception as exc:  # one broken route must not hide the other rows' results
            problem = f"{row.describe()} ({row.file}): raised {type(exc).__name__}: {exc}"
        results.append((row, problem))
    return results


def grouped(results) -> "OrderedDict[str, list]":
    groups: "OrderedDict[str, list]" = OrderedDict()
    for row, problem in sorted(results, key=lambda item: (route_of(item[0].path), item[0].file)):
        groups.setdefault(route_of(row.path), []).append((row, problem))
    return groups


def _print_groups(title: str, results, verbose: bool) -> None:
    print(f"== {title}: {len(results)} rows")
    for route, items in grouped(results).items():
        print(f"  {route} ({len(items)})")
        for row, problem in items:
            print(f"    {row.file}")
            if problem:
                text = problem if verbose else problem.splitlines()[0][:240]
                print(f"      {text}")


def pending_source(failing: List[Tuple[Row, str]]) -> str:
    """pending.py with the failing rows, one commented group per route."""
    head, _, _ = PENDING_FILE.read_text(encoding="utf-8").partition("PENDING = ")
    lines = [head.rstrip() + "\n", "", "PENDING = frozenset(", "    {"]
    for route, items in grouped(failing).items():
        reasons = [problem.split("): ", 1)[-1] for _, problem in items]
        if all(r.startswith("status 404,") for r in reasons):
            how = "not served yet (404)"
        else:
            how = "served, but e.g. " + reasons[0][:120].replace("\n", " ")
        lines.append(f"        # {route}: {how}")
        for row, _ in items:
            lines.append(f'        "{row.file}",')
    lines += ["    }", ")", ""]
    return "\n".join(lines)


def prune_source(text: str, passing: List[str]) -> str:
    """pending.py without the rows that pass, and without route comments left empty."""
    drop = {f'"{name}",' for name in passing}
    kept = [line for line in text.splitlines() if line.strip() not in drop]
    out: List[str] = []
    index = 0
    while index < len(kept):
        line = kept[index]
        if not line.strip().startswith("# /"):
            out.append(line)
            index += 1
            continue
        # A route comment and its continuation lines, dropped when no row follows them.
        end = index + 1
        while end < len(kept) and kept[end].strip().startswith("#") and not kept[end].strip().startswith("# /"):
            end += 1
        following = kept[end].strip() if end < len(kept) else ""
        if not (following.startswith("# /") or following == "}"):
            out.extend(kept[index:end])
        index = end
    return "\n".join(out) + "\n"


def report_v42(shared: Path, rows: List[Row], verbose: bool) -> int:
    """test_keys_4_2_added on the command line: the rows where 4.2.0 answered with data
    whose keys or added values we miss, PENDING_V42 or not."""
    from tests.compat.pending import PENDING_V42

    with tempfile.TemporaryDirectory(prefix="golden-report-") as base:
        harness = Harness(shared, lambda name: Path(tempfile.mkdtemp(prefix=name, dir=base)))
        judged = [row for row in rows if harness.v42_judged(row)]
        results = [(row, harness.check_v42(row)) for row in judged]
    failing = [(r, p) for r, p in results if p]
    _print_groups("rows differing from golden/v42 on the keys 4.2.0 added", failing, verbose)
    for row, _ in failing:
        if row.file in PENDING_V42:
            print(f"  (pending: {row.file}: {PENDING_V42[row.file]})")
    print(f"== {len(judged) - len(failing)} of {len(judged)} rows with 4.2.0 data pass")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="replay every row, not only PENDING")
    parser.add_argument("--route", default="", help="only rows whose path contains TEXT")
    parser.add_argument("-v", "--verbose", action="store_true", help="full failure messages")
    parser.add_argument("--prune", action="store_true", help="remove passing rows from pending.py")
    parser.add_argument("--write-pending", action="store_true", help="rewrite pending.py")
    parser.add_argument(
        "--v42", action="store_true", help="check the keys 4.2.0 added (golden/v42) instead of the 4.0.1 rows"
    )
    args = parser.parse_args(argv)

    if not args.verbose:
        # 500s log their traceback; the report already shows the answer's first difference.
        logging.disable(logging.CRITICAL)
    shared = shared_dir()
    if not (shared / "golden" / "index.tsv").is_file():
        print(f"no golden answers under {shared}", file=sys.stderr)
        return 2
    rows = load_rows(shared / "golden")
    if not (args.all or args.write_pending):
        rows = [row for row in rows if row.file in PENDING]
    rows = [row for row in rows if args.route in row.path]

    if args.v42:
        return report_v42(shared, [row for row in load_rows(shared / "golden") if args.route in row.path], args.verbose)
    with tempfile.TemporaryDirectory(prefix="golden-report-") as base:
        harness = Harness(shared, lambda name: Path(tempfile.mkdtemp(prefix=name, dir=base)))
        results = run(rows, harness)

    pending = [(r, p) for r, p in results if r.file in PENDING]
    others = [(r, p) for r, p in results if r.file not in PENDING]
    if args.prune:
        passing = [r.file for r, p in pending if p is None]
        PENDING_FILE.write_text(prune_source(PENDING_FILE.read_text("utf-8"), passing), "utf-8")
        print(f"removed {len(passing)} passing rows from {PENDING_FILE}")
    if args.write_pending:
        PENDING_FILE.write_text(pending_source([(r, p) for r, p in results if p]), "utf-8")
        print(f"wrote {PENDING_FILE} with {sum(1 for _, p in results if p)} rows")
        return 0
    _print_groups(
        "PENDING rows that PASS now (remove them from pending.py)",
        [(r, None) for r, p in pending if p is None],
        False,
    )
    _print_groups("PENDING rows still failing", [(r, p) for r, p in pending if p], args.verbose)
    if args.all:
        bad = [(r, p) for r, p in others if p]
        _print_groups("rows NOT in PENDING that FAIL (regressions)", bad, args.verbose)
        print(f"== rows not in PENDING that pass: {len(others) - len(bad)}")
    summary: Dict[str, int] = {
        "replayed": len(results),
        "passing": sum(1 for _, p in results if not p),
    }
    print(f"== {summary['passing']} of {summary['replayed']} replayed rows pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
