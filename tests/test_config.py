"""config.load_settings: rc lookup order, every key, defaults, env parsing, docs/configuration.md coverage."""

import os
import re
from pathlib import Path

import pytest

from autosubmit_api import config
from autosubmit_api.config import OPTIONS, RC_KEYS, ConfigError, Settings, find_rc_file, load_settings

CONFIGURATION_DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def rc(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_rc_lookup_order_env_then_cwd_then_home(tmp_path, cwd):
    home = tmp_path / "home"
    home.mkdir()
    explicit = rc(tmp_path / "explicit.rc", "[database]\nfilename = explicit.db\n")
    rc(cwd / ".autosubmitrc", "[database]\nfilename = cwd.db\n")
    rc(home / ".autosubmitrc", "[database]\nfilename = home.db\n")
    env = {"HOME": str(home), "AUTOSUBMIT_CONFIGURATION": str(explicit)}
    assert load_settings(env, dotenv=False).db_file == "explicit.db"
    # A path that does not exist is ignored, as in the reference.
    env["AUTOSUBMIT_CONFIGURATION"] = str(tmp_path / "missing.rc")
    assert load_settings(env, dotenv=False).db_file == "cwd.db"
    (cwd / ".autosubmitrc").unlink()
    assert load_settings(env, dotenv=False).db_file == "home.db"
    assert find_rc_file(env) == home / ".autosubmitrc"
    (home / ".autosubmitrc").unlink()
    expected = Path("/etc/autosubmitrc") if Path("/etc/autosubmitrc").is_file() else None
    assert find_rc_file(env) == expected


def test_defaults_without_any_rc(tmp_path, cwd):
    settings = load_settings({"HOME": str(tmp_path)}, dotenv=False)
    if Path("/etc/autosubmitrc").is_file():
        pytest.skip("this machine has an /etc/autosubmitrc")
    home = os.path.expanduser("~")
    assert settings.rc_path is None
    assert settings.db_file == "autosubmit.db" and settings.db_backend == "sqlite"
    assert settings.db_dir == os.path.join(home, "debug", "autosubmit")
    assert settings.local_root_dir == os.path.join(home, "debug", "autosubmit")
    assert settings.jobdata_dir == "/esarchive/autosubmit/as_metadata/data"
    assert settings.structures_dir == "/esarchive/autosubmit/as_metadata/structures"
    assert settings.historical_log_dir == "/esarchive/autosubmit/as_metadata/logs"
    assert settings.global_log_dir == "/esarchive/autosubmit/Aslogs"
    assert settings.graph_dir == os.path.join(home, "autosubmit", "metadata", "graph")
    assert (settings.statusdb_filename, settings.authorized_clients) == ("status.db", ())
    assert settings.protection_level == "ALL"
    assert settings.max_page_size == 1000 and settings.sqlite_timeout == 2.0
    assert not settings.run_background_tasks_on_start and not settings.disable_background_tasks


def test_every_rc_key_is_read(tmp_path):
    dirs = {name: tmp_path / name for name in ("db", "root", "data", "struct", "hlog", "glog", "graph", "sdb")}
    for path in dirs.values():
        path.mkdir()
    path = rc(
        tmp_path / "site.rc",
        f"""[database]
path = {dirs["db"]}
filename = central.db
backend = sqlite
connection_url = unused
[local]
path = {dirs["root"]}
[historicdb]
path = {dirs["data"]}
[structures]
path = {dirs["struct"]}
[historiclog]
path = {dirs["hlog"]}
[globallogs]
path = {dirs["glog"]}
[graph]
path = {dirs["graph"]}
[statusdb]
path = {dirs["sdb"]}
filename = fs.db
[clients]
authorized = https://gui.example http://localhost:3000
""",
    )
    settings = load_settings({"AUTOSUBMIT_CONFIGURATION": str(path)}, dotenv=False)
    assert settings.rc_path == str(path)
    assert settings.db_path == str(dirs["db"] / "central.db")
    assert settings.as_times_db_path == str(dirs["db"] / "as_times.db")
    assert (settings.local_root_dir, settings.jobdata_dir, settings.structures_dir) == (
        str(dirs["root"]),
        str(dirs["data"]),
        str(dirs["struct"]),
    )
    assert (settings.historical_log_dir, settings.global_log_dir, settings.graph_dir) == (
        str(dirs["hlog"]),
        str(dirs["glog"]),
        str(dirs["graph"]),
    )
    assert (settings.statusdb_path, settings.statusdb_filename) == (str(dirs["sdb"]), "fs.db")
    assert settings.db_connection_url == "unused"
    assert settings.authorized_clients == ("https://gui.example", "http://localhost:3000")
    assert {name for name in RC_KEYS.values()} <= {f for f in Settings.__dataclass_fields__}


def test_graph_dir_follows_the_local_root_when_an_rc_lacks_it(tmp_path):
    path = rc(tmp_path / "site.rc", f"[local]\npath = {tmp_path}\n")
    settings = load_settings({"AUTOSUBMIT_CONFIGURATION": str(path)}, dotenv=False)
    assert settings.graph_dir == str(tmp_path / "metadata" / "graph")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[database\npath = x\n", "cannot parse"),
        ("[database]\npath =\n", "[database] path is empty"),
        ("[database]\nbackend = mysql\n", "expected sqlite or postgres"),
        ("[database]\nbackend = postgres\n", "needs [database] connection_url"),
        ("[local]\npath = /no/such/dir\n", "is not an existing directory"),
    ],
)
def test_unusable_rc_files_are_one_line_config_errors(tmp_path, text, message):
    path = rc(tmp_path / "bad.rc", text)
    with pytest.raises(ConfigError) as info:
        load_settings({"AUTOSUBMIT_CONFIGURATION": str(path)}, dotenv=False)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "value, level",
    [
        ("NONE", "NONE"),
        ("WRITEONLY", "WRITEONLY"),
        ("ALL", "ALL"),
        ("none", "ALL"),
        ("", "ALL"),
        ("whatever", "ALL"),
        (None, "ALL"),
    ],
)
def test_protection_level_is_case_sensitive_and_defaults_to_all(tmp_path, value, level):
    env = {"HOME": str(tmp_path)}
    if value is not None:
        env["PROTECTION_LEVEL"] = value
    assert load_settings(env, dotenv=False).protection_level == level


