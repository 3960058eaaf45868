"""Load on a real server: process models side by side, optionally with event-stream subscribers
(docs/performance.md, "Process model"; docs/deployment.md, "Process model").

    python benchmarks/bench_server.py [--jobs 50000] [--work DIR] [--clients 8] [--rounds 20]
        [--model default=] [--model "sync2=-w 2 -k sync"] [--sse 200] [--encoding identity]

For each model (a name and the extra options of `autosubmit_api start`; default: the default
server and 4.0.1's usual two sync workers) it starts `autosubmit_api start` on a free loopback
port against a site with one N-job experiment (benchmarks/make_experiment.py, written once
into --work), with the background tasks off, and then:

1. cold: one request per route, one after the other (the first parses and renders);
2. warm: --clients client processes, each asking every route --rounds times in its own
   random order, one new connection per request; latency = from connecting to the last
   byte of the body. Whichever worker process or thread serves a request counts: a worker
   that has not parsed yet pays the cold cost inside this phase;
3. with --sse N: N event streams (`GET /v4/experiments/<expid>/events`) are opened and
   held by one more process while phase 2 runs again; the streams' answers (status, bytes
   received) are counted. A server without the route answers 404: reported, not fatal. The
   streams resume from the cursor of one `jobs?since=` request, as a page that has loaded the
   list does; with --sse-full each starts without a cursor and first receives every job.

Memory: the resident set (RSS) and the proportional set (PSS, shared pages split between the
processes sharing them, so the sum does not count the preloaded app once per worker) of the
server's whole process tree, sampled every 0.25 s; the peak and the value after each phase.
Prints one table per model and phase. The client processes share the machine with the server:
on a small VM their reading of the bodies competes with it for the cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import selectors
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_experiment  # noqa: E402

ROUTES = {
    "/v3/quick": "/v3/quick/{e}",
    "/v3/tree": "/v3/tree/{e}",
    "/v4/.../jobs": "/v4/experiments/{e}/jobs",
}
EVENTS = "/v4/experiments/{e}/events"
DEFAULT_MODELS = ("default=", "sync2=-w 2 -k sync")


# --- the server and its process tree ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> List[int]:
    out: List[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def tree(pid: int) -> List[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(children(p))
    return pids


def memory(pid: int) -> Tuple[int, int, int]:
    """(RSS, PSS, processes) of the process tree under pid, in bytes."""
    rss = pss = n = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
            n += 1
        except OSError:
            continue
    return rss, pss, n


def threads_of(pid: int) -> Dict[int, int]:
    """{pid: threads} of the tree."""
    out = {}
    for p in tree(pid):
        try:
            out[p] = len(os.listdir(f"/proc/{p}/task"))
        except OSError:
            continue
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the process tree under pid so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_rss, self.peak_pss = pid, 0, 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.25):
            rss, pss, _ = memory(self.pid)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)


def start_server(site: Path, options: str, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, AUTOSUBMIT_CONFIGURATION=str(site / ".autosubmitrc"), TZ="UTC", PROTECTION_LEVEL="NONE")
    command = [sys.executable, "-m", "autosubmit_api.cli", "start", "-b", f"127.0.0.1:{port}", "--disable-bg-tasks"]
    command += shlex.split(options)
    proc = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see {log}")
        try:
            status, _, _, _ = get(port, "/v4/health")
            if status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not answer in 120 s; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- clients ---------------------------------------------------------------------------------


_buffer = bytearray(1 << 20)


def get(port: int, path: str, encoding: str = "identity", timeout: float = 600) -> Tuple[int, int, float, float]:
    """(status, body bytes, seconds to the first byte, seconds to the last) of one GET on a new
    connection. A plain socket read into one reused buffer, so the client's own work is the
    kernel's copy (http.client's reader doubled the time of a 61 MB body here)."""
    global _buffer
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: {encoding}\r\nConnection: close\r\n"
        sock.sendall(head.encode() + b"\r\n")
        head = b""
        first = None
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            if first is None:
                first = time.perf_counter() - started
            if not chunk:
                raise ConnectionError(f"no answer to {path}")
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        received = len(rest)
        if length is not None and len(_buffer) < length:
            _buffer = bytearray(length)
        view = memoryview(_buffer)
        while length is None or received < length:
            n = sock.recv_into(view[received:] if length is not None else view)
            if not n:
                break
            received += n
    return status, received, first, time.perf_counter() - started


def client(job) -> List[Tuple[str, int, float, float]]:
    port, paths, rounds, encoding, seed = job
    rng = random.Random(seed)
    out = []
    for _ in range(rounds):
        order = list(paths.items())
        rng.shuffle(order)
        for name, path in order:
            status, _, first, seconds = get(port, path, encoding)
            out.append((name, status, first, seconds))
    return out


def warm(port: int, paths: Dict[str, str], clients: int, rounds: int, encoding: str):
    """{route: [(first byte s, last byte s)]} of the 200 answers."""
    jobs = [(port, paths, rounds, encoding, seed) for seed in range(clients)]
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(client, jobs)
    times: Dict[str, List[Tuple[float, float]]] = {name: [] for name in paths}
    bad = 0
    for rows in results:
        for name, status, first, seconds in rows:
            if status == 200:
                times[name].append((first, seconds))
            else:
                bad += 1
    if bad:
        print(f"  warning: {bad} answers were not 200", flush=True)
    return times


def subscribers(port: int, path: str, count: int, ready: "multiprocessing.Queue", stop: "multiprocessing.Event"):
    """Hold `count` event streams open in one thread (a selector), reading what comes."""
    sel = selectors.DefaultSelector()
    heads: Dict[socket.socket, bytes] = {}
    statuses: Dict[int, int] = {}
    received = 0
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
        s.setblocking(False)
        heads[s] = b""
        sel.register(s, selectors.EVENT_READ)
    answered = 0
    reported = False
    deadline = time.monotonic() + 60
    while not stop.is_set():
        for key, _ in sel.select(0.2):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except (BlockingIOError, ConnectionError):
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                continue
            received += len(data)
            if s in heads:
                heads[s] += data
                if b"\r\n" in heads[s]:
                    status = int(heads[s].split(b" ", 2)[1])
                    statuses[status] = statuses.get(status, 0) + 1
                    del heads[s]
                    answered += 1
        if not reported and (answered == count or time.monotonic() > deadline):
            ready.put(dict(statuses))
            reported = True
    open_streams = len(sel.get_map())
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    ready.put({"received": received, "open": open_streams})


# --- figures ------------------------------------------------------------------------------------


def cursor(port: int, expid: str) -> str:
    """The change feed's cursor now (one full `jobs?since=` answer), "" when there is none."""
    url = f"http://127.0.0.1:{port}/v4/experiments/{expid}/jobs?since="
    try:
        with urllib.request.urlopen(url, timeout=600) as response:
            return json.loads(response.read()).get("cursor") or ""
    except (OSError, ValueError):
        return ""


