"""readers/exp_config/ over configurations written by the factory (docs/data.md A.8)."""

from __future__ import annotations

import os
import time

import pytest

from autosubmit_api.errors import DataError, NotFound
from tests.factory import conf as factory_conf
from autosubmit_api.readers import exp_config
from autosubmit_api.readers.exp_config import site_keys


def _exp(settings, expid="a000"):
    return os.path.join(settings.local_root_dir, expid)


def _write(settings, config=None, expid="a000", **kwargs):
    return factory_conf.write_config(_exp(settings, expid), expid, config, **kwargs)


def _bump(path):
    """Give a rewritten file a new identity even on coarse-mtime file systems."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_default_as4_config_typed_values(settings):
    _write(settings)
    c = exp_config.load_config(settings, "a000")
    assert c.layout == "AS4"
    assert c.autosubmit_version == "4.1.12"
    assert (c.hpcarch, c.chunk_unit, c.chunk_size, c.safety_sleep_time) == ("MARENOSTRUM4", "month", 1, 10)
    assert (c.project_type, c.model, c.branch) == ("git", "https://earth.bsc.es/gitlab/es/auto-example.git", "main")
    sim = c.section("SIM")
    assert (sim.processors, sim.platform, sim.queue, sim.wallclock, sim.tasks, sim.threads, sim.nodes) == (
        "48",
        "MARENOSTRUM4",
        "bsc_es",
        "02:00",
        "48",
        "1",
        "1",
    )
    assert sim.processors_per_node == "48"  # from the platform
    assert c.section("LOCAL_SETUP").platform == "LOCAL"
    assert c.section("UNKNOWN").platform == "MARENOSTRUM4" and c.section("UNKNOWN").processors == "1"
    platform = c.platform("MARENOSTRUM4")
    assert (platform.queue, platform.serial_queue, platform.max_wallclock) == ("debug", None, "48:00")
    assert c.wrapper_type is None and c.wrapper_types == ()
    raw = c.raw
    assert raw["ROOTDIR"] == _exp(settings)
    assert raw["PROJDIR"] == os.path.join(_exp(settings), "proj", "git_project")
    assert raw["HPCARCH"] == "MARENOSTRUM4" and raw["HPCMAX_WALLCLOCK"] == "48:00"
    assert raw["JOBS"]["SIM"]["DEPENDENCIES"] == {"INI": {}, "SIM-1": {}}
    assert raw["JOBS"]["LOCAL_SETUP"]["DEPENDENCIES"] == {}
    assert raw["JOBS"]["SIM"]["ADDITIONAL_FILES"] == []
    assert raw["AUTOSUBMIT"] == {} and raw["DB_FILE"] == "autosubmit.db"
    assert raw["LOCAL_ROOT_DIR"] == settings.local_root_dir
    assert set(c.files) >= {"conf/jobs_a000.yml", "conf/expdef_a000.yml"}


def test_yaml_12_scalars(settings):
    _write(
        settings,
        files={
            "extra.yml": (
                "EXTRA:\n  ON_: on\n  YES_: yes\n  SEXAGESIMAL: 1:30\n  CLOCK: 00:05\n  OCTAL: 012\n"
                "  TRUE_: TRUE\n  FLOAT: 1e3\n  QUOTED: '4'\n  EMPTY:\n  VERSION: 4.1\n  DATE: 2000-01-01\n"
            )
        },
    )
    extra = exp_config.load_config(settings, "a000").raw["EXTRA"]
    assert extra["ON_"] == "on" and extra["YES_"] == "yes"
    assert extra["SEXAGESIMAL"] == "1:30" and extra["CLOCK"] == "00:05"
    assert extra["OCTAL"] == 12 and extra["TRUE_"] is True and extra["FLOAT"] == 1000.0
    assert extra["QUOTED"] == "4" and extra["EMPTY"] is None and extra["VERSION"] == 4.1
    assert str(extra["DATE"]) == "2000-01-01"


def test_unknown_tags_are_plain_values_and_never_execute(settings, tmp_path):
    marker = tmp_path / "pwned"
    _write(
        settings,
        files={
            "minimal.yml": (
                "METADATA:\n  schedule: !rrule >\n    DTSTART:19900101 RRULE:FREQ=YEARLY\n"
                f"  evil: !!python/object/apply:os.system ['touch {marker}']\n"
                "  seq: !custom [a, b]\n  map: !custom {k: v}\n"
            )
        },
    )
    meta = exp_config.load_config(settings, "a000").raw["METADATA"]
    assert meta["SCHEDULE"] == "DTSTART:19900101 RRULE:FREQ=YEARLY\n"
    assert meta["EVIL"] == [f"touch {marker}"]
    assert meta["SEQ"] == ["a", "b"] and meta["MAP"] == {"K": "v"}
    assert not marker.exists()


def test_version_float_is_stringified(settings):
    _write(settings, {"CONFIG": {"AUTOSUBMIT_VERSION": 4.1}})
    assert exp_config.load_config(settings, "a000").autosubmit_version == "4.1"


def test_normalisation_of_jobs_and_wrappers(settings):
    _write(
        settings,
        {
            "DEFAULT": {"HPCARCH": "marenostrum4"},
            "JOBS": {
                "SIM": {
                    "FILE": "SIM.sh, extra.sh",
                    "WALLCLOCK": "01:30:00",
                    "NOTIFY_ON": "failed, completed",
                    "CUSTOM_DIRECTIVES": ["#SBATCH -x"],
                    "DEPENDENCIES": {"ini": {"status": "running"}, "POST-1": {"STATUS": "failed?"}},
                }
            },
            "WRAPPERS": {
                "QUEUE": "wrapq",
                "W1": {"JOBS_IN_WRAPPER": "[sim, post]"},
                "W2": {"TYPE": "Horizontal", "JOBS_IN_WRAPPER": "sim"},
            },
        },
    )
    c = exp_config.load_config(settings, "a000")
    sim = c.raw["JOBS"]["SIM"]
    assert sim["FILE"] == "SIM.sh" and sim["ADDITIONAL_FILES"] == ["extra.sh"]
    assert sim["WALLCLOCK"] == "01:30" and c.section("SIM").wallclock == "01:30"
    assert sim["NOTIFY_ON"] == ["FAILED", "COMPLETED"]
    assert sim["CUSTOM_DIRECTIVES"] == "['#SBATCH -x']"
    assert sim["DEPENDENCIES"]["INI"] == {"STATUS": "RUNNING", "ANY_FINAL_STATUS_IS_VALID": True}
    assert sim["DEPENDENCIES"]["POST-1"] == {"STATUS": "FAILED", "ANY_FINAL_STATUS_IS_VALID": True}
    wrappers = c.raw["WRAPPERS"]
    assert wrappers["W1"] == {"JOBS_IN_WRAPPER": "SIM POST", "TYPE": "vertical"}
    assert wrappers["W2"]["TYPE"] == "horizontal"
    assert c.wrapper_types == ("vertical", "horizontal") and c.wrapper_queue == "wrapq"
    assert c.hpcarch == "MARENOSTRUM4"


def test_minimal_fills_gaps_and_custom_config_pre_wins(settings):
    exp = _exp(settings)
    as_conf = os.path.join(exp, "proj", "git_project", "as_conf")
    os.makedirs(as_conf)
    with open(os.path.join(as_conf, "a.yml"), "w") as handle:
        handle.write("CONFIG:\n  AUTOSUBMIT_VERSION: '4.0.0'\nDEFAULT:\n  EXPID: a04c\n")
    with open(os.path.join(as_conf, "b.yml"), "w") as handle:
        handle.write("EXPERIMENT:\n  CHUNKSIZE: 6\n")
    _write(
        settings,
        defaults=False,
        files={
            "minimal.yml": (
                "CONFIG:\n  AUTOSUBMIT_VERSION: '4.0.95'\n  TOTALJOBS: 20\nDEFAULT:\n  EXPID: a000\n  HPCARCH: local\n"
                "  CUSTOM_CONFIG: '%PROJDIR%/as_conf'\nPROJECT:\n  PROJECT_TYPE: git\n"
                "  PROJECT_DESTINATION: git_project\n"
            )
        },
    )
    c = exp_config.load_config(settings, "a000")
    assert c.autosubmit_version == "4.0.0"  # the custom files win, minimal.yml only fills gaps
    assert c.raw["DEFAULT"]["EXPID"] == "a04c"
    assert c.raw["CONFIG"]["TOTALJOBS"] == 20 and c.chunk_size == 6
    assert c.raw["DEFAULT"]["CUSTOM_CONFIG"] == as_conf
    assert c.raw["AS_TEMP"] == {"FILENAME_TO_LOAD": os.path.join(as_conf, "b.yml")}  # anchor leak
    assert os.path.join("proj", "git_project", "as_conf", "a.yml") in c.files
    # A change in a custom file is seen (the cache key covers every file read).
    with open(os.path.join(as_conf, "b.yml"), "w") as handle:
        handle.write("EXPERIMENT:\n  CHUNKSIZE: 7\n")
    _bump(os.path.join(as_conf, "b.yml"))
    assert exp_config.load_config(settings, "a000").chunk_size == 7


def test_custom_config_post_file_wins_over_the_experiment_files(settings):
    post = os.path.join(_exp(settings), "user.yml")
    os.makedirs(_exp(settings))
    with open(post, "w") as handle:
        handle.write("EXPERIMENT:\n  CHUNKSIZE: 9\n")
    _write(settings, {"DEFAULT": {"CUSTOM_CONFIG": {"POST": "%ROOTDIR%/user.yml"}}})
    c = exp_config.load_config(settings, "a000")
    assert c.chunk_size == 9
    assert "user.yml" in c.files


def test_placeholders_and_for_loops(settings):
    _write(
        settings,
        {
            "EXTRA": {"PATH": "/data/%DEFAULT.EXPID%/%EXPERIMENT.CHUNKSIZE%", "KEEP": "%NOPE.X%"},
            "JOBS": {
                "SIM": {"QUEUE": "%PLATFORMS.MARENOSTRUM4.QUEUE%"},
                "APP": {"FILE": "app.sh", "FOR": {"NAME": ["one", "two"], "PROCESSORS": [2, 4]}},
            },
        },
    )
    c = exp_config.load_config(settings, "a000")
    assert c.raw["EXTRA"] == {"PATH": "/data/a000/1", "KEEP": "%NOPE.X%"}
    assert c.section("SIM").queue == "debug"
    assert "APP" not in c.raw["JOBS"]
    assert c.raw["JOBS"]["APP_ONE"]["NAME"] == "one" and c.section("APP_TWO").processors == "4"


def test_as_misc_files_are_not_merged(settings):
    _write(settings, files={"as_misc.yml": "AS_MISC: True\nAS_COMMAND: create\nCONFIG:\n  TOTALJOBS: 1\n"})
    raw = exp_config.load_config(settings, "a000").raw
    assert "AS_MISC" not in raw and raw["CONFIG"]["TOTALJOBS"] == 20


def test_as3_ini_config(settings):
    _write(
        settings,
        {
            "conf": {"wrapper": {"TYPE": "Vertical", "QUEUE": "wq"}},
            "exp": {
                "experiment": {"CHUNKSIZEUNIT": "Month", "CHUNKSIZE": ""},
                "git": {"PROJECT_BRANCH": "%(EXPID)s-branch"},
            },
            "jobs": {"POST": {"FILE": "post 100% done"}},
        },
        as3=True,
    )
    c = exp_config.load_config(settings, "a000")
    assert c.layout == "AS3"
    assert (c.autosubmit_version, c.hpcarch, c.chunk_unit, c.chunk_size) == ("3.13.0", "marenostrum4", "month", 1)
    assert (c.wrapper_type, c.wrapper_queue) == ("vertical", "wq")
    assert c.git_branch == "a000-branch"  # configparser interpolation, DEFAULT visible everywhere
    assert c.raw["exp"]["experiment"]["EXPID"] == "a000"  # DEFAULT repeated in every section
    assert c.raw["jobs"]["POST"]["FILE"] == "post 100% done"  # lone % kept raw instead of failing
    sim = c.section("SIM")
    assert (sim.processors, sim.platform, sim.queue, sim.wallclock) == ("768", "marenostrum4", "debug", "1:30")
    assert c.section("LOCAL_SETUP").platform == "LOCAL"
    assert c.platform("marenostrum4").queue == "bsc_es" and c.platform("marenostrum4").serial_queue == ""
    assert set(c.raw) == {"conf", "exp", "platforms", "jobs", "proj"}
    assert c.model == "https://earth.bsc.es/gitlab/es/auto-ecearth3.git"


def test_as3_optional_proj_and_required_files(settings):
    _write(settings, {"proj": None}, as3=True)
    assert exp_config.load_config(settings, "a000").raw["proj"] is None
    _write(settings, {"platforms": None}, expid="a001", as3=True)
    with pytest.raises(DataError) as info:
        exp_config.load_config(settings, "a001")
    assert "conf/platforms_a001.conf" in info.value.message


def test_missing_conf_dir_is_not_found(settings):
    with pytest.raises(NotFound):
        exp_config.load_config(settings, "a000")


def test_unparsable_yaml_is_a_data_error_naming_the_file(settings):
    _write(settings, files={"broken.yml": "JOBS: [unclosed\n"})
    with pytest.raises(DataError) as info:
        exp_config.load_config(settings, "a000")
    assert "conf/broken.yml" in info.value.message
    assert settings.local_root_dir not in info.value.message


def test_unparsable_ini_is_a_data_error_naming_the_file(settings):
    conf = _write(settings, as3=True)
    (conf / "jobs_a000.conf").write_text("no section header here\n")
    with pytest.raises(DataError) as info:
        exp_config.load_config(settings, "a000")
    assert "conf/jobs_a000.conf" in info.value.message
    assert settings.local_root_dir not in info.value.message


def test_cache_is_keyed_by_file_identity(settings):
    conf = _write(settings)
    first = exp_config.load_config(settings, "a000")
    assert exp_config.load_config(settings, "a000") is first
    path = conf / "expdef_a000.yml"
    path.write_text(path.read_text().replace("CHUNKSIZE: 1", "CHUNKSIZE: 3"))
    _bump(path)
    assert exp_config.load_config(settings, "a000").chunk_size == 3
    (conf / "new.yml").write_text("EXPERIMENT:\n  CHUNKSIZE: 5\n")
    time.sleep(0.01)
    assert exp_config.load_config(settings, "a000").chunk_size == 5


def test_metadata_experiment_data_is_separate(settings):
    _write(settings, files={"metadata/experiment_data.yml": "CONFIG:\n  AUTOSUBMIT_VERSION: 4.1.11\n"})
    assert exp_config.load_metadata_config(settings, "a000") == {"CONFIG": {"AUTOSUBMIT_VERSION": "4.1.11"}}
    assert exp_config.load_config(settings, "a000").autosubmit_version == "4.1.12"
    assert exp_config.load_metadata_config(settings, "a001") is None


def test_site_keys_never_carry_the_database_password(settings):
    _write(settings)
    pg = settings.replace(db_backend="postgres", db_connection_url="postgresql://api:s3cret@db:5432/as")
    raw = exp_config.load_config(pg, "a000").raw
    assert raw["DATABASE_BACKEND"] == "postgres"
    assert raw["DATABASE_CONN_URL"] == "postgresql://api:***@db:5432/as"
    assert site_keys._without_password("postgresql://api@db/as") == "postgresql://api@db/as"


def test_custom_config_skips_devices_and_missing_paths(settings):
    _write(settings, {"DEFAULT": {"CUSTOM_CONFIG": "/dev/zero,/nonexistent/dir"}})
    c = exp_config.load_config(settings, "a000")
    assert c.chunk_size == 1 and "zero" not in c.files


def test_alias_bomb_is_a_data_error(settings):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    _write(settings, files={"bomb.yml": "BOMB:\n" + "\n".join("  " + line for line in levels) + "\n"})
    with pytest.raises(DataError) as info:
        exp_config.load_config(settings, "a000")
    assert "conf/bomb.yml" in info.value.message
