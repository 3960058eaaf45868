"""readers/packages.py over package DBs written by the factory in each layout (docs/data.md A.7)."""

from __future__ import annotations

import os
import sqlite3

import pytest

from autosubmit_api.errors import DataError
from tests.factory import packages as factory_packages
from autosubmit_api.readers import packages

PKG = "a000_ASThread_17128472368642_1_4"
SIMS = [f"a000_20000101_fc0_{c}_SIM" for c in range(1, 5)]


def _path(settings, expid="a000"):
    return os.path.join(settings.local_root_dir, expid, "pkl", f"job_packages_{expid}.db")


def _write(settings, pkgs, layout, expid="a000"):
    factory_packages.write_packages(_path(settings, expid), expid, pkgs, layout=layout)


@pytest.mark.parametrize("layout", factory_packages.LAYOUTS)
def test_every_layout_gives_the_same_maps(settings, layout):
    _write(settings, {PKG: SIMS}, layout)
    got = packages.load_packages(settings, "a000")
    assert got.job_to_package == {job: PKG for job in SIMS}
    assert got.package_to_jobs == {PKG: tuple(SIMS)}
    assert got.package_to_package_id == {PKG: "17128472368642"}
    assert got.package_to_symbol == {PKG: "hexagon"}  # last of 4 jobs has odd index 3
    assert got.table == layout.replace("_wallclock", "")
    assert got.is_preview == layout.startswith(("wrapper_", "preview_"))


def test_4117_names_give_the_section_as_package_id(settings):
    name = "a000_ASThread_SIM_17810117114353_1_8"
    _write(settings, {name: SIMS}, "preview_wrappers_jobs")
    assert packages.load_packages(settings, "a000").package_to_package_id == {name: "SIM"}


def test_symbol_depends_on_the_parity_of_the_last_job_index(settings):
    _write(settings, {"a000_ASThread_1_1_3": SIMS[:3], "a000_ASThread_2_1_1": SIMS[3:]}, "job_package")
    got = packages.load_packages(settings, "a000")
    assert got.package_to_symbol == {"a000_ASThread_1_1_3": "square", "a000_ASThread_2_1_1": "hexagon"}


def test_real_wrappers_win_over_the_preview_and_empty_real_table_falls_back(settings):
    path = _path(settings)
    _write(settings, {PKG: SIMS[:2]}, "job_package")
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO wrapper_job_package VALUES (?, ?, ?)", [("a000", "a000_ASThread_9_1_2", job) for job in SIMS[2:]]
    )
    conn.commit()
    conn.close()
    assert packages.load_packages(settings, "a000").job_to_package == {SIMS[0]: PKG, SIMS[1]: PKG}
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM job_package")
    conn.commit()
    conn.close()
    os.utime(path, ns=(os.stat(path).st_mtime_ns + 10**9,) * 2)
    got = packages.load_packages(settings, "a000")
    assert set(got.package_to_jobs) == {"a000_ASThread_9_1_2"} and got.is_preview


def test_blank_package_names_are_skipped_and_later_rows_overwrite(settings):
    _write(
        settings,
        {"": [SIMS[0]], "  ": [SIMS[1]], "a000_ASThread_1_1_2": SIMS[2:], "a000_ASThread_2_1_1": [SIMS[2]]},
        "job_package",
    )
    got = packages.load_packages(settings, "a000")
    assert SIMS[0] not in got.job_to_package and SIMS[1] not in got.job_to_package
    assert got.job_to_package[SIMS[2]] == "a000_ASThread_2_1_1"
    assert got.package_to_jobs["a000_ASThread_1_1_2"] == tuple(SIMS[2:])


def test_missing_db_is_empty_and_creates_nothing(settings):
    got = packages.load_packages(settings, "a000")
    assert not got and got.job_to_package == {} and got.table is None
    assert not os.path.exists(_path(settings))


def test_db_without_package_tables_is_empty(settings):
    os.makedirs(os.path.dirname(_path(settings)), exist_ok=True)
    sqlite3.connect(_path(settings)).close()  # a 0-byte file
    assert not packages.load_packages(settings, "a000")


def test_corrupt_db_is_a_data_error(settings):
    os.makedirs(os.path.dirname(_path(settings)), exist_ok=True)
    with open(_path(settings), "wb") as handle:
        handle.write(b"garbage" * 1000)
    with pytest.raises(DataError) as info:
        packages.load_packages(settings, "a000")
    assert "job_packages_a000.db" in info.value.message


def test_make_experiment_writes_packages(make_experiment, settings):
    make_experiment("a001", packages={PKG: SIMS}, packages_layout="wrapper_job_package")
    assert packages.load_packages(settings, "a001").package_to_jobs == {PKG: tuple(SIMS)}