def pct(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def table(cold: Dict[str, float], times, sizes: Dict[str, int]) -> str:
    lines = [
        "| route | body | cold s | warm n | p50 ms | p95 ms | max ms | first byte p50 / p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows in times.items():
        if not rows:
            lines.append(f"| `{name}` | | {cold.get(name, 0):.2f} | 0 | | | | |")
            continue
        total = [t for _, t in rows]
        first = [f for f, _ in rows]
        lines.append(
            f"| `{name}` | {sizes.get(name, 0) / 1e6:.1f} MB | {cold.get(name, 0):.2f} | {len(rows)} "
            f"| {statistics.median(total) * 1000:.0f} | {pct(total, 0.95) * 1000:.0f} | {max(total) * 1000:.0f} "
            f"| {statistics.median(first) * 1000:.0f} / {pct(first, 0.95) * 1000:.0f} |"
        )
    return "\n".join(lines)


def mb(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def run_model(name: str, options: str, site: Path, expid: str, args, work: Path) -> None:
    port = free_port()
    log = work / f"server-{name}.log"
    paths = {route: path.format(e=expid) for route, path in ROUTES.items()}
    print(f"\n## model {name}: autosubmit_api start {options}".rstrip(), flush=True)
    proc = start_server(site, options, port, log)
    sampler = Sampler(proc.pid)
    sampler.start()
    try:
        rss, pss, n = memory(proc.pid)
        print(f"started: {n} processes, RSS {mb(rss)}, PSS {mb(pss)}; threads {threads_of(proc.pid)}", flush=True)
        cold, sizes = {}, {}
        for route, path in paths.items():
            status, size, _, seconds = get(port, path, args.encoding)
            cold[route], sizes[route] = seconds, size
            if status != 200:
                print(f"  warning: cold {route} answered {status}", flush=True)
        rss, pss, n = memory(proc.pid)
        print(f"after one cold request per route: RSS {mb(rss)}, PSS {mb(pss)}", flush=True)
        cpu, started = cpu_seconds(proc.pid), time.perf_counter()
        times = warm(port, paths, args.clients, args.rounds, args.encoding)
        cpu, wall = cpu_seconds(proc.pid) - cpu, time.perf_counter() - started
        rss, pss, n = memory(proc.pid)
        answers = sum(len(v) for v in times.values())
        print(
            f"warm, {args.clients} clients x {args.rounds} rounds (Accept-Encoding: {args.encoding}); "
            f"after it RSS {mb(rss)}, PSS {mb(pss)} in {n} processes; threads {threads_of(proc.pid)}; "
            f"{wall:.1f} s, server CPU {cpu:.2f} s ({1000 * cpu / max(answers, 1):.1f} ms per answer)"
        )
        print(table(cold, times, sizes), flush=True)
        if args.sse:
            ctx = multiprocessing.get_context("spawn")
            ready, stop = ctx.Queue(), ctx.Event()
            events = EVENTS.format(e=expid)
            if not args.sse_full:
                events += "?since=" + urllib.parse.quote(cursor(port, expid), safe="")
            holder = ctx.Process(target=subscribers, args=(port, events, args.sse, ready, stop))
            holder.start()
            statuses = ready.get(timeout=120)
            print(f"{args.sse} event streams opened: answers {statuses}", flush=True)
            rss, pss, n = memory(proc.pid)
            print(f"with the streams open: RSS {mb(rss)}, PSS {mb(pss)}; threads {threads_of(proc.pid)}", flush=True)
            times_sse = warm(port, paths, args.clients, args.rounds, args.encoding)
            rss, pss, n = memory(proc.pid)
            stop.set()
            summary = ready.get(timeout=60)
            holder.join(30)
            print(
                f"warm again with {args.sse} streams open ({summary['open']} still open at the end, "
                f"{summary['received']:,} bytes received); after it RSS {mb(rss)}, PSS {mb(pss)}"
            )
            print(table({}, times_sse, sizes), flush=True)
    finally:
        sampler.stop.set()
        sampler.join()
        stop_server(proc)
    print(f"peak over the run: RSS {mb(sampler.peak_rss)}, PSS {mb(sampler.peak_pss)}", flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench_server")
    parser.add_argument("--expid", default="a000")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=20, help="requests per route and client")
    parser.add_argument("--encoding", default="identity", help="Accept-Encoding of every request")
    parser.add_argument("--sse", type=int, default=0, help="event streams held open in a second warm phase")
    parser.add_argument("--sse-full", action="store_true", help="streams start without a cursor (every job first)")
    parser.add_argument(
        "--model",
        action="append",
        help="NAME=OPTIONS of `autosubmit_api start` (repeatable; default: 'default=' and 'sync2=-w 2 -k sync')",
    )
    args = parser.parse_args(argv)
    site = args.work / f"site_{args.jobs}"
    if not (site / "autosubmit.db").exists():
        site.mkdir(parents=True, exist_ok=True)
        make_experiment.build(site, args.jobs, expid=args.expid)
    loadavg = os.getloadavg()
    print(f"# {args.jobs:,}-job experiment {args.expid}; {os.cpu_count()} CPUs; load average {loadavg[0]:.1f}")
    for model in args.model or DEFAULT_MODELS:
        name, _, options = model.partition("=")
        run_model(name, options, site, args.expid, args, args.work)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
