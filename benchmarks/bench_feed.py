"""Benchmark of the v4 change feed and its event stream (docs/performance.md, "Change feed").

    python benchmarks/bench_feed.py [--jobs 50000] [--changed 100] [--work DIR] [--postgres URL]
    python benchmarks/bench_feed.py --sse [--subscribers 200] [--requests 400]

`since`: a site with one N-job experiment in the 4.2 layout (`db/job_list.db`) and one as an
F4 pickle is written with the factory (kept in --work). A fresh Python process serves them
through the WSGI test client: the first `since=` (full list), then Autosubmit saves
`--changed` jobs (4.2: rows saved again with a newer `modified`; pickle: the file rewritten)
and `since=<cursor>` is timed (wall and CPU) with its body size. For the pickle the new file
must be parsed by any view; the feed's own cost is timed after that parse, and the parse
separately. With --postgres the 4.2 experiment is also measured from a PostgreSQL copy.

`--sse`: a real server (`autosubmit_api start --streams S -w 1`, gthread) over the 4.2
experiment; ordinary GET traffic (4 client threads: the experiment's detail and
`jobs?since=<cursor>` polls) timed without subscribers, then with S subscribers connected
(raw sockets read by one selector thread); the worker's RSS before and with them; then
`--changed` rows are saved and the time until every subscriber has the `jobs` event is
measured (the interval is API_EVENTS_INTERVAL, 5 s by default). Figures are printed as
JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))  # for tests.factory

CHILD = r"""
import json, sys, time
from pathlib import Path
from autosubmit_api.app import create_app
from autosubmit_api.config import load_settings
from tests.factory import job_db as factory_db, workflow, Experiment, set_statuses, Site
from autosubmit_api.services.jobs import loading

rc, expid, kind, pg = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[6]
n_jobs, changed = int(sys.argv[4]), int(sys.argv[5])
env = {"AUTOSUBMIT_CONFIGURATION": rc, "PROTECTION_LEVEL": "NONE", "SECRET_KEY": "b" * 40}
settings = load_settings(env, dotenv=False)
client = create_app(settings).test_client()
url = f"/v4/experiments/{expid}/jobs"

def timed(since):
    t, c = time.perf_counter(), time.process_time()
    answer = client.get(url, query_string={"since": since})
    assert answer.status_code == 200, answer.data[:300]
    return answer, time.perf_counter() - t, time.process_time() - c

first, full_s, full_cpu = timed("")
cursor = first.get_json()["cursor"]
jobs = workflow.big_workflow(expid, n_jobs)
rows = jobs[1000:1000 + changed]
for job in rows:
    job.status = 4
parse_s = None
if kind == "pkl":
    made = Experiment(site=Site(Path(rc).parent), expid=expid, exp_id=0, jobs=jobs)
    set_statuses(made, {})
    t = time.perf_counter()
    loading.load_jobs(settings, expid)  # any view pays this parse of the new file
    parse_s = time.perf_counter() - t
elif pg:
    factory_db.update_jobs_postgres(pg, expid, rows, factory_db.modified_after(3600))
else:
    factory_db.update_jobs(rc.rsplit("/", 1)[0] + f"/{expid}/db/job_list.db", rows, factory_db.modified_after(3600))
answer, since_s, since_cpu = timed(cursor)
body = answer.get_json()
assert body["full"] is False and len(body["jobs"]) == changed, (body["full"], len(body["jobs"]))
_, again_s, _ = timed(body["cursor"])
print(json.dumps({"source": kind + ("-postgres" if pg else ""), "jobs": n_jobs, "changed": changed,
                  "full_answer_s": round(full_s, 3), "full_answer_cpu_s": round(full_cpu, 3),
                  "full_answer_mb": round(len(first.data) / 1e6, 2),
                  "pickle_parse_s": None if parse_s is None else round(parse_s, 3),
                  "since_ms": round(since_s * 1000, 2), "since_cpu_ms": round(since_cpu * 1000, 2),
                  "since_kb": round(len(answer.data) / 1e3, 1), "unchanged_since_ms": round(again_s * 1000, 2)}))