@pytest.mark.parametrize(
    "value, truth",
    [
        ("True", True),
        ("T", True),
        ("true", True),
        ("TRUE", False),
        ("1", False),
        ("yes", False),
        ("", False),
    ],
)
def test_background_task_variables_follow_the_reference_truth_rule(tmp_path, value, truth):
    env = {"HOME": str(tmp_path), "RUN_BACKGROUND_TASKS_ON_START": value, "DISABLE_BACKGROUND_TASKS": value}
    settings = load_settings(env, dotenv=False)
    assert settings.run_background_tasks_on_start is truth
    assert settings.disable_background_tasks is truth


def test_cas_urls_derive_from_the_server_url(tmp_path):
    settings = load_settings({"HOME": str(tmp_path), "CAS_SERVER_URL": "https://cas.example/cas/"}, dotenv=False)
    assert settings.cas_login_url == "https://cas.example/cas/login"
    assert settings.cas_verify_url == "https://cas.example/cas/serviceValidate"
    settings = load_settings(
        {"HOME": str(tmp_path), "CAS_SERVER_URL": "https://c/", "CAS_LOGIN_URL": "https://l"}, dotenv=False
    )
    assert settings.cas_login_url == "https://l"


def test_secret_key_is_random_per_start_when_unset(tmp_path):
    one = load_settings({"HOME": str(tmp_path)}, dotenv=False)
    two = load_settings({"HOME": str(tmp_path)}, dotenv=False)
    assert one.secret_key_generated and one.secret_key != two.secret_key and len(one.secret_key) >= 32
    fixed = load_settings({"HOME": str(tmp_path), "SECRET_KEY": "k"}, dotenv=False)
    assert fixed.secret_key == "k" and not fixed.secret_key_generated


@pytest.mark.parametrize(
    "env,source",
    [
        ({}, "id_token"),
        ({"OIDC_USERINFO_URL": "https://idp/userinfo"}, "userinfo"),
        ({"OIDC_USERINFO_URL": "https://idp/userinfo", "OIDC_USERNAME_SOURCE": "ID_TOKEN"}, "id_token"),
        ({"OIDC_USERNAME_SOURCE": "userinfo"}, "userinfo"),
    ],
)
def test_the_oidc_user_name_source_follows_upstream_unless_a_userinfo_url_is_set(tmp_path, env, source):
    settings = load_settings({"HOME": str(tmp_path), **env}, dotenv=False)
    assert (settings.oidc_username_source, settings.oidc_username_claim) == (source, "sub")


def test_oidc_settings_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="OIDC_USERNAME_SOURCE"):
        load_settings({"HOME": str(tmp_path), "OIDC_USERNAME_SOURCE": "cookie"}, dotenv=False)
    settings = load_settings({"HOME": str(tmp_path), "OIDC_USERNAME_CLAIM": " email "}, dotenv=False)
    assert settings.oidc_username_claim == "email"


