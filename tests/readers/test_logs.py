"""readers/logs.py on real files in tmp_path: tails from the end, compressed logs, safe names."""

import bz2
import gzip
import lzma
import os

import pytest

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, NotFound
from autosubmit_api.readers import logs


def _site_of(root):
    """Settings whose experiments root is `root`: every file a test writes there is readable."""
    return Settings(local_root_dir=str(root))


def _lines(n, prefix="line"):
    return "".join(f"{prefix}{i}\n" for i in range(n))


@pytest.mark.parametrize(
    "name,opener,count",
    [
        ("a.log", open, 300),
        ("job.out.gz", gzip.open, 100000),
        ("job.out.xz", lzma.open, 100000),
        ("job.out.bz2", bz2.open, 100000),
    ],
)
def test_a_tail_within_the_bounds_is_the_last_lines_with_their_newlines(tmp_path, name, opener, count):
    """Plain or compressed: the last lines, whole, not marked truncated."""
    path = tmp_path / name
    with opener(path, "wt") as handle:
        handle.write(_lines(count))
    result = logs.tail(_site_of(tmp_path), str(path), 3)
    assert result.lines == tuple(f"line{i}\n" for i in range(count - 3, count))
    assert not result.truncated


def test_a_final_line_without_newline_counts_as_a_line(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("x\ny\nlast")
    assert logs.tail(_site_of(tmp_path), str(path), 2).lines == ("y\n", "last")


def test_a_short_file_is_returned_whole(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("only\n")
    assert logs.tail(_site_of(tmp_path), str(path), 150).lines == ("only\n",)
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert logs.tail(_site_of(tmp_path), str(empty), 150).lines == ()


def test_carriage_returns_split_lines_like_a_text_mode_read(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(b"one\r\ntwo\rthree\n")
    assert logs.tail(_site_of(tmp_path), str(path), 10).lines == ("one\n", "two\n", "three\n")


def test_invalid_utf8_is_replaced_not_fatal(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(b"ok\n\xff\xfebad\n")
    assert logs.tail(_site_of(tmp_path), str(path), 10).lines == ("ok\n", "\ufffd\ufffdbad\n")


@pytest.mark.parametrize("suffix,opener", [(".gz", gzip.open), (".xz", lzma.open), (".bz2", bz2.open)])
def test_compressed_logs_are_decompressed(tmp_path, suffix, opener):
    path = tmp_path / ("job.out" + suffix)
    with opener(path, "wt") as handle:
        handle.write(_lines(500))
    assert logs.tail(_site_of(tmp_path), str(path), 2).lines == ("line498\n", "line499\n")


def test_a_file_named_gz_that_is_not_compressed_is_read_raw(tmp_path):
    path = tmp_path / "job.out.gz"
    path.write_text("plain\ntext\n")
    assert logs.tail(_site_of(tmp_path), str(path), 5).lines == ("plain\n", "text\n")


def test_a_sparse_1gb_log_is_read_from_its_end(tmp_path):
    path = tmp_path / "huge.log"
    with open(path, "wb") as handle:
        handle.write(b"start of the file\n")
        handle.seek(1 << 30)
        handle.write(b"\nend one\nend two\n")
    assert os.path.getsize(path) > 1 << 30
    result = logs.tail(_site_of(tmp_path), str(path), 150)
    # The NUL stretch before the last lines has no newline: it is cut at the byte bound
    # and not returned as a line; the file's start is never reached.
    assert result.truncated
    assert result.lines == ("end one\n", "end two\n")


@pytest.mark.parametrize("name", ["..", ".", "", "../etc/passwd", "a/b", "a\\b", "x\x00y", "/etc/passwd"])
def test_names_that_could_leave_the_directory_are_refused(tmp_path, name):
    with pytest.raises(BadRequest):
        logs.resolve_log_name(str(tmp_path), name)


def test_a_symlink_out_of_the_directory_is_refused(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("secret\n")
    logdir = tmp_path / "LOG_a000"
    logdir.mkdir()
    (logdir / "a000_x.out").symlink_to(outside)
    with pytest.raises(BadRequest):
        logs.resolve_log_name(str(logdir), "a000_x.out")


def test_a_symlink_inside_the_directory_is_followed(tmp_path):
    logdir = tmp_path / "LOG_a000"
    logdir.mkdir()
    (logdir / "real.out").write_text("x\n")
    (logdir / "alias.out").symlink_to(logdir / "real.out")
    assert logs.resolve_log_name(str(logdir), "alias.out") == str(logdir / "alias.out")


def test_a_missing_file_resolves_to_none(tmp_path):
    assert logs.resolve_log_name(str(tmp_path), "nope.out") is None


def _exp_dirs(site, expid="a000"):
    """Only the tmp/ tree of an experiment: these readers need nothing else."""
    path = site.exp_dir(expid)
    for sub in ("tmp/ASLOGS", f"tmp/LOG_{expid}"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def test_newest_run_log_prefers_aslogs_and_the_newest_mtime(site, settings):
    path = _exp_dirs(site)
    aslogs = path / "tmp" / "ASLOGS"
    old = aslogs / "20240101_000000_run.log"
    new = aslogs / "20240102_000000_run.log"
    old.write_text("old\n")
    new.write_text("new\n")
    os.utime(old, (2000, 2000))
    os.utime(new, (1000, 1000))
    (path / "tmp" / "x_run.log").write_text("tmp\n")
    assert logs.newest_run_log(settings, "a000").name == "20240101_000000_run.log"
    assert logs.newest_run_log(settings, "a000", "_run.log", tmp_first=True).name == "x_run.log"


def test_newest_job_logs_ignores_compressed_and_keeps_the_latest(site, settings):
    logdir = _exp_dirs(site) / "tmp" / "LOG_a000"
    for name in (
        "a000_SIM.20240101000000.out",
        "a000_SIM.20240102000000.out",
        "a000_SIM.20240103000000.out.gz",
        "a000_SIM.20240101000000.err",
    ):
        (logdir / name).write_text("")
    outs, errs = logs.newest_job_logs(settings, "a000")
    assert outs["a000_SIM"] == "a000_SIM.20240102000000.out"
    assert errs["a000_SIM"] == "a000_SIM.20240101000000.err"


def test_newest_job_logs_without_directory_is_not_found(site, settings):
    with pytest.raises(NotFound):
        logs.newest_job_logs(settings, "a999")


def test_total_stats_lines_are_split_and_missing_files_are_empty(site, settings):
    (_exp_dirs(site) / "tmp" / "a000_SIM_TOTAL_STATS").write_text(
        "20240101000000 20240101000100 20240101000200 FAILED\n20240101000300 20240101000400"
    )
    assert logs.read_total_stats(settings, "a000", "a000_SIM") == [
        ["20240101000000", "20240101000100", "20240101000200", "FAILED"],
        ["20240101000300", "20240101000400"],
    ]
    assert logs.last_total_stats_line(settings, "a000", "a000_SIM") == ("20240101000300", "20240101000400")
    assert logs.read_total_stats(settings, "a000", "a000_NOPE") == []
    ((name, _mtime, size),) = logs.total_stats_snapshot(settings, "a000")
    assert name == "a000_SIM" and size > 0


def test_compressed_lines_are_cut_and_the_kept_bytes_bounded(tmp_path):
    path = tmp_path / "job.out.gz"
    with gzip.open(path, "wb") as handle:
        for i in range(50):
            handle.write(b"%02d" % i + b"z" * 5000 + b"\n")
        handle.write(b"last")
    settings = _site_of(tmp_path).replace(log_max_line_bytes=100, log_max_kept_bytes=1000)
    result = logs.tail(settings, str(path), 1000)
    marker = logs.cut_marker(100).decode()
    assert result.truncated
    assert result.lines[-1] == "last"
    assert result.lines[-2] == "49" + "z" * 98 + marker + "\n"
    assert sum(len(line) for line in result.lines) <= 1000