"""


def build(work: Path, n_jobs: int, fmt: str) -> Path:
    from tests.factory import make_experiment, make_site, workflow

    root = work / f"feed_{fmt}_{n_jobs}"
    if (root / ".autosubmitrc").is_file() and (root / "done").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    site = make_site(root)
    jobs = workflow.big_workflow("a000", n_jobs)
    if fmt == "DB":
        make_experiment(site, "a000", jobs, job_list_layout="db", autosubmit_version="4.2.0", job_data_version=0)
    else:
        make_experiment(site, "a000", jobs, pkl_format=fmt, job_data_version=0)
    (root / "done").write_text("")
    return root


def copy_of(root: Path, suffix: str) -> Path:
    copy = root.with_name(root.name + suffix)
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    (copy / ".autosubmitrc").write_text((root / ".autosubmitrc").read_text().replace(str(root), str(copy)))
    return copy


def measure(rc: Path, kind: str, n_jobs: int, changed: int, pg: str = "") -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(rc), "a000", kind, str(n_jobs), str(changed), pg],
        cwd=CHECKOUT,  # the child imports tests.factory
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_since(args) -> None:
    for fmt, kind in (("DB", "db"), ("F4", "pkl")):
        copy = copy_of(build(args.work, args.jobs, fmt), "_run")
        try:
            print(json.dumps(measure(copy / ".autosubmitrc", kind, args.jobs, args.changed)), flush=True)
        finally:
            shutil.rmtree(copy, ignore_errors=True)
    if args.postgres:
        import uuid

        import psycopg

        from tests.factory import Site
        from tests.factory import postgres as pgf

        name = "bench_" + uuid.uuid4().hex[:10]
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = args.postgres.rsplit("/", 1)[0] + "/" + name
        copy = copy_of(build(args.work, args.jobs, "DB"), "_pg")
        try:
            site = Site(copy)
            pgf.copy_site(site, url)
            pgf.remove_sqlite_files(site, ["a000"])
            pgf.write_pg_rc(site, url)
            print(json.dumps(measure(copy / ".autosubmitrc", "db", args.jobs, args.changed, url)), flush=True)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(copy, ignore_errors=True)


# --- --sse ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return answer.read()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def worker_pid(master: int) -> int:
    for _ in range(100):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        if int(handle.read().rsplit(")", 1)[1].split()[1]) == master:
                            return int(entry)
                except (OSError, IndexError, ValueError):
                    continue
        time.sleep(0.1)
    raise RuntimeError("no worker process")


def traffic(base: str, cursor: str, total: int, threads: int = 4) -> dict:
    urls = [f"{base}/v4/experiments/a000", f"{base}/v4/experiments/a000/jobs?since={cursor}"]
    times: list = []
    lock = threading.Lock()

    def run(n: int) -> None:
        for i in range(n):
            t = time.perf_counter()
            get(urls[i % 2])
            with lock:
                times.append(time.perf_counter() - t)

    workers = [threading.Thread(target=run, args=(total // threads,)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    times.sort()
    return {
        "requests": len(times),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 1),
    }


class Subscribers:
    """N raw SSE connections read by one selector thread; records when each saw an event."""

    def __init__(self, port: int, n: int, cursor: str):
        self.sel = selectors.DefaultSelector()
        self.seen: dict = {}
        self.buffers: dict = {}
        self.mark = None
        self.stop = False
        request = (
            f"GET /v4/experiments/a000/events?view=quick&since={cursor} HTTP/1.1\r\nHost: x\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
        self.socks = []
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(request)
            sock.setblocking(False)
            self.sel.register(sock, selectors.EVENT_READ)
            self.buffers[sock] = b""
            self.socks.append(sock)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            for key, _ in self.sel.select(0.5):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                buffer = self.buffers[key.fileobj] + data
                if self.mark is not None and key.fileobj not in self.seen and b"event: jobs" in buffer:
                    self.seen[key.fileobj] = time.monotonic()
                self.buffers[key.fileobj] = buffer[-64:]

    def connected(self) -> int:
        return sum(1 for s in self.socks if b"retry:" in self.buffers[s] or b"heartbeat" in self.buffers[s])

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        for sock in self.socks:
            sock.close()


def run_sse(args) -> None:
    root = copy_of(build(args.work, args.jobs, "DB"), "_sse")
    port = free_port()
    env = dict(
        os.environ,
        AUTOSUBMIT_CONFIGURATION=str(root / ".autosubmitrc"),
        PROTECTION_LEVEL="NONE",
        SECRET_KEY="b" * 40,
        DISABLE_BACKGROUND_TASKS="True",
    )
    cmd = [sys.executable, "-m", "autosubmit_api.cli", "start", "-b", f"127.0.0.1:{port}", "-w", "1"]
    cmd += ["--streams", str(args.subscribers)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                get(base + "/v4/health")
                break
            except OSError:
                time.sleep(0.2)
        cursor = json.loads(get(base + "/v4/experiments/a000/jobs?since="))["cursor"]
        worker = worker_pid(server.pid)
        traffic(base, cursor, 40)  # warm
        rss_before = rss_mb(worker)
        alone = traffic(base, cursor, args.requests)
        subs = Subscribers(port, args.subscribers, cursor)
        for _ in range(600):
            if subs.connected() == args.subscribers:
                break
            time.sleep(0.1)
        connected = subs.connected()
        rss_with = rss_mb(worker)
        loaded = traffic(base, cursor, args.requests)
        from tests.factory import job_db as factory_db
        from tests.factory import workflow

        rows = workflow.big_workflow("a000", args.jobs)[2000 : 2000 + args.changed]
        for job in rows:
            job.status = 4
        subs.mark = time.monotonic()
        factory_db.update_jobs(root / "a000" / "db" / "job_list.db", rows, factory_db.modified_after(7200))
        written = time.monotonic()
        deadline = written + 120
        while len(subs.seen) < args.subscribers and time.monotonic() < deadline:
            time.sleep(0.05)
        arrivals = sorted(t - written for t in subs.seen.values())
        rss_after = rss_mb(worker)
        subs.close()
        print(
            json.dumps(
                {
                    "subscribers": args.subscribers,
                    "connected": connected,
                    "jobs": args.jobs,
                    "ordinary_alone": alone,
                    "ordinary_with_subscribers": loaded,
                    "p95_ratio": round(loaded["p95_ms"] / alone["p95_ms"], 2),
                    "worker_rss_mb": {
                        "before": round(rss_before, 1),
                        "with_subscribers": round(rss_with, 1),
                        "after_event": round(rss_after, 1),
                    },
                    "event_reached": len(arrivals),
                    "event_first_s": round(arrivals[0], 2) if arrivals else None,
                    "event_last_s": round(arrivals[-1], 2) if arrivals else None,
                    "interval_s": 5,
                }
            ),
            flush=True,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "autosubmit_api_bench")
    parser.add_argument("--postgres", default="", help="admin URL of a PostgreSQL server (optional)")
    parser.add_argument("--sse", action="store_true", help="measure the event stream on a real server")
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    print(json.dumps({"machine": {"nproc": os.cpu_count(), "load": os.getloadavg()}}), flush=True)
    if args.sse:
        run_sse(args)
    else:
        run_since(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