@pytest.mark.parametrize(
    "raw,root", [("", ""), ("/", ""), ("api", "/api"), ("/api/", "/api"), ("//as/api//", "/as/api")]
)
def test_the_root_path_is_normalized(tmp_path, raw, root):
    assert load_settings({"HOME": str(tmp_path), "AS_API_ROOT_PATH": raw}, dotenv=False).root_path == root


def test_a_root_path_with_dot_segments_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="AS_API_ROOT_PATH"):
        load_settings({"HOME": str(tmp_path), "AS_API_ROOT_PATH": "/api/../x"}, dotenv=False)


def test_the_secret_token_is_off_unless_set(tmp_path):
    off = load_settings({"HOME": str(tmp_path)}, dotenv=False)
    assert (off.secret_token, off.secret_token_user) == ("", "User")
    on = load_settings(
        {"HOME": str(tmp_path), "AS_API_SECRET_TOKEN": "s" * 40, "AS_API_SECRET_TOKEN_USER": "ops"}, dotenv=False
    )
    assert (on.secret_token, on.secret_token_user) == ("s" * 40, "ops")


def test_numeric_options_are_checked(tmp_path):
    env = {"HOME": str(tmp_path), "API_MAX_PAGE_SIZE": "50", "API_SQLITE_TIMEOUT": "0.5"}
    settings = load_settings(env, dotenv=False)
    assert (settings.max_page_size, settings.sqlite_timeout) == (50, 0.5)
    for name, value in (("API_MAX_PAGE_SIZE", "0"), ("API_MAX_PAGE_SIZE", "x"), ("API_SQLITE_TIMEOUT", "soon")):
        with pytest.raises(ConfigError, match=name):
            load_settings({"HOME": str(tmp_path), name: value}, dotenv=False)


def test_dotenv_in_the_working_directory_is_read_without_overriding(cwd, monkeypatch):
    (cwd / ".env").write_text("PROTECTION_LEVEL=NONE\nAPI_MAX_PAGE_SIZE=7\n")
    monkeypatch.setenv("API_MAX_PAGE_SIZE", "9")
    monkeypatch.delenv("PROTECTION_LEVEL", raising=False)
    env = config.process_environment()
    assert env["PROTECTION_LEVEL"] == "NONE" and env["API_MAX_PAGE_SIZE"] == "9"
    assert "PROTECTION_LEVEL" not in config.process_environment(dotenv=False)


def test_unknown_overrides_are_refused(tmp_path):
    with pytest.raises(TypeError):
        load_settings({"HOME": str(tmp_path)}, dotenv=False, no_such_setting=1)


def test_the_configuration_doc_documents_every_option_and_rc_key():
    text = CONFIGURATION_DOC.read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for name, (variable, _default, _help) in OPTIONS.items():
        assert f"`{variable}`" in section, f"docs/configuration.md ## Configuration lacks {variable}"
    for rc_section, key in RC_KEYS:
        assert re.search(rf"`\[{rc_section}\] {key}`", section), f"docs/configuration.md lacks [{rc_section}] {key}"
    # The tables are generated: regenerate them with config.configuration_markdown().
    assert config.configuration_markdown() in section


def test_extra_roots_and_log_bounds_are_read_from_the_environment(tmp_path):
    env = {
        "HOME": str(tmp_path),
        "API_EXTRA_ROOTS": f"/scratch/a{os.pathsep} {os.pathsep}~/logs",
        "API_LOG_MAX_DECOMPRESSED_BYTES": "1000",
        "API_LOG_MAX_KEPT_BYTES": "200",
        "API_LOG_MAX_LINE_BYTES": "20",
    }
    settings = load_settings(env, dotenv=False)
    assert settings.extra_roots == ("/scratch/a", os.path.expanduser("~/logs"))
    assert (settings.log_max_decompressed_bytes, settings.log_max_kept_bytes, settings.log_max_line_bytes) == (
        1000,
        200,
        20,
    )
    defaults = load_settings({"HOME": str(tmp_path)}, dotenv=False)
    assert defaults.extra_roots == ()
    assert (defaults.log_max_decompressed_bytes, defaults.log_max_kept_bytes, defaults.log_max_line_bytes) == (
        64 * 1024 * 1024,
        2 * 1024 * 1024,
        64 * 1024,
    )
    with pytest.raises(ConfigError, match="API_LOG_MAX_LINE_BYTES"):
        load_settings({"HOME": str(tmp_path), "API_LOG_MAX_LINE_BYTES": "0"}, dotenv=False)
