"""The default process model of `autosubmit_api start` (docs/deployment.md, "Process model"):
one worker process whose threads share one cache, and one parse per key when threads miss
it together (single flight, readers/cache.py)."""

import os
import socket
import threading
import time
import urllib.request

import pytest

from autosubmit_api import cli
from autosubmit_api.readers import cache
from autosubmit_api.services.jobs import loading
from tests.test_cli import clean_env, print_config, serving
from tests.test_cli_gunicorn import site_env  # noqa: F401 - the fixture

DEADLINE = 30


def wait_for(condition, what):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


# --- single flight ---------------------------------------------------------------------------


def _two_threads_miss_together(call, flight_key):
    """Thread A's compute blocks until thread B waits on the same key; returns what each got
    and how many times each compute ran."""
    release = threading.Event()
    runs = {"a": 0, "b": 0}
    results = {}

    def compute_a():
        runs["a"] += 1
        assert release.wait(DEADLINE)
        return ["parsed by a"]

    def compute_b():
        runs["b"] += 1
        return ["parsed by b"]

    a = threading.Thread(target=lambda: results.__setitem__("a", call(compute_a)))
    b = threading.Thread(target=lambda: results.__setitem__("b", call(compute_b)))
    a.start()
    wait_for(lambda: runs["a"] == 1, "thread a computing")
    b.start()
    wait_for(lambda: cache.in_flight(flight_key) == 2, "thread b waiting on the flight")
    release.set()
    a.join(DEADLINE)
    b.join(DEADLINE)
    return results, runs


def test_two_threads_missing_one_key_compute_it_once():
    key = ("/exp/a000/pkl/job_list_a000.pkl", 1, 2)
    results, runs = _two_threads_miss_together(lambda f: cache.cached("job_list", key, f), ("job_list", key))
    assert runs == {"a": 1, "b": 0}
    assert results["a"] is results["b"] and results["a"] == ["parsed by a"]
    assert cache.in_flight(("job_list", key)) == 0
    assert cache.get("job_list", key) is results["a"]


def test_two_threads_missing_one_view_build_it_once():
    slot_key = ("inputs",)
    slot = ("tree", "/exp/a000", ("params",))

    def call(compute):
        return loading.stored("tree", "/exp/a000", ("params",), slot_key, compute)

    results, runs = _two_threads_miss_together(call, ("view", slot, slot_key))
    assert runs == {"a": 1, "b": 0}
    assert results["a"] is results["b"]


def test_a_failed_compute_is_not_stored_and_the_waiter_computes_itself():
    key = ("k",)
    release = threading.Event()
    got = {}

    def failing():
        assert release.wait(DEADLINE)
        raise OSError("unreadable")

    def attempt_a():
        try:
            cache.cached("job_list", key, failing)
        except OSError as exc:
            got["a"] = exc

    a = threading.Thread(target=attempt_a)
    a.start()
    wait_for(lambda: cache.in_flight(("job_list", key)) == 1, "thread a computing")
    b = threading.Thread(target=lambda: got.__setitem__("b", cache.cached("job_list", key, lambda: "second try")))
    b.start()
    wait_for(lambda: cache.in_flight(("job_list", key)) == 2, "thread b waiting")
    release.set()
    a.join(DEADLINE)
    b.join(DEADLINE)
    assert isinstance(got["a"], OSError) and got["b"] == "second try"


def test_overlapping_gc_pauses_of_two_threads_end_with_the_last():
    import gc

    from autosubmit_api.readers.job_build import paused_gc

    assert gc.isenabled()
    first_in, second_out = threading.Event(), threading.Event()
    seen = {}

    def first():
        with paused_gc():
            first_in.set()
            assert second_out.wait(DEADLINE)
            seen["after the second ended"] = gc.isenabled()

    t = threading.Thread(target=first)
    t.start()
    assert first_in.wait(DEADLINE)
    with paused_gc():
        seen["inside the second"] = gc.isenabled()
    second_out.set()
    t.join(DEADLINE)
    assert seen == {"inside the second": False, "after the second ended": False}
    assert gc.isenabled()


