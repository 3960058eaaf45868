"""readers/job_list.py: the four pickle formats, the restricted unpickler, errors and the cache."""

from __future__ import annotations

import os
import pickle
import pickletools
import sys
from datetime import datetime

import pytest

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError, NotFound
from tests.factory import JobSpec, pickles, set_statuses, workflow
from autosubmit_api.readers import job_list
from autosubmit_api.readers.job_list import load_job_list, parse_job_list, read_job_list_file

FORMATS = ("F1", "F2", "F3", "F4")


def sample_jobs(expid: str):
    """The standard workflow plus the awkward cases: split jobs, string ids, a wrapper."""
    jobs = workflow.standard_jobs(expid)
    jobs += [
        JobSpec(
            name=f"{expid}_20000101_fc0_1_{split}_ASIM",
            section="ASIM",
            status=status,
            date=datetime(2000, 1, 1),
            member="fc0",
            chunk=1,
            split=split,
            splits=2,
            priority=10 + split,
            id="4242",
            platform="MN5",
            wrapper_type="vertical",
            parents=(f"{expid}_20000101_fc0_1_SIM",),
            queue="gp_debug",
            wallclock="01:00",
            processors="96",
            tasks="4",
            nodes="2",
            threads="2",
            prev_status=3,
            fail_count=2,
            out_log=f"{expid}_ASIM.{split}.out",
            err_log=f"{expid}_ASIM.{split}.err",
        )
        for split, status in ((1, -1), (2, 2))
    ]
    return jobs


def expected(spec: JobSpec, fmt: str) -> dict:
    """The models.Job fields each format holds, as the reader must return them."""
    fields = {
        "name": spec.name,
        "id": spec.id,
        "status": spec.status,
        "priority": spec.priority,
        "section": spec.section,
        "date": spec.date,
        "member": spec.member,
        "chunk": spec.chunk,
        "out_path_local": spec.out_log,
        "err_path_local": spec.err_log,
    }
    if fmt == "F1":
        # Autosubmit 3 keeps the remote log names equal to the local ones (a3tb).
        fields.update(out_path_remote=spec.out_log, err_path_remote=spec.err_log, wrapper_type=None)
    elif fmt == "F2":
        fields.update(out_path_remote="", err_path_remote="", wrapper_type=spec.wrapper_type or "none")
    else:
        fields.update(
            out_path_remote="",
            err_path_remote="",
            wrapper_type=spec.wrapper_type,
            split=spec.split,
            splits=spec.splits,
            platform=spec.platform,
            queue=spec.queue,
            wallclock=spec.wallclock,
            processors=spec.processors,
            tasks=spec.tasks,
            nodes=spec.nodes,
            threads=spec.threads,
            prev_status=spec.prev_status,
            fail_count=spec.fail_count,
        )
    return fields


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_written_by_the_factory_round_trips(make_experiment, settings, fmt):
    jobs = sample_jobs("a000")
    make_experiment("a000", jobs, pkl_format=fmt)

    parsed = load_job_list(settings, "a000")

    assert parsed.pkl_format == fmt
    assert [job.name for job in parsed.jobs] == [spec.name for spec in jobs]
    for spec, job in zip(jobs, parsed.jobs):
        for field, value in expected(spec, fmt).items():
            assert getattr(job, field) == value, (fmt, spec.name, field)
    assert parsed.get(jobs[3].name) is parsed.jobs[3]
    assert len(parsed.by_name) == len(jobs)


def test_f3_carries_the_edges_of_the_graph(make_experiment, settings):
    jobs = sample_jobs("a000")
    make_experiment("a000", jobs, pkl_format="F3")

    parsed = load_job_list(settings, "a000")

    wanted = {(parent, spec.name) for spec in jobs for parent in spec.parents}
    assert wanted and set(parsed.pkl_edges) == wanted


@pytest.mark.parametrize("fmt", ("F1", "F2", "F4"))
def test_formats_without_edges_have_no_pkl_edges(make_experiment, settings, fmt):
    make_experiment("a000", sample_jobs("a000"), pkl_format=fmt)
    assert load_job_list(settings, "a000").pkl_edges == ()


