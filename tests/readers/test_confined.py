"""readers/confined.py, and every reader that opens an experiment's file through it: a file
resolving outside the site's roots is never read (logs, TOTAL_STATS, pickle, configuration,
SQLite), whatever component is the symlink."""

from __future__ import annotations

import os

import pytest

from autosubmit_api.config import Settings
from tests.factory import hostile
from autosubmit_api.readers import confined, exp_config, job_data, job_list, logs, structure

SECRET = b"SECRET-OUTSIDE-THE-ROOTS\n"


@pytest.fixture
def outside(tmp_path):
    root = tmp_path / "outside"
    root.mkdir()
    (root / "secret").write_bytes(SECRET)
    return root


def test_a_file_inside_the_roots_is_opened_and_its_fstat_returned(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(b"hello\n")
    settings = Settings(local_root_dir=str(tmp_path))
    data, st = confined.read_bytes(settings, str(path))
    assert data == b"hello\n" and st.st_size == 6
    with confined.open_text(settings, str(path)) as handle:
        assert handle.read() == "hello\n"


def test_symlinks_out_of_the_roots_are_refused_at_any_component(tmp_path, outside):
    root = tmp_path / "site"
    (root / "exp").mkdir(parents=True)
    settings = Settings(local_root_dir=str(root))
    (root / "exp" / "file").symlink_to(outside / "secret")
    (root / "exp" / "dir").symlink_to(outside)
    (root / "link").symlink_to(outside, target_is_directory=True)
    for path in (root / "exp" / "file", root / "exp" / "dir" / "secret", root / "link" / "secret"):
        with pytest.raises(confined.Refused) as caught:
            confined.read_bytes(settings, str(path))
        assert str(tmp_path) not in caught.value.message
        with pytest.raises(confined.Refused):
            confined.real_path(settings, str(path))
    assert confined.list_files(settings, str(root / "link")) == []
    assert confined.list_files(settings, str(root / "exp")) == []  # both entries lead outside


def test_extra_roots_and_symlinks_inside_the_roots_are_followed(tmp_path, outside):
    root = tmp_path / "site"
    root.mkdir()
    (root / "inside.log").write_text("in\n")
    (root / "alias.log").symlink_to(root / "inside.log")
    (root / "scratch").symlink_to(outside)
    settings = Settings(local_root_dir=str(root))
    assert confined.read_bytes(settings, str(root / "alias.log"))[0] == b"in\n"
    extra = settings.replace(extra_roots=(str(outside),))
    assert confined.read_bytes(extra, str(root / "scratch" / "secret"))[0] == SECRET
    assert [name for name, _ in confined.list_files(extra, str(root / "scratch"))] == ["secret"]


def test_a_root_prefix_is_not_a_root(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site2").mkdir()
    (tmp_path / "site2" / "f").write_text("x")
    with pytest.raises(confined.Refused):
        confined.read_bytes(Settings(local_root_dir=str(tmp_path / "site")), str(tmp_path / "site2" / "f"))


def test_fifos_and_directories_are_never_read(tmp_path):
    settings = Settings(local_root_dir=str(tmp_path))
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    with pytest.raises(confined.NotRegular):  # and it did not block on the open
        confined.read_bytes(settings, str(fifo))
    with pytest.raises(IsADirectoryError):
        confined.read_bytes(settings, str(tmp_path))
    with pytest.raises(FileNotFoundError):
        confined.read_bytes(settings, str(tmp_path / "missing"))


# --- every reader ---------------------------------------------------------------------------


def test_total_stats_outside_the_roots_read_as_absent(site, settings, make_experiment, outside):
    exp = make_experiment("a000")
    hostile.symlink_file(exp.path / "tmp" / "a000_SIM_TOTAL_STATS", outside / "secret")
    assert logs.read_total_stats(settings, "a000", "a000_SIM") == []
    assert logs.read_total_stats_of(settings, "a000", ["a000_SIM"]) == [[]]


def test_a_job_log_tail_outside_the_roots_is_refused(site, settings, make_experiment, outside):
    exp = make_experiment("a000")
    hostile.symlink_dir(exp.path, "LOG_a000", outside)
    with pytest.raises(confined.Refused):
        logs.tail(settings, str(exp.path / "tmp" / "LOG_a000" / "secret"))


def test_a_symlinked_pickle_is_refused(site, settings, make_experiment, outside):
    exp = make_experiment("a000")
    hostile.symlink_file(exp.pkl_path, outside / "secret")
    with pytest.raises(confined.Refused):
        job_list.load_job_list(settings, "a000")


def test_a_symlinked_pkl_directory_is_refused(site, settings, make_experiment, tmp_path):
    exp = make_experiment("a000")
    elsewhere = tmp_path / "elsewhere"
    os.rename(exp.path / "pkl", elsewhere)
    (exp.path / "pkl").symlink_to(elsewhere)
    with pytest.raises(confined.Refused):
        job_list.load_job_list(settings, "a000")


def test_a_symlinked_configuration_file_is_refused(site, settings, make_experiment, outside):
    exp = make_experiment("a000")
    conf = next(p for p in sorted((exp.path / "conf").iterdir()) if p.suffix in (".yml", ".yaml"))
    (outside / "conf.yml").write_text("SECRET: value\n")
    hostile.symlink_file(conf, outside / "conf.yml")
    with pytest.raises(confined.Refused) as caught:
        exp_config.load_config(settings, "a000")
    assert str(outside) not in caught.value.message


def test_symlinked_sqlite_files_are_refused(site, settings, make_experiment, tmp_path):
    make_experiment("a000")
    for path, load in (
        (site.jobdata_dir / "job_data_a000.db", lambda: job_data.load_history(settings, "a000")),
        (
            site.structures_dir / "structure_a000.db",
            lambda: structure._file_edges(settings, str(site.structures_dir / "structure_a000.db")),
        ),
    ):
        moved = tmp_path / ("moved_" + path.name)
        os.rename(path, moved)
        path.symlink_to(moved)
        with pytest.raises(confined.Refused):
            load()
