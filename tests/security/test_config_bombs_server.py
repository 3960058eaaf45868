"""Issue 14, item 5, against a real gunicorn server on loopback: configuration bombs (a long
string aliased 900,000 times in 2.8 MB, the 301 KB file that answered 100 MB, aliases up
to the byte cap, a billion laughs, `%KEY%` doubling, `FOR:` copies) are refused with a 422
(v4) or the `/cconfig` warning (v3), and cost each worker less than 100 MB of memory per
request. Memory is the worker's peak (VmHWM) against its resident size after warm-up, as in
test_bombs_server.py; times are in benchmarks/bench_yaml_bounds.py, not asserted here."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import pytest

from tests.factory import conf as factory_conf
from tests.factory import make_experiment, make_site
from tests.bombs import MB, peak_growth, resident_after_reset, worker_pids
from tests.security.server import site_server
from tests.security.test_bombs_server import MAX_GROWTH

pytestmark = [
    pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc for RSS"),
    pytest.mark.slow,  # real gunicorn servers, their memory measured
]

BOMBS = {
    "a001": lambda: factory_conf.aliased_string_yaml(5000, 900_000),
    "a002": lambda: factory_conf.aliased_string_yaml(1000, 100_000),
    "a003": lambda: factory_conf.aliased_string_yaml(5000, 600_000),
    "a004": lambda: factory_conf.nested_alias_yaml(9, 10),
    "a005": lambda: factory_conf.placeholder_chain_yaml(30),
    "a006": lambda: factory_conf.for_loop_yaml(3000, 3000),
}


def _get(url: str):
    """(status, JSON body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site = make_site(tmp_path_factory.mktemp("config-bombs") / "site")
    make_experiment(site, "a000")
    for expid, text in BOMBS.items():
        made = make_experiment(site, expid)
        (made.path / "conf" / "bomb.yml").write_text(text())
    with site_server(site, "config-bombs-test-secret-0123456789") as srv:
        yield srv


def _warm(server) -> dict:
    for _ in range(6):
        assert _get(f"{server.base}/v4/experiments/a000/filesystem-config")[0] == 200
    workers = worker_pids(server.proc.pid)
    assert workers, "no gunicorn worker found"
    return resident_after_reset(workers)


@pytest.mark.parametrize("expid", sorted(BOMBS))
def test_a_configuration_bomb_is_refused_and_costs_a_worker_less_than_100_mb(server, expid):
    base = _warm(server)
    for _ in range(2):  # both workers, or one twice: the second answer is remembered
        status, body = _get(f"{server.base}/v4/experiments/{expid}/filesystem-config")
        assert status == 422 and set(body) == {"error", "error_message"}, body
        assert "refused" in body["error_message"]
        status, legacy = _get(f"{server.base}/v3/cconfig/{expid}")
        assert status == 200 and legacy["warning"] is True and "refused" in legacy["warning_message"]
    for pid, growth in peak_growth(base).items():
        print(f"{expid}: worker {pid} peak growth {growth / MB:.1f} MB")
        assert growth < MAX_GROWTH, f"worker {pid} grew {growth / MB:.0f} MB on {expid}"