def _globals(data: bytes) -> set:
    found, strings = set(), []
    for op, arg, _pos in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif op.name == "STACK_GLOBAL":
            found.add(".".join(strings[-2:]))
    return found


@pytest.mark.parametrize(
    "fmt, wanted",
    [
        ("F2", {"datetime.datetime", "_codecs.encode"}),
        (
            "F3",
            {
                "networkx.classes.digraph.DiGraph",
                "builtins.dict",
                "autosubmit.job.job.Job",
                "networkx.classes.reportviews.NodeView",
                "datetime.datetime",
            },
        ),
        ("F4", {"datetime.datetime", "pathlib.PosixPath"}),
    ],
)
def test_factory_streams_name_the_globals_real_autosubmit_writes(tmp_path, fmt, wanted):
    path = tmp_path / "a000" / "pkl" / "job_list_a000.pkl"
    pickles.write_job_list(path, sample_jobs("a000"), fmt)
    assert _globals(path.read_bytes()) == wanted
    # The stand-in modules were only there while dumping.
    assert "networkx" not in sys.modules and "autosubmit" not in sys.modules


def test_f1_is_python2_protocol_0_with_byte_strings(tmp_path):
    path = tmp_path / "a000" / "pkl" / "job_list_a000.pkl"
    pickles.write_job_list(path, sample_jobs("a000"), "F1")
    data = path.read_bytes()
    assert data.startswith(b"(lp0\n(S'a000_LOCAL_SETUP'\n")
    assert b"cdatetime\ndatetime\n" in data and b"_codecs" not in data and b"\nV" not in data


def test_the_factory_writes_atomically(tmp_path):
    path = tmp_path / "a000" / "pkl" / "job_list_a000.pkl"
    pickles.write_job_list(path, sample_jobs("a000"), "F4")
    assert sorted(os.listdir(path.parent)) == ["job_list_a000.pkl"]


# --- hostile pickles ------------------------------------------------------------------


def _hostile_streams(marker: str):
    command = f"touch {marker}"

    class Reduces:
        def __init__(self, func, args):
            self.func, self.args = func, args

        def __reduce__(self):
            return self.func, self.args

    import subprocess

    return {
        "os.system": b"cos\nsystem\n(V" + command.encode() + b"\ntR.",
        "posix.system": pickle.dumps(Reduces(os.system, (command,)), protocol=2),
        "subprocess.Popen": pickle.dumps(Reduces(subprocess.Popen, (["touch", marker],)), protocol=4),
        "builtins.eval": pickle.dumps(Reduces(eval, (f"open({marker!r}, 'w')",)), protocol=5),
        "builtins.__import__": b"c__builtin__\n__import__\n(Vos\ntR.",
        "arbitrary module": b"\x80\x04\x8c\x06shutil\x8c\x06rmtree\x93\x8c\x01x\x85R.",
        "nested in an F4 dict": pickle.dumps(
            {"a000_SIM": {"_status": 5, "_name": Reduces(os.system, (command,))}}, protocol=5
        ),
        "autosubmit lookalike calling out": b"cautosubmit.job.job\nJob\n(cos\nsystem\n(V"
        + command.encode()
        + b"\ntRtR.",
    }


@pytest.mark.parametrize("kind", list(_hostile_streams("m")))
def test_hostile_pickles_are_refused_and_run_nothing(tmp_path, kind):
    marker = tmp_path / "marker"
    path = tmp_path / "job_list_a000.pkl"
    path.write_bytes(_hostile_streams(str(marker))[kind])

    with pytest.raises(DataError) as caught:
        read_job_list_file(Settings(local_root_dir=str(tmp_path)), str(path), "a000", retry_delay=0)

    assert caught.value.message.startswith("job_list_a000.pkl cannot be read: global ")
    assert "is not allowed" in caught.value.message
    assert str(tmp_path) not in caught.value.message
    assert not marker.exists()


