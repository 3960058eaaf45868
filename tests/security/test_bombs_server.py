"""Issue 14, item 4, against a real gunicorn server on loopback: log bombs (a small .gz of
2 MB lines, a gigabyte of zeros as .gz/.xz/.bz2, a plain log of 1 MB lines) cost each
worker less than 100 MB of memory per request, alone and two at once, and the answers stay
within the log bounds. The memory is the worker's peak (VmHWM) against its resident size
after warm-up, so the figure holds whatever the timing; the time of each answer is measured
in benchmarks/bench_hostile.py, not asserted here."""

from __future__ import annotations

import os
import threading
import urllib.request

import pytest

from tests.bombs import BOMBS, MB, log_bomb_site, peak_growth, resident_after_reset, worker_pids
from tests.security.server import site_server

pytestmark = [
    pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc for RSS"),
    pytest.mark.slow,  # real gunicorn servers, their memory measured
]

# Well above what the bounds allow (2 MiB kept, 64 MiB streamed in 64 KiB blocks), far below
# what the unbounded reads cost (gigabytes): a margin that does not depend on the machine.
MAX_GROWTH = 100 * MB
MAX_ANSWER = 4 * MB


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        assert response.status == 200
        return response.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site = log_bomb_site(tmp_path_factory.mktemp("bombs") / "site")
    with site_server(site, "bombs-test-secret-key-0123456789") as srv:
        yield srv


def _urls(base: str, name: str) -> list:
    return [f"{base}/joblog/{name}", f"{base}/v4/experiments/a000/logs/{name}?tail=10000"]


def _warm(server) -> dict:
    """Every worker has served a normal log a few times; its resident size now."""
    for _ in range(6):
        for url in _urls(server.base, "a000_OK.1.out"):
            _fetch(url)
    workers = worker_pids(server.proc.pid)
    assert workers, "no gunicorn worker found"
    return resident_after_reset(workers)


@pytest.mark.parametrize("name", BOMBS)
def test_a_bomb_costs_a_worker_less_than_100_mb(server, name):
    base = _warm(server)
    for url in _urls(server.base, name):
        assert len(_fetch(url)) < MAX_ANSWER
    for pid, growth in peak_growth(base).items():
        print(f"{name}: worker {pid} peak growth {growth / MB:.1f} MB")
        assert growth < MAX_GROWTH, f"worker {pid} grew {growth / MB:.0f} MB on {name}"


def test_two_bombs_at_once_stay_bounded(server):
    base = _warm(server)
    sizes = []
    threads = [
        threading.Thread(target=lambda u=url: sizes.append(len(_fetch(u))))
        for url in _urls(server.base, "a000_LONG.1.out.gz")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(sizes) == 2 and max(sizes) < MAX_ANSWER
    for growth in peak_growth(base).values():
        assert growth < MAX_GROWTH