# --- the defaults of start ---------------------------------------------------------------------


def _config(env, *args):
    values = print_config(env, *args)
    return values["workers"], values["worker_class"], values["threads"]


@pytest.mark.slow
def test_the_default_model_and_what_overrides_it(site_env, tmp_path):  # noqa: F811
    env = {k: v for k, v in site_env.items() if k != "WEB_CONCURRENCY"}
    assert _config(env) == ("1", "gthread", str(cli.DEFAULT_THREADS))
    # 4.0.1's start command: -w N processes, each with the default threads.
    assert _config(env, "-w", "3") == ("3", "gthread", str(cli.DEFAULT_THREADS))
    # Naming a worker class or a thread count anywhere leaves gunicorn's default for the other.
    assert _config(env, "-k", "sync") == ("1", "sync", "1")
    assert _config(env, "--threads", "4") == ("1", "sync", "4")
    conf = tmp_path / "site.conf.py"
    conf.write_text("worker_class = 'sync'\nworkers = 2\n")
    assert _config(env, "-c", str(conf)) == ("2", "sync", "1")
    assert _config({**env, "GUNICORN_CMD_ARGS": "--threads 9"}) == ("1", "sync", "9")
    assert _config({**env, "GUNICORN_CMD_ARGS": "-w 2"}) == ("2", "gthread", str(cli.DEFAULT_THREADS))


def test_the_model_defaults_step_aside_for_a_named_worker_class():
    args = cli.build_parser().parse_args(["start"])
    assert cli.model_defaults(cli.gunicorn_options(args)) == {"worker_class": "gthread", "threads": 256}
    args = cli.build_parser().parse_args(["start", "-k", "gevent"])
    assert cli.model_defaults(cli.gunicorn_options(args)) == {}


# --- a real server -------------------------------------------------------------------------------


def _children(pid):
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out.extend(int(c) for c in f.read().split())
    return out