def test_a_pickle_cannot_change_the_globals_it_is_given(tmp_path):
    # BUILD applied to an allowed global itself: must fail, and must leave nothing behind
    # for the next load.
    tampering = b"cautosubmit.job.job\nJob\n(N}Vstatus\nI99\nstb."
    with pytest.raises(DataError):
        parse_job_list(tampering, "a000")
    assert not hasattr(job_list._Job, "status")

    path_build = b"cpathlib\nPosixPath\n}V__defaults__\n(I1\ntsb."
    with pytest.raises(DataError):
        parse_job_list(path_build, "a000")  # a function is no job list
    good = tmp_path / "a000" / "pkl" / "job_list_a000.pkl"
    pickles.write_job_list(good, sample_jobs("a000"), "F4")
    parsed = parse_job_list(good.read_bytes(), "a000")
    assert len(parsed) == len(sample_jobs("a000"))


# --- broken files ---------------------------------------------------------------------


def _write(settings, expid: str, data: bytes) -> str:
    path = os.path.join(settings.local_root_dir, expid, "pkl", f"job_list_{expid}.pkl")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def _f4_bytes(tmp_path) -> bytes:
    path = tmp_path / "src" / "a000" / "pkl" / "job_list_a000.pkl"
    pickles.write_job_list(path, sample_jobs("a000"), "F4")
    return path.read_bytes()


@pytest.mark.parametrize("case", ["empty", "truncated", "garbage", "not a job list", "bad tuples"])
def test_unreadable_files_are_data_errors_naming_the_file(settings, tmp_path, case):
    data = {
        "empty": b"",
        "truncated": _f4_bytes(tmp_path)[:3000],
        "garbage": b"\x00\x01 this is not a pickle at all \xff",
        "not a job list": pickle.dumps(42, protocol=2),
        "bad tuples": pickle.dumps([("a000_SIM", 0, 5)], protocol=2),
    }[case]
    _write(settings, "a000", data)

    with pytest.raises(DataError) as caught:
        load_job_list(settings, "a000")

    assert caught.value.message.startswith("job_list_a000.pkl ")
    assert settings.local_root_dir not in caught.value.message


def test_missing_pickle_is_not_found(settings):
    with pytest.raises(NotFound) as caught:
        load_job_list(settings, "a000")
    assert caught.value.message == "a000 has no job list (neither pkl/job_list_a000.pkl nor db/job_list.db)"


def test_parse_job_list_reads_bytes_without_a_file():
    blob = pickle.dumps([("a000_SIM", 0, 5, 0, "SIM", None, None, None, "", "", "", "", None)], protocol=2)
    parsed = parse_job_list(blob, "a000", mtime=1700000000)
    assert parsed.pkl_format == "F2" and parsed.pkl_mtime == 1700000000
    assert parsed.jobs[0].name == "a000_SIM" and parsed.jobs[0].status == 5


def test_an_empty_list_is_a_job_list_without_jobs():
    assert len(parse_job_list(pickle.dumps([], protocol=2), "a000")) == 0
    assert parse_job_list(pickle.dumps({}, protocol=5), "a000").pkl_format == "F4"


def test_deep_nesting_is_a_data_error_not_a_crash():
    deep = b"(" * 100000 + b"l" * 100000 + b"."
    with pytest.raises(DataError):
        parse_job_list(deep, "a000")


# --- cache ----------------------------------------------------------------------------


def test_the_cache_returns_the_same_parse_until_the_file_changes(make_experiment, settings):
    experiment = make_experiment("a000", sample_jobs("a000"), pkl_format="F4")
    first = load_job_list(settings, "a000")
    assert load_job_list(settings, "a000") is first

    sim = experiment.jobs[5].name
    set_statuses(experiment, {sim: 5}, pkl_format="F4")
    second = load_job_list(settings, "a000")

    assert second is not first
    assert second.get(sim).status == 5 and first.get(sim).status != 5
    assert second.pkl_mtime >= first.pkl_mtime


