"""Benchmark of the bounded YAML reading (issue 14, item 5; docs/security.md).

    python benchmarks/bench_yaml_bounds.py [--pure] [--work DIR]

Each case writes one hostile or worst-case file into the configuration of a factory-made
experiment, then a fresh Python process asks `/v4/experiments/<expid>/filesystem-config`
twice through the app (Flask test client, the whole route: parse, merge, JSON answer) and
prints the status, the wall and CPU time of each request and the growth of the process's
peak RSS. `--pure` replaces libyaml with PyYAML's pure-Python parser (what a PyYAML built
without libyaml would use), with the same budget.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for tests.factory

from tests.factory import conf as factory_conf
from tests.factory import make_experiment, make_site
from autosubmit_api.readers.exp_config import config_files

CAP = config_files.MAX_CONFIG_BYTES
NODES = config_files.MAX_CONFIG_NODES

CASES = {
    # The files. `room` is what the byte cap leaves once the experiment's other
    # configuration files are counted (the budget is per configuration).
    "aliased 5,000 chars x 900,000 (2.8 MB)": lambda room: factory_conf.aliased_string_yaml(5000, 900_000),
    "aliased 1,000 chars x 100,000 (301 KB)": lambda room: factory_conf.aliased_string_yaml(1000, 100_000),
    "aliased 5,000 chars x (cap / 3)": lambda room: factory_conf.aliased_string_yaml(5000, (room - 5100) // 3),
    "billion laughs (9 levels x 10)": lambda room: factory_conf.nested_alias_yaml(9, 10),
    # Worst cases the caps must keep well under a second (at or just over a cap).
    "values just under the value cap (1-char list)": lambda room: factory_conf.many_values_yaml(NODES - 1000),
    "1-char values up to the byte cap": lambda room: factory_conf.many_values_yaml(room // 2 - 10),
    "empty mappings up to the byte cap": lambda room: "E: [" + "{}," * (room // 3 - 10) + "{}]\n",
    "tagged values up to the byte cap": lambda room: "T: [" + "!a ," * (room // 4 - 10) + "a]\n",
    "one string up to the byte cap": lambda room: "S: " + "y" * (room - 10) + "\n",
    "comments up to the byte cap": lambda room: "#\n" * (room // 2 - 10) + "C: 1\n",
    "15 MB of values (the issue's 53 s file)": lambda room: factory_conf.many_values_yaml(7_500_000),
}

CHILD = r"""
import json, resource, sys, time
pure = sys.argv[3] == "1"
from autosubmit_api.app import create_app
from autosubmit_api.config import load_settings
from autosubmit_api.readers.exp_config import config_files
if pure:
    config_files._Loader = config_files.LOADERS["python"]
settings = load_settings({"AUTOSUBMIT_CONFIGURATION": sys.argv[1], "PROTECTION_LEVEL": "NONE",
                          "SECRET_KEY": "x" * 40}, dotenv=False, testing=True)
client = create_app(settings).test_client()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = []
for _ in range(2):
    c, t = time.process_time(), time.perf_counter()
    resp = client.get(f"/v4/experiments/{sys.argv[2]}/filesystem-config")
    body = resp.get_data()
    out.append({"status": resp.status_code, "wall": time.perf_counter() - t, "cpu": time.process_time() - c,
                "bytes": len(body), "message": (resp.get_json() or {}).get("error_message", "")[:90]})
out.append({"rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024})
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pure", action="store_true", help="pure-Python YAML parser instead of libyaml")
    parser.add_argument("--work", help="directory for the sites (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-yaml-"))
    print(
        f"caps: {CAP // 2**20} MiB of YAML, {NODES} values, {config_files.MAX_EXPANDED_COST // 2**20} MiB "
        f"expanded; parser: {'pure Python' if args.pure else config_files._Loader.__mro__[2].__name__}"
    )
    print(f"{'case':52s} {'file':>9s} {'status':>6s} {'1st s':>6s} {'cpu s':>6s} {'2nd s':>6s} {'RSS+MB':>7s} answer")
    for index, (name, make) in enumerate(CASES.items()):
        site = make_site(work / f"site{index}")
        made = make_experiment(site, "a000")
        others = sum(p.stat().st_size for p in (made.path / "conf").glob("*.yml"))
        text = make(CAP - others)
        (made.path / "conf" / "case.yml").write_text(text)
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(site.rc_path), "a000", "1" if args.pure else "0"],
            capture_output=True,
            text=True,
            env=dict(os.environ, TZ="UTC"),
        )
        if result.returncode != 0:
            print(f"{name:52s} FAILED: {result.stderr.strip().splitlines()[-1:]}")
            continue
        first, second, rss = json.loads(result.stdout.strip().splitlines()[-1])
        answer = first["message"] or f"{first['bytes']} bytes"
        print(
            f"{name:52s} {len(text) / 1e6:8.2f}M {first['status']:6d} {first['wall']:6.2f} {first['cpu']:6.2f} "
            f"{second['wall']:6.3f} {rss['rss_growth_mb']:7.1f} {answer}"
        )


if __name__ == "__main__":
    main()
