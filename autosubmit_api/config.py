"""Settings: the environment and the `.autosubmitrc`, read once at start and passed down.

Every option the reference reads is here with the same name and default (docs/api.md
section 2, docs/data.md A.1), plus a few of our own, each with a one-line help in OPTIONS.
Nothing here reads a file at import time: `load_settings()` does the reading.
"""

from __future__ import annotations

import configparser
import logging
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

log = logging.getLogger(__name__)

PROTECTION_LEVELS = ("ALL", "WRITEONLY", "NONE")
TRUE_STRINGS = ("True", "T", "true")


class ConfigError(Exception):
    """The site configuration cannot be used; the message is one line for the operator."""


def _truth(value: Optional[str]) -> bool:
    return value in TRUE_STRINGS


def _home() -> Path:
    return Path(os.path.expanduser("~"))


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not a whole number") from None
    if value <= 0:
        raise ConfigError(f"environment variable {name}={raw!r} must be greater than 0")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not a number") from None


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if not value > 0:
        raise ConfigError(f"environment variable {name}={env.get(name)!r} must be greater than 0")
    return value


def _csv(raw: Optional[str]) -> Tuple[str, ...]:
    return tuple(item.strip() for item in (raw or "").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the API needs to know about the site, immutable once built."""

    # .autosubmitrc (docs/data.md A.1); rc_path is None when no file was found.
    rc_path: Optional[str] = None
    db_dir: str = str(_home() / "debug" / "autosubmit")
    db_file: str = "autosubmit.db"
    db_backend: str = "sqlite"
    db_connection_url: str = ""
    local_root_dir: str = str(_home() / "debug" / "autosubmit")
    jobdata_dir: str = "/esarchive/autosubmit/as_metadata/data"
    structures_dir: str = "/esarchive/autosubmit/as_metadata/structures"
    historical_log_dir: str = "/esarchive/autosubmit/as_metadata/logs"
    global_log_dir: str = "/esarchive/autosubmit/Aslogs"
    graph_dir: str = str(_home() / "autosubmit" / "metadata" / "graph")
    statusdb_path: str = str(_home() / "autosubmit" / "metadata" / "test")
    statusdb_filename: str = "status.db"
    authorized_clients: Tuple[str, ...] = ()

    # Environment (docs/api.md 2.2).
    protection_level: str = "ALL"
    secret_key: str = ""
    secret_key_generated: bool = False
    secret_key_blank: bool = False  # SECRET_KEY was set to only whitespace, and ignored
    cas_server_url: str = ""
    cas_login_url: str = ""
    cas_verify_url: str = ""
    github_client_id: str = ""
    github_client_secret: str = ""
    github_whitelist_organization: str = ""
    github_whitelist_team: str = ""
    public_url: str = ""  # API_PUBLIC_URL: this API's address as its clients reach it
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_token_url: str = ""
    oidc_userinfo_url: str = ""
    oidc_username_source: str = ""
    oidc_username_claim: str = "sub"
    secret_token: str = ""
    secret_token_user: str = "User"
    root_path: str = ""
    run_background_tasks_on_start: bool = False
    disable_background_tasks: bool = False

    # Our own options (OPTIONS below documents each).
    github_api_url: str = "https://api.github.com"
    github_oauth_url: str = "https://github.com"
    admin_users: Tuple[str, ...] = ()
    owner_check: bool = True
    max_page_size: int = 1000
    cache_entries: int = 64
    cache_small_entries: int = 1024
    sqlite_timeout: float = 2.0
    max_body_bytes: int = 2**20
    jwt_lifetime_seconds: int = 420000
    worker_interval_seconds: int = 300
    graph_worker_interval_seconds: int = 3600
    details_worker_interval_seconds: int = 14400
    examples: bool = False
    testing: bool = False
    # Hostile files (docs/security.md): extra readable roots and the bounds of a log read.
    extra_roots: Tuple[str, ...] = ()
    log_max_decompressed_bytes: int = 64 * 1024 * 1024
    log_max_kept_bytes: int = 2 * 1024 * 1024
    log_max_line_bytes: int = 64 * 1024
    # The error log's format: plain `text` lines, or `json` ones with a line per request
    # (autosubmit_api/request_log.py, docs/logging.md).
    log_format: str = "text"
    # GET /metrics in the Prometheus text format (autosubmit_api/prometheus_metrics.py,
    # docs/metrics.md); off: the route answers 404.
    metrics_enabled: bool = True
    # The change feed's live stream (GET /v4/experiments/<expid>/events, docs/api-usage.md):
    # seconds between checks of a watched experiment's job list, seconds between heartbeat
    # comments, and streams one process holds at most.
    events_interval_seconds: float = 5.0
    events_heartbeat_seconds: float = 15.0
    events_max_subscribers: int = 200
    # Threads per worker process of the server (gunicorn's `threads`), set by `start`; 0 when
    # unknown (the WSGI test client, another server). Streams are capped below it.
    server_threads: int = 0

    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def db_path(self) -> str:
        return os.path.join(self.db_dir, self.db_file)

    @property
    def as_times_db_path(self) -> str:
        return os.path.join(self.db_dir, "as_times.db")

    def replace(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


# name -> (environment variable or rc key, default shown in docs/configuration.md, one-line help)
OPTIONS = {
    "protection_level": ("PROTECTION_LEVEL", "ALL", "ALL, WRITEONLY or NONE; anything else means ALL"),
    "secret_key": ("SECRET_KEY", "random per start", "HS256 key for JWTs; several hosts must share one"),
    "cas_server_url": ("CAS_SERVER_URL", "", "CAS base URL, e.g. https://cas.example/cas/"),
    "cas_login_url": ("CAS_LOGIN_URL", "CAS_SERVER_URL + login", "CAS login page for the v3 /login flow"),
    "cas_verify_url": ("CAS_VERIFY_URL", "CAS_SERVER_URL + serviceValidate", "CAS ticket check for /login"),
    "public_url": (
        "API_PUBLIC_URL",
        "",
        "this API's public base URL, e.g. https://api.example.org (the v4 "
        "CAS login's own service URL; never taken from the request's Host)",
    ),
    "github_client_id": ("GITHUB_OAUTH_CLIENT_ID", "", "GitHub OAuth app client id"),
    "github_client_secret": ("GITHUB_OAUTH_CLIENT_SECRET", "", "GitHub OAuth app secret"),
    "github_whitelist_organization": ("GITHUB_OAUTH_WHITELIST_ORGANIZATION", "", "only members of this org"),
    "github_whitelist_team": ("GITHUB_OAUTH_WHITELIST_TEAM", "", "only active members of this team of the org"),
    "github_api_url": ("GITHUB_API_URL", "https://api.github.com", "GitHub API base (GitHub Enterprise, tests)"),
    "github_oauth_url": ("GITHUB_OAUTH_URL", "https://github.com", "GitHub OAuth base for the code exchange"),
    "oidc_client_id": ("OIDC_CLIENT_ID", "", "OpenID Connect client id (the GUI's `oidc` login)"),
    "oidc_client_secret": ("OIDC_CLIENT_SECRET", "", "OpenID Connect client secret"),
    "oidc_token_url": ("OIDC_TOKEN_URL", "", "the provider's token endpoint (code exchange)"),
    "oidc_userinfo_url": ("OIDC_USERINFO_URL", "", "the provider's userinfo endpoint (OIDC_USERNAME_SOURCE=userinfo)"),
    "oidc_username_source": (
        "OIDC_USERNAME_SOURCE",
        "userinfo if OIDC_USERINFO_URL is set, else id_token",
        "where the user name is read: `userinfo` (the userinfo call) or `id_token` "
        "(a claim of the ID token the code exchange returns)",
    ),
    "oidc_username_claim": (
        "OIDC_USERNAME_CLAIM",
        "sub",
        "the claim naming the user, e.g. preferred_username or email",
    ),
    "secret_token": (
        "AS_API_SECRET_TOKEN",
        "",
        "a static token accepted like a login token (the GUI's `secret-token` login); off when unset",
    ),
    "secret_token_user": ("AS_API_SECRET_TOKEN_USER", "User", "the user name AS_API_SECRET_TOKEN stands for"),
    "root_path": ("AS_API_ROOT_PATH", "", "path prefix the API is served under behind a proxy, e.g. /api"),
    "run_background_tasks_on_start": ("RUN_BACKGROUND_TASKS_ON_START", "false", "run every worker once at start"),
    "disable_background_tasks": ("DISABLE_BACKGROUND_TASKS", "false", "start no background scheduler"),
    "admin_users": (
        "API_ADMIN_USERS",
        "",
        "comma-separated users who may change any experiment and read the audit trail (docs/audit.md)",
    ),
    "owner_check": ("API_OWNER_CHECK", "true", "false lets any logged-in user change any description"),
    "max_page_size": ("API_MAX_PAGE_SIZE", "1000", "largest page_size a list answers; larger is capped"),
    "cache_entries": (
        "API_CACHE_ENTRIES",
        "64",
        "large parsed files (job lists, histories, dependencies, "
        "layouts) kept in memory per process (LRU); rendered job views: 4 per entry",
    ),
    "cache_small_entries": (
        "API_CACHE_SMALL_ENTRIES",
        "1024",
        "small parsed files (configurations, metrics) kept per process, in their own LRU",
    ),
    "sqlite_timeout": ("API_SQLITE_TIMEOUT", "2.0", "seconds a read waits for a locked SQLite file"),
    "max_body_bytes": (
        "API_MAX_BODY_BYTES",
        "1048576",
        "largest request body accepted; a larger one is answered 413 without being read",
    ),
    "worker_interval_seconds": ("API_WORKER_INTERVAL", "300", "seconds between background runs"),
    "graph_worker_interval_seconds": ("API_GRAPH_WORKER_INTERVAL", "3600", "seconds between layout runs"),
    "details_worker_interval_seconds": (
        "API_DETAILS_WORKER_INTERVAL",
        "14400",
        "seconds between runs of the details worker",
    ),
    "extra_roots": (
        "API_EXTRA_ROOTS",
        "",
        "more directories (separated by `:`, os.pathsep) an "
        "experiment's files may resolve into, e.g. the scratch filesystem `LOG_<expid>` links to",
    ),
    "log_max_decompressed_bytes": (
        "API_LOG_MAX_DECOMPRESSED_BYTES",
        "67108864",
        "bytes a log read decompresses (or reads) at most",
    ),
    "log_max_kept_bytes": ("API_LOG_MAX_KEPT_BYTES", "2097152", "bytes of lines a log tail keeps at most"),
    "log_max_line_bytes": ("API_LOG_MAX_LINE_BYTES", "65536", "longer log lines are cut, with a marker"),
    "log_format": (
        "API_LOG_FORMAT",
        "text",
        "`text` (plain lines for a terminal) or `json` (one JSON object "
        "per line, one line per request; docs/logging.md)",
    ),
    "metrics_enabled": (
        "API_METRICS",
        "true",
        "false turns `GET /metrics` (Prometheus text format, gated like the other read routes) off: "
        "it answers 404 (docs/metrics.md)",
    ),
    "events_interval_seconds": (
        "API_EVENTS_INTERVAL",
        "5",
        "seconds between two checks of a watched experiment's job list by the event stream "
        "(one check per experiment and process, shared by all its subscribers)",
    ),
    "events_heartbeat_seconds": (
        "API_EVENTS_HEARTBEAT",
        "15",
        "seconds between the heartbeat comments of an event stream",
    ),
    "events_max_subscribers": (
        "API_EVENTS_MAX_SUBSCRIBERS",
        "200",
        "event streams one server process holds at most (and never more than its threads "
        "less a reserve for ordinary requests); one more is answered 503",
    ),
    "autosubmit_configuration": ("AUTOSUBMIT_CONFIGURATION", "", "path of the .autosubmitrc to read"),
}

# rc section/key -> Settings field (docs/data.md A.1)
RC_KEYS = {
    ("database", "path"): "db_dir",
    ("database", "filename"): "db_file",
    ("database", "backend"): "db_backend",
    ("database", "connection_url"): "db_connection_url",
    ("local", "path"): "local_root_dir",
    ("historicdb", "path"): "jobdata_dir",
    ("structures", "path"): "structures_dir",
    ("historiclog", "path"): "historical_log_dir",
    ("globallogs", "path"): "global_log_dir",
    ("graph", "path"): "graph_dir",
    ("statusdb", "path"): "statusdb_path",
    ("statusdb", "filename"): "statusdb_filename",
}
# Directories that must exist when the rc names them: the API reads from them on every request.
REQUIRED_DIRS = (("database", "path"), ("local", "path"))

# rc section/key -> (default shown in docs/configuration.md, one-line help); RC_KEYS plus [clients].
RC_HELP = {
    ("database", "path"): ("~/debug/autosubmit", "directory of the central DB and of as_times.db (must exist)"),
    ("database", "filename"): ("autosubmit.db", "central DB file name"),
    ("database", "backend"): ("sqlite", "sqlite, or postgres (Autosubmit 4.1.16+ sites)"),
    ("database", "connection_url"): ("", "PostgreSQL URL, needed with backend = postgres"),
    ("local", "path"): ("~/debug/autosubmit", "experiments root, one directory per experiment (must exist)"),
    ("historicdb", "path"): ("/esarchive/autosubmit/as_metadata/data", "job_data_EXPID.db directory"),
    ("structures", "path"): ("/esarchive/autosubmit/as_metadata/structures", "structure_EXPID.db directory"),
    ("historiclog", "path"): ("/esarchive/autosubmit/as_metadata/logs", "history-module log directory"),
    ("globallogs", "path"): ("/esarchive/autosubmit/Aslogs", "Autosubmit global logs (read, not used)"),
    ("graph", "path"): ("[local] path + /metadata/graph", "graph_data_EXPID.db directory (saved layouts)"),
    ("statusdb", "path"): (
        "~/autosubmit/metadata/test",
        "file-status DB directory (used when [local] path/as_metadata/test has none)",
    ),
    ("statusdb", "filename"): ("status.db", "file-status DB file name"),
    ("clients", "authorized"): ("", "whitespace-separated front-end URLs allowed to log in; * = any (v4)"),
}


def configuration_markdown() -> str:
    """docs/configuration.md's tables, generated from OPTIONS and RC_HELP."""
    lines = ["| environment variable | default | meaning |", "|---|---|---|"]
    for variable, default, help_text in OPTIONS.values():
        lines.append(f"| `{variable}` | {default or '(unset)'} | {help_text} |")
    lines += ["", "| `.autosubmitrc` key | default | meaning |", "|---|---|---|"]
    for (section, key), (default, help_text) in RC_HELP.items():
        lines.append(f"| `[{section}] {key}` | {default or '(unset)'} | {help_text} |")
    return "\n".join(lines) + "\n"


def find_rc_file(env: Mapping[str, str]) -> Optional[Path]:
    """The first existing file of the reference's lookup order, or None."""
    candidates = []
    if env.get("AUTOSUBMIT_CONFIGURATION"):
        candidates.append(Path(env["AUTOSUBMIT_CONFIGURATION"]))
    home = Path(env.get("HOME") or _home())
    candidates += [Path.cwd() / ".autosubmitrc", home / ".autosubmitrc", Path("/etc/autosubmitrc")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


class KeepCaseParser(configparser.ConfigParser):
    """Option names as written (configparser lowercases them by default)."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def _read_rc(path: Path) -> Dict[str, object]:
    parser = KeepCaseParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (configparser.Error, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{path}: cannot parse: {first}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    values: Dict[str, str] = {}
    for (section, key), name in RC_KEYS.items():
        if parser.has_option(section, key):
            value = parser.get(section, key).strip()
            if not value:
                raise ConfigError(f"{path}: [{section}] {key} is empty")
            values[name] = os.path.expanduser(value)
    for section, key in REQUIRED_DIRS:
        name = RC_KEYS[(section, key)]
        if name in values and not os.path.isdir(values[name]):
            raise ConfigError(f"{path}: [{section}] {key} = {values[name]} is not an existing directory")
    backend = values.get("db_backend", "sqlite").lower()
    if backend not in ("sqlite", "postgres"):
        raise ConfigError(f"{path}: [database] backend = {backend} (expected sqlite or postgres)")
    values["db_backend"] = backend
    if backend == "postgres" and not values.get("db_connection_url"):
        raise ConfigError(f"{path}: [database] backend = postgres needs [database] connection_url")
    if "graph_dir" not in values:
        values["graph_dir"] = os.path.join(values.get("local_root_dir", Settings.local_root_dir), "metadata", "graph")
    values["rc_path"] = str(path)
    found: Dict[str, object] = dict(values)
    if parser.has_option("clients", "authorized"):
        found["authorized_clients"] = tuple(parser.get("clients", "authorized").split())
    return found


def _dotenv_files() -> List[Path]:
    """`./.env`, then the first `.env` upward from the package (the reference's search, Q7)."""
    found = []
    cwd_env = Path.cwd() / ".env"
    if cwd_env.is_file():
        found.append(cwd_env)
    here = Path(__file__).resolve().parent
    for directory in (here, *here.parents):
        candidate = directory / ".env"
        if candidate.is_file():
            if candidate.resolve() not in {f.resolve() for f in found}:
                found.append(candidate)
            break
    return found


def _load_dotenv(env: Dict[str, str]) -> None:
    """Variables of the `.env` files, never overriding the environment."""
    try:
        from dotenv import dotenv_values
    except ImportError:  # pragma: no cover - python-dotenv is a dependency
        return
    for path in _dotenv_files():
        for key, value in dotenv_values(path).items():
            if value is not None:
                env.setdefault(key, value)


def process_environment(dotenv: bool = True) -> Dict[str, str]:
    """A copy of the process environment, completed by `.env` files (never overriding)."""
    env = dict(os.environ)
    if dotenv:
        _load_dotenv(env)
    return env


OIDC_USERNAME_SOURCES = ("userinfo", "id_token")


def _oidc_username_source(env: Mapping[str, str]) -> str:
    """`userinfo` or `id_token`. Unset: userinfo when OIDC_USERINFO_URL is set (this API's first
    OIDC login), else id_token (upstream 4.2.0's default)."""
    raw = (env.get("OIDC_USERNAME_SOURCE") or "").strip().lower()
    if not raw:
        return "userinfo" if env.get("OIDC_USERINFO_URL") else "id_token"
    if raw not in OIDC_USERNAME_SOURCES:
        raise ConfigError(f"environment variable OIDC_USERNAME_SOURCE={raw!r} must be userinfo or id_token")
    return raw


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    """An on/off variable: true/false, 1/0, yes/no, on/off (any case); unset or empty: `default`."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "1", "yes", "on"):
        return True
    if raw in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"environment variable {name}={raw!r} must be true or false")


def _log_format(env: Mapping[str, str]) -> str:
    raw = (env.get("API_LOG_FORMAT") or "").strip().lower() or Settings.log_format
    if raw not in ("text", "json"):
        raise ConfigError(f"environment variable API_LOG_FORMAT={raw!r} must be text or json")
    return raw


def _root_path(raw: str) -> str:
    """AS_API_ROOT_PATH as `/a/b` (leading slash, no trailing one); "" for none."""
    parts = [part for part in raw.strip().split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise ConfigError(f"environment variable AS_API_ROOT_PATH={raw!r} must be a plain path like /api")
    return "/" + "/".join(parts) if parts else ""


def load_settings(
    env: Optional[Mapping[str, str]] = None, *, dotenv: Optional[bool] = None, **overrides: Any
) -> Settings:
    """Build Settings from `env` (default: the process environment) and the rc file it points to.

    `.env` files are read only for the process environment unless `dotenv` says otherwise.
    """
    if dotenv is None:
        dotenv = env is None
    env = dict(os.environ if env is None else env)
    if dotenv:
        _load_dotenv(env)
    values: Dict[str, Any] = {}  # Settings' fields, of their several types
    rc = find_rc_file(env)
    if rc is not None:
        values.update(_read_rc(rc))

    level = env.get("PROTECTION_LEVEL", "")
    values["protection_level"] = level if level in ("NONE", "WRITEONLY") else "ALL"

    secret = env.get("SECRET_KEY", "")
    if secret.strip():
        values["secret_key"] = secret
    else:
        # Empty or whitespace only: as if unset (a blank key would sign forgeable tokens).
        values["secret_key"] = secrets.token_urlsafe(48)
        values["secret_key_generated"] = True
        values["secret_key_blank"] = secret != ""

    cas = env.get("CAS_SERVER_URL", "")
    values["cas_server_url"] = cas
    values["cas_login_url"] = env.get("CAS_LOGIN_URL") or (cas + "login" if cas else "")
    values["cas_verify_url"] = env.get("CAS_VERIFY_URL") or (cas + "serviceValidate" if cas else "")
    values["public_url"] = env.get("API_PUBLIC_URL", "").strip().rstrip("/")
    values["github_client_id"] = env.get("GITHUB_OAUTH_CLIENT_ID", "")
    values["github_client_secret"] = env.get("GITHUB_OAUTH_CLIENT_SECRET", "")
    values["github_whitelist_organization"] = env.get("GITHUB_OAUTH_WHITELIST_ORGANIZATION", "")
    values["github_whitelist_team"] = env.get("GITHUB_OAUTH_WHITELIST_TEAM", "")
    values["github_api_url"] = env.get("GITHUB_API_URL", Settings.github_api_url).rstrip("/")
    values["github_oauth_url"] = env.get("GITHUB_OAUTH_URL", Settings.github_oauth_url).rstrip("/")
    values["oidc_client_id"] = env.get("OIDC_CLIENT_ID", "")
    values["oidc_client_secret"] = env.get("OIDC_CLIENT_SECRET", "")
    values["oidc_token_url"] = env.get("OIDC_TOKEN_URL", "")
    values["oidc_userinfo_url"] = env.get("OIDC_USERINFO_URL", "")
    values["oidc_username_source"] = _oidc_username_source(env)
    values["oidc_username_claim"] = (env.get("OIDC_USERNAME_CLAIM") or "").strip() or Settings.oidc_username_claim
    values["secret_token"] = env.get("AS_API_SECRET_TOKEN", "")
    values["secret_token_user"] = (env.get("AS_API_SECRET_TOKEN_USER") or "").strip() or Settings.secret_token_user
    values["root_path"] = _root_path(env.get("AS_API_ROOT_PATH", ""))
    values["run_background_tasks_on_start"] = _truth(env.get("RUN_BACKGROUND_TASKS_ON_START"))
    values["disable_background_tasks"] = _truth(env.get("DISABLE_BACKGROUND_TASKS"))
    values["admin_users"] = _csv(env.get("API_ADMIN_USERS"))
    values["owner_check"] = env.get("API_OWNER_CHECK", "true").lower() not in ("false", "0", "no", "off")
    values["max_page_size"] = _positive_int(env, "API_MAX_PAGE_SIZE", Settings.max_page_size)
    values["cache_entries"] = _positive_int(env, "API_CACHE_ENTRIES", Settings.cache_entries)
    values["cache_small_entries"] = _positive_int(env, "API_CACHE_SMALL_ENTRIES", Settings.cache_small_entries)
    values["sqlite_timeout"] = _float(env, "API_SQLITE_TIMEOUT", Settings.sqlite_timeout)
    values["max_body_bytes"] = _positive_int(env, "API_MAX_BODY_BYTES", Settings.max_body_bytes)
    values["worker_interval_seconds"] = _positive_int(env, "API_WORKER_INTERVAL", Settings.worker_interval_seconds)
    values["graph_worker_interval_seconds"] = _positive_int(
        env, "API_GRAPH_WORKER_INTERVAL", Settings.graph_worker_interval_seconds
    )
    values["details_worker_interval_seconds"] = _positive_int(
        env, "API_DETAILS_WORKER_INTERVAL", Settings.details_worker_interval_seconds
    )
    values["extra_roots"] = tuple(
        os.path.expanduser(item.strip()) for item in env.get("API_EXTRA_ROOTS", "").split(os.pathsep) if item.strip()
    )
    for name in ("log_max_decompressed_bytes", "log_max_kept_bytes", "log_max_line_bytes"):
        values[name] = _positive_int(env, OPTIONS[name][0], getattr(Settings, name))
    values["log_format"] = _log_format(env)
    values["metrics_enabled"] = _switch(env, "API_METRICS", Settings.metrics_enabled)
    for name in ("events_interval_seconds", "events_heartbeat_seconds"):
        values[name] = _positive_float(env, OPTIONS[name][0], getattr(Settings, name))
    values["events_max_subscribers"] = _positive_int(env, "API_EVENTS_MAX_SUBSCRIBERS", Settings.events_max_subscribers)
    known = {f.name for f in fields(Settings)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    values.update(overrides)
    return Settings(**values)