def test_pkl_mtime_is_the_file_mtime(make_experiment, settings):
    experiment = make_experiment("a000", sample_jobs("a000"), pkl_format="F2")
    os.utime(experiment.pkl_path, (1700000000, 1700000000))
    assert load_job_list(settings, "a000").pkl_mtime == 1700000000


def test_stamps_and_status_names_of_state_dicts():
    state = {
        "_status": 4,
        "_name": "a000_SIM",
        "_section": "SIM",
        "submit_time_timestamp": "20240101120000",
        "start_time_timestamp": 1704110500.5,
        "finish_time_timestamp": None,
        "end_time_timestamp": 1704111000,
        "_split": None,
        "_splits": -1,
        "_local_logs": ("o", "e"),
        "_remote_logs": None,
    }
    job = parse_job_list(pickle.dumps({"a000_SIM": state}, protocol=5), "a000").jobs[0]
    assert job.status == 4 and job.split is None and job.splits is None
    assert job.submit_time == datetime(2024, 1, 1, 12, 0, 0).timestamp()
    assert job.start_time == 1704110500.5 and job.finish_time == 1704111000.0
    # `_remote_logs = None` (4.1.12+, not run remotely yet) means no remote log names at all.
    assert (job.out_path_local, job.err_path_local, job.out_path_remote) == ("o", "e", None)


def test_a_file_still_broken_on_the_second_read_is_a_data_error(tmp_path):
    path = tmp_path / "job_list_a000.pkl"
    path.write_bytes(_f4_bytes(tmp_path)[:-10])
    with pytest.raises(DataError) as caught:
        read_job_list_file(Settings(local_root_dir=str(tmp_path)), str(path), "a000", retry_delay=0)
    assert caught.value.message.startswith("job_list_a000.pkl cannot be read")


def test_unknown_autosubmit_names_become_inert_values():
    # A 4.1.x attribute of a class we do not list (an Enum of a newer release, say).
    stream = (
        b"\x80\x02}q\x00X\x08\x00\x00\x00a000_SIMq\x01}q\x02(X\x07\x00\x00\x00_statusq\x03K\x05"
        b"X\x04\x00\x00\x00typeq\x04cautosubmit.job.job_common\nType\nq\x05K\x02\x85q\x06Rq\x07"
        b"X\x08\x00\x00\x00_sectionq\x08X\x03\x00\x00\x00SIMq\tus."
    )
    parsed = parse_job_list(stream, "a000")
    assert parsed.pkl_format == "F4"
    assert (parsed.jobs[0].name, parsed.jobs[0].status, parsed.jobs[0].section) == ("a000_SIM", 5, "SIM")


def test_f3_nodes_without_a_job_are_skipped(tmp_path):
    jobs = workflow.standard_jobs("a000")
    graph = pickles._graph_of(jobs, "a000", str(tmp_path))
    graph._node["a000_NOT_A_JOB"] = {}
    graph._succ["a000_NOT_A_JOB"] = {jobs[0].name: {}}
    with pickles._STANDIN_LOCK:
        added = pickles._register_standins()
        try:
            data = pickle.dumps(graph, protocol=5)
        finally:
            for name in added:
                sys.modules.pop(name, None)

    parsed = parse_job_list(data, "a000")

    assert [job.name for job in parsed.jobs] == [job.name for job in jobs]
    assert all("a000_NOT_A_JOB" not in edge for edge in parsed.pkl_edges)


@pytest.mark.parametrize("fmt", ["F1", "F2", "F3", "F4"])
def test_the_reader_notes_each_jobs_name_and_state_hash_in_list_order(tmp_path, fmt):
    from array import array

    from autosubmit_api.models import job_state

    path = tmp_path / "job_list_a000.pkl"
    pickles.write_job_list(path, sample_jobs("a000"), fmt)
    parsed = parse_job_list(path.read_bytes(), "a000", path=str(path))
    assert parsed.names == tuple(job.name for job in parsed.jobs)
    assert parsed.states == array("q", (hash(job_state(job)) for job in parsed.jobs))
    assert len(set(parsed.states)) > 1  # the sample's jobs differ in state
