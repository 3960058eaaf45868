"""readers.exp_files: the stat-only facts services and workers ask of an experiment directory."""

from __future__ import annotations

import os
import pwd

from autosubmit_api.readers import exp_files, job_list, storage


def test_facts_of_a_factory_experiment(make_experiment, settings, site):
    made = make_experiment("a000")
    os.utime(site.exp_dir("a000"), (1700000000, 1700000100))
    facts = exp_files.exp_dir_facts(settings, "a000")
    assert (facts.uid, facts.atime, facts.mtime) == (os.getuid(), 1700000000, 1700000100)
    assert facts.owner == pwd.getpwuid(os.getuid()).pw_name
    assert exp_files.has_exp_dir(settings, "a000") and exp_files.has_tmp_dir(settings, "a000")
    assert storage.locate(settings, "a000").job_list == storage.PICKLE
    os.utime(made.pkl_path, (1784634124, 1784634124))
    assert job_list.job_list_mtime(settings, "a000") == 1784634124
    assert not exp_files.is_as3_layout(settings, "a000")


def test_missing_parts_answer_none_or_false(make_experiment, settings, site):
    assert exp_files.exp_dir_facts(settings, "zzzz") is None
    assert not exp_files.has_exp_dir(settings, "zzzz")
    made = make_experiment("a001")
    os.unlink(made.pkl_path)
    os.rename(site.exp_dir("a001") / "tmp", site.exp_dir("a001") / "tmp.old")
    assert job_list.job_list_mtime(settings, "a001") is None
    assert storage.locate(settings, "a001").job_list is None and not exp_files.has_tmp_dir(settings, "a001")


def test_the_autosubmit_3_layout_is_told_by_its_expdef_file(make_experiment, settings, site):
    make_experiment("a002")
    (site.exp_dir("a002") / "conf" / "expdef_a002.conf").write_text("[experiment]\n")
    assert exp_files.is_as3_layout(settings, "a002")


def test_a_uid_without_a_name_is_its_number():
    unused = next(uid for uid in range(54321, 60000) if not _has_name(uid))
    assert exp_files.user_name(unused) == str(unused)
    assert exp_files.user_name(0) == "root"


def _has_name(uid):
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False