def _held_request(port):
    """A connection whose request never ends: it holds whatever serves it."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /v4/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_the_default_server_is_one_worker_process_serving_requests_side_by_side(site_env):  # noqa: F811
    env = {k: v for k, v in clean_env(**site_env).items() if k != "WEB_CONCURRENCY"}
    with serving(env, "--disable-bg-tasks") as srv:
        wait_for(lambda: len(_children(srv.proc.pid)) == 1, "the worker")
        workers = _children(srv.proc.pid)
        # Two requests that never finish hold two threads; a third is still answered, by the
        # same single process (a sync worker would wait for the first forever).
        held = [_held_request(srv.port), _held_request(srv.port)]
        try:
            with urllib.request.urlopen(srv.base + "/v4/health", timeout=DEADLINE) as response:
                assert response.status == 200
            assert _children(srv.proc.pid) == workers
        finally:
            for sock in held:
                sock.close()


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_workers_given_explicitly_are_respected(site_env):  # noqa: F811
    env = {k: v for k, v in clean_env(**site_env).items() if k != "WEB_CONCURRENCY"}
    with serving(env, "--disable-bg-tasks", "-w", "2") as srv:
        wait_for(lambda: len(_children(srv.proc.pid)) == 2, "two workers")
        assert len(_children(srv.proc.pid)) == 2


def test_threads_asking_a_body_with_holes_in_one_new_second_share_one_version():
    import sys

    from autosubmit_api.services.rendered import Live, render

    rendered = render({"running": Live("t"), "name": "a000_SIM"})
    release = threading.Event()
    resolved = []
    got = {}

    def resolver_a(now):
        def resolve(keys):
            resolved.append("a")
            assert release.wait(DEADLINE)
            return {"t": now}

        return resolve

    def resolver_b(now):
        def resolve(keys):
            resolved.append("b")
            return {"t": now}

        return resolve

    a = threading.Thread(target=lambda: got.__setitem__("a", rendered.version_at(100, resolver_a)))
    b = threading.Thread(target=lambda: got.__setitem__("b", rendered.version_at(100, resolver_b)))
    a.start()
    wait_for(lambda: resolved == ["a"], "thread a resolving the holes")
    b.start()
    # b waits in version_at for a's Version (without the lock it would resolve on its own).
    wait_for(lambda: b.ident in sys._current_frames(), "thread b running")
    wait_for(lambda: sys._current_frames()[b.ident].f_code.co_name == "version_at", "thread b waiting")
    release.set()
    a.join(DEADLINE)
    b.join(DEADLINE)
    assert resolved == ["a"]
    assert got["a"] is got["b"] and got["a"].body == b'{"name":"a000_SIM","running":100}\n'


def _plain_resolver(now):
    return lambda keys: {"t": now}


class _Maker:
    """A thread making `rendered`'s Version of second `now`, held inside its resolver until
    release(); the Version it made is `made`."""

    def __init__(self, rendered, now):
        self.started, self._release, self.made = threading.Event(), threading.Event(), None

        def resolver(at):
            def resolve(keys):
                self.started.set()
                assert self._release.wait(DEADLINE)
                return {"t": at}

            return resolve

        def run():
            self.made = rendered.version_at(now, resolver)

        self._thread = threading.Thread(target=run)
        self._thread.start()
        assert self.started.wait(DEADLINE)

    def release(self):
        self._release.set()
        self._thread.join(DEADLINE)
        return self.made


def test_while_one_thread_makes_a_new_second_the_others_get_the_second_before():
    from autosubmit_api.services.rendered import Live, render

    rendered = render({"running": Live("t"), "name": "a000_SIM"})
    before = rendered.version_at(100, _plain_resolver)
    maker = _Maker(rendered, 101)
    # The maker holds the lock: a request of second 101 does not wait, it gets second 100.
    assert rendered.version_at(101, _plain_resolver) is before
    new = maker.release()
    assert new is not before and new.body == b'{"name":"a000_SIM","running":101}\n'
    assert new.previous is before and before.previous is None
    assert rendered.version_at(101, _plain_resolver) is new


def test_after_a_pause_a_request_waits_for_the_new_second():
    import sys

    from autosubmit_api.services.rendered import Live, render

    rendered = render({"running": Live("t")})
    rendered.version_at(100, _plain_resolver)
    maker = _Maker(rendered, 105)
    # Second 100 is too old to stand for 105: this request waits for the maker's version.
    got = {}
    waiter = threading.Thread(target=lambda: got.__setitem__("b", rendered.version_at(105, _plain_resolver)))
    waiter.start()
    wait_for(lambda: waiter.ident in sys._current_frames(), "the waiter running")
    wait_for(lambda: sys._current_frames()[waiter.ident].f_code.co_name == "version_at", "the waiter waiting")
    made = maker.release()
    waiter.join(DEADLINE)
    assert made is got["b"] and made.previous is None
    assert made.body == b'{"running":105}\n'


def test_the_http_layer_sends_the_second_before_while_the_new_bytes_are_made():
    """A request that finds another making this second's gzip sends the second before's
    gzip, with that version's tag; without a second before it waits and sends the new one."""
    import gzip

    from autosubmit_api import http_cache
    from autosubmit_api.services.rendered import Live, render

    rendered = render({"running": Live("t"), "pad": "x" * 5000})
    before = rendered.version_at(100, _plain_resolver)
    sent, data = http_cache._sendable(before, "gzip")
    assert sent is before and gzip.decompress(data) == before.body
    new = rendered.version_at(101, _plain_resolver)
    holding, release = threading.Event(), threading.Event()

    def hold():
        with new.lock:
            holding.set()
            assert release.wait(DEADLINE)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(DEADLINE)
    sent, data = http_cache._sendable(new, "gzip")
    assert sent is before and data is before.variants["gzip"]
    release.set()
    holder.join(DEADLINE)
    sent, data = http_cache._sendable(new, "gzip")
    assert sent is new and gzip.decompress(data) == new.body
    assert new.tag != before.tag
