"""`autosubmit_api`: the console script (docs/api.md 2.1). `start` runs the app under gunicorn.

The options, their names and their effect on gunicorn are the reference's (Q5: an omitted
option leaves gunicorn's own default), except three defaults of ours, each used only when
no source (command line, `-c` file, `GUNICORN_CMD_ARGS`) sets it: `--timeout` 600, and the
process model of docs/deployment.md, one worker process (gunicorn's default) with
`gthread` and DEFAULT_THREADS threads, so a host parses each file version once and every
request is served from that one cache. `-w N` still gives N such processes. The app is built
once in the gunicorn master (`preload_app`), so the background scheduler runs once per host,
not once per worker.

With no `.autosubmitrc` anywhere and `AUTOSUBMIT_CONFIGURATION` unset, `start` serves the
bundled example experiments (autosubmit_api/examples.py) so a first `curl` answers.

Besides 4.0.1's options, `start` accepts every command-line setting of the installed gunicorn,
as upstream 4.2.0's CLI does (`-c CONFIG`, `--access-logfile`, `--certfile`, `--backlog`...):
they are generated from gunicorn.config's setting classes, so a new gunicorn brings its new
options. An option `start` does not know is reported on stderr and ignored, so a site's
existing start command keeps working (docs/cli.md).

`start` also gives the workers one PROMETHEUS_MULTIPROC_DIR (a fresh one per start unless the
operator set one) and a child_exit hook, so `/metrics` counts every worker (docs/metrics.md).

`client` is the command-line client of a running API (autosubmit_api/client, docs/client.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from typing import Any, Callable, Dict, List, Optional

from autosubmit_api import __version__
from autosubmit_api.config import ConfigError, Settings, find_rc_file, load_settings, process_environment

log = logging.getLogger(__name__)

PROG = "Autosubmit API"
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_TIMEOUT = 600
# The default process model (docs/deployment.md, "Process model"): one process whose threads
# share one cache. A thread serves one request at a time, and an event stream holds its thread
# while it is open: 256 covers the 200 streams a process accepts by default
# (API_EVENTS_MAX_SUBSCRIBERS) with 56 threads left for ordinary requests. An idle thread
# costs little (gunicorn's pool starts threads only as requests need them).
DEFAULT_WORKER_CLASS = "gthread"
DEFAULT_THREADS = 256
# Settings that choose the process model: when any source names one of them, gunicorn's own
# defaults apply to the others (`-k gevent` alone must not get 256 threads, nor `-k sync`,
# which gunicorn turns into gthread when threads > 1).
MODEL_SETTINGS = ("worker_class", "threads")
# CLI option -> gunicorn setting, for the int options the reference ignores when <= 0.
POSITIVE_INT_OPTIONS = {
    "workers": "workers",
    "threads": "threads",
    "worker_connections": "worker_connections",
    "max_requests": "max_requests",
    "max_requests_jitter": "max_requests_jitter",
    "graceful_timeout": "graceful_timeout",
    "keepalive": "keepalive",
}


# Our options that stand for a gunicorn setting: gunicorn's other spellings of that setting
# (`--error-logfile`, `-t`, `--keep-alive`) are added as aliases of ours.
OUR_SETTINGS = {
    "bind": "bind",
    "workers": "workers",
    "log_level": "loglevel",
    "log_file": "errorlog",
    "daemon": "daemon",
    "timeout": "timeout",
    **POSITIVE_INT_OPTIONS,
}
# gunicorn settings `start` always sets (the background scheduler must run once per host, in
# the master; worker output goes to the error log): not offered as options.
FIXED_SETTINGS = ("preload_app", "capture_output")
GUNICORN_DEST = "gunicorn_"  # argparse dest of a generated option: gunicorn_<setting name>


class _Parser(argparse.ArgumentParser):
    """argparse that answers an argument error with `error: <message>` and the help, exit 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message}\n{self.format_help()}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="HTTP monitoring API for Autosubmit experiments")
    parser.add_argument("-v", "--version", action="version", version=f"{PROG} v{__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    start = commands.add_parser("start", help="start the API server (gunicorn)")
    start.add_argument(
        "--init-bg-tasks", action="store_true", help="run every background task once at startup, before serving"
    )
    start.add_argument("--disable-bg-tasks", action="store_true", help="start no background tasks")
    start.add_argument(
        "-b", "--bind", action="append", help="socket to bind, e.g. 0.0.0.0:8000 (repeatable; default 127.0.0.1:8000)"
    )
    start.add_argument(
        "-w", "--workers", type=int, help="number of worker processes (default 1, each with its own cache)"
    )
    start.add_argument("--log-level", type=str, help="error log level (default info)")
    start.add_argument("--log-file", type=str, help="error log file (default - for stderr)")
    start.add_argument("-D", "--daemon", action="store_true", help="run in the background")
    start.add_argument(
        "--threads",
        type=int,
        help=f"threads per worker (default {DEFAULT_THREADS} with the {DEFAULT_WORKER_CLASS} worker class)",
    )
    start.add_argument("--worker-connections", type=int, help="maximum simultaneous clients")
    start.add_argument("--max-requests", type=int, help="restart a worker after this many requests")
    start.add_argument("--max-requests-jitter", type=int, help="random jitter added to --max-requests")
    start.add_argument(
        "--timeout", type=int, help=f"seconds before a silent worker is restarted (default {DEFAULT_TIMEOUT})"
    )
    start.add_argument("--graceful-timeout", type=int, help="seconds to finish requests on restart")
    start.add_argument("--keepalive", type=int, help="seconds to keep an idle connection open")
    start.add_argument(
        "--streams",
        type=int,
        metavar="N",
        help="hold N event streams (GET /v4/experiments/<expid>/events) per worker process: the gthread "
        "worker with enough threads for them plus a reserve for ordinary requests (docs/deployment.md)",
    )
    _add_gunicorn_options(start)
    # Listed for the help only: main() hands `client ...` to autosubmit_api.client before parsing.
    commands.add_parser(
        "client", add_help=False, help="command-line client of a running API (autosubmit_api client --help)"
    )
    return parser


def _gunicorn_settings():
    """gunicorn's settings that have command-line flags, in gunicorn's order; [] without gunicorn."""
    try:
        from gunicorn.config import Config
    except ImportError:  # pragma: no cover - gunicorn is a dependency
        return []
    return [s for s in sorted(Config().settings.values(), key=lambda s: s.order) if s.cli]


def _add_gunicorn_options(start: argparse.ArgumentParser) -> None:
    """Every gunicorn command-line setting as an option of `start`, built from the setting's
    own description (flags, action, type, metavar, nargs, const), as gunicorn builds its CLI."""
    taken = set(start._option_string_actions)
    ours = {setting: dest for dest, setting in OUR_SETTINGS.items()}
    group = start.add_argument_group(
        "gunicorn settings", "passed to gunicorn as they are (see gunicorn's documentation)"
    )
    for setting in _gunicorn_settings():
        flags = [flag for flag in setting.cli if flag not in taken]
        if not flags or setting.name in FIXED_SETTINGS:
            continue
        kwargs: Dict[str, Any]  # add_argument's keywords, of as many types
        if setting.name in ours:
            dest = ours[setting.name]
            mine = next(a for a in start._actions if a.dest == dest)
            kwargs = {
                "dest": dest,
                "action": "store_true" if mine.nargs == 0 else "store",
                "help": f"same as {mine.option_strings[-1]}",
            }
            if mine.nargs != 0:
                kwargs["type"] = mine.type
        else:
            kwargs = {
                "dest": GUNICORN_DEST + setting.name,
                "action": setting.action or "store",
                "default": None,
                "help": f"{setting.short} [{setting.default}]".replace("%", "%%"),
            }
            if kwargs["action"] == "store":
                kwargs["type"] = setting.type or str
            if setting.meta is not None:
                kwargs["metavar"] = setting.meta
            if setting.nargs is not None:
                kwargs["nargs"] = setting.nargs
            if setting.const is not None:
                kwargs["const"] = setting.const
        group.add_argument(*flags, **kwargs)
        taken.update(flags)


def gunicorn_options(args: argparse.Namespace) -> Dict[str, object]:
    """The gunicorn settings for `start`'s arguments, as the reference maps them."""
    options: Dict[str, object] = {"preload_app": True, "capture_output": True}
    if args.bind:
        options["bind"] = list(args.bind)
    if args.log_level:
        options["loglevel"] = args.log_level
    if args.log_file:
        options["errorlog"] = args.log_file
    if args.daemon:
        options["daemon"] = True
    for name, setting in POSITIVE_INT_OPTIONS.items():
        value = getattr(args, name)
        if value is not None and value > 0:
            options[setting] = value
    options["timeout"] = args.timeout if args.timeout is not None else DEFAULT_TIMEOUT
    if getattr(args, "streams", None) is not None and args.streams > 0:
        # Each stream holds a thread while it waits (no CPU): N of them, and a reserve the
        # streams never take (services/job_events.reserve), so ordinary requests always find one.
        options.setdefault("worker_class", "gthread")
        asked = options.get("threads")
        options["threads"] = max(asked if isinstance(asked, int) else 0, stream_threads(args.streams))
    for key, value in vars(args).items():
        if key.startswith(GUNICORN_DEST) and value is not None:
            options[key[len(GUNICORN_DEST) :]] = value
    return options


def model_defaults(given) -> Dict[str, object]:
    """The default process model's settings, unless `given` (names of the settings some
    source sets) names a worker class or a thread count."""
    if any(name in given for name in MODEL_SETTINGS):
        return {}
    return {"worker_class": DEFAULT_WORKER_CLASS, "threads": DEFAULT_THREADS}


def stream_threads(streams: int) -> int:
    """Threads per worker that hold `streams` event streams and keep the reserve free."""
    from autosubmit_api.services.job_events import reserve

    threads = streams + 1
    while threads - reserve(threads) < streams:
        threads += 1
    return threads


def server_threads(cfg) -> int:
    """Threads a gunicorn worker process serves requests with, as the streams' cap sees it:
    gthread's (gunicorn also picks gthread for `sync` with threads > 1), 1 for a plain sync
    worker, 0 for the others (gevent, eventlet, tornado: not bounded by threads)."""
    klass = str(cfg.worker_class_str)
    if klass in ("sync", "gthread") or klass.endswith((".SyncWorker", ".ThreadWorker")):
        return max(1, int(cfg.threads))
    return 0


def _set_bg_env(args: argparse.Namespace, env) -> None:
    # The reference sets these only when unset, so an explicit environment value wins.
    if args.init_bg_tasks:
        env.setdefault("RUN_BACKGROUND_TASKS_ON_START", "True")
    if args.disable_bg_tasks:
        env.setdefault("DISABLE_BACKGROUND_TASKS", "True")
    if getattr(args, "streams", None) is not None and args.streams > 0:
        env.setdefault("API_EVENTS_MAX_SUBSCRIBERS", str(args.streams))


def prepare_settings(env=None) -> Settings:
    """The settings `start` serves: the site's, or the bundled examples when there is no site.

    `env` defaults to the process environment plus `.env`. ConfigError when the site
    configuration cannot be used.
    """
    env = process_environment() if env is None else dict(env)
    if find_rc_file(env) is None and not env.get("AUTOSUBMIT_CONFIGURATION"):
        from autosubmit_api import examples

        return examples.example_settings(env)
    if env.get("AUTOSUBMIT_CONFIGURATION") and not os.path.isfile(env["AUTOSUBMIT_CONFIGURATION"]):
        # The reference silently ignores a missing file; say which file is read instead.
        found = find_rc_file(env)
        print(
            f"autosubmit_api: AUTOSUBMIT_CONFIGURATION={env['AUTOSUBMIT_CONFIGURATION']} does not "
            f"exist; using {found if found else 'the built-in defaults'}",
            file=sys.stderr,
        )
    settings = load_settings(env, dotenv=False)
    if settings.db_backend == "sqlite" and not os.path.isfile(settings.db_path):
        print(
            f"autosubmit_api: warning: the central database {settings.db_path} does not exist; "
            "experiment routes will answer 503",
            file=sys.stderr,
        )
    return settings


def _application(settings: Settings, options: Dict[str, object], defaults: Optional[Dict[str, object]] = None):
    from gunicorn.app.base import Application

    options = dict(options)
    config_file = options.pop("config", None)
    below: Dict[str, object] = dict(defaults or {})

    class APIApplication(Application):
        """gunicorn serving create_app(settings). Precedence, lowest first: our defaults
        (timeout, process model), the `-c` config file, GUNICORN_CMD_ARGS, the command line;
        preload_app and capture_output are always on."""

        def init(self, parser, opts, args):  # pragma: no cover - Application's CLI hook, unused
            return None

        def load_config(self):
            env_args = self.cfg.parser().parse_args(self.cfg.get_cmd_args_from_env())
            from_env = {k for k, v in vars(env_args).items() if v is not None and k in self.cfg.settings}
            location = config_file or getattr(env_args, "config", None)
            from_file = self.load_config_from_module_name_or_filename(location) if location else {}
            # Our defaults come below every source: set only those no source sets.
            given = from_env | {k for k in from_file if k in self.cfg.settings} | set(options)
            model = model_defaults(given)
            for key, value in below.items():
                if key not in given and (key not in MODEL_SETTINGS or key in model):
                    self.cfg.set(key, value)
            # gunicorn >= 25.1 opens a control socket at $HOME/.gunicorn/gunicorn.ctl unless told
            # not to: a directory in the user's home that 4.0.1 never made, and two API servers
            # of one user would take each other's socket. Off unless a setting names one.
            named = (
                getattr(env_args, "control_socket", None) is not None
                or "control_socket" in options
                or "control_socket" in from_file
            )
            if "control_socket_disable" in self.cfg.settings and not named:
                self.cfg.set("control_socket_disable", True)
            for key, value in vars(env_args).items():
                if value is not None and key != "args" and key in self.cfg.settings:
                    self.cfg.set(key, value)
            for key, value in options.items():
                self.cfg.set(key, value)
            for key in FIXED_SETTINGS:
                self.cfg.set(key, True)
            if os.environ.get(METRICS_DIR_ENV):
                self.cfg.set("child_exit", _mark_dead_then(self.cfg.child_exit))
            self.chdir()  # --chdir, as gunicorn's own CLI applies it

        def load(self):
            from autosubmit_api.app import create_app

            # Our modules log through gunicorn's error log (file, level, format).
            error_log = logging.getLogger("gunicorn.error")
            ours = logging.getLogger("autosubmit_api")
            ours.handlers = list(error_log.handlers)
            ours.setLevel(error_log.level)
            ours.propagate = False
            app_settings = settings
            if self.cfg.env:
                # `-e NAME=VALUE` (command line, config file or GUNICORN_CMD_ARGS): gunicorn has
                # put them in the environment by now, so read the settings again with them.
                try:
                    app_settings = prepare_settings()
                except (ConfigError, OSError) as exc:
                    print(f"autosubmit_api: {exc}", file=sys.stderr, flush=True)
                    sys.exit(1)
            threads = server_threads(self.cfg)
            app_settings = app_settings.replace(server_threads=threads)
            if threads == 1:
                log.warning(
                    "sync workers: an event stream (GET /v4/experiments/<expid>/events) would hold a whole "
                    "worker, so they are answered 503; start with --streams N (or --worker-class gthread "
                    "--threads N) to serve them (docs/deployment.md)"
                )
            if app_settings.log_format == "json":
                from autosubmit_api import request_log

                # gunicorn's own error-log lines and ours, one JSON object each (docs/logging.md).
                request_log.use_json(error_log.handlers)
            return create_app(app_settings)

        def run(self):
            # BaseApplication ignores `daemon` (only gunicorn's own CLI honours it).
            if self.cfg.daemon:
                from gunicorn import util

                util.daemonize(self.cfg.enable_stdio_inheritance)
            super().run()

    return APIApplication()


def start(args: argparse.Namespace) -> int:
    _set_bg_env(args, os.environ)
    try:
        settings = prepare_settings()
    except ConfigError as exc:
        print(f"autosubmit_api: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the examples directory cannot be written
        print(f"autosubmit_api: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    options = gunicorn_options(args)
    problem = _invalid_setting(options)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        made = _metrics_directory(os.environ)
    except ConfigError as exc:
        print(f"autosubmit_api: {exc}", file=sys.stderr)
        return 1
    print(f"Starting with gunicorn options: {options}", flush=True)
    print(f"Prometheus multiprocess directory: {os.environ[METRICS_DIR_ENV]}", flush=True)
    defaults = model_defaults(options)
    if defaults:
        print(f"Process model unless the -c file or GUNICORN_CMD_ARGS set one: {defaults}", flush=True)
    if args.timeout is None:
        # 4.0.1 shows the 600 among the options, but a -c file or GUNICORN_CMD_ARGS may set it.
        defaults["timeout"] = options.pop("timeout")
    try:
        _application(settings, options, defaults).run()
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    return 0


def _metrics_directory(env) -> Optional[str]:
    """Give the workers one PROMETHEUS_MULTIPROC_DIR, so `/metrics` counts the requests of every
    worker (docs/metrics.md). The operator's, when set (it must be an existing directory,
    emptied before each start); otherwise a fresh temporary directory made here, set in `env`
    before the app (and prometheus_client) is imported, and returned so `start` removes it
    when the server stops."""
    named = env.get(METRICS_DIR_ENV) or env.get(METRICS_DIR_ENV.lower())
    if named:
        if not os.path.isdir(named):
            raise ConfigError(f"{METRICS_DIR_ENV}={named} is not an existing directory")
        env[METRICS_DIR_ENV] = named
        return None
    made = tempfile.mkdtemp(prefix="autosubmit_api-metrics-")
    env[METRICS_DIR_ENV] = made
    return made


def _mark_dead_then(previous: Callable) -> Callable:
    """gunicorn's child_exit hook: prometheus_client forgets the live gauges of a worker that
    exited (its counters stay counted), then the hook the operator configured runs."""

    def child_exit(server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
        previous(server, worker)

    return child_exit


def _invalid_setting(options: Dict[str, object]) -> Optional[str]:
    """gunicorn's own check of each value (what it would refuse at start), or None."""
    from gunicorn.config import Config

    cfg = Config()
    for key, value in options.items():
        try:
            cfg.set(key, value)
        except Exception as exc:  # noqa: BLE001 - gunicorn's validators raise several kinds
            return f"invalid value for {key}: {exc}"
    return None


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["client"]:
        # The client's own parser, options and exit codes (docs/client.md); no server module.
        from autosubmit_api.client.main import main as client_main

        return client_main(argv[1:])
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "start":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if unknown:
        # A start command written for another version must still start the server.
        print(
            f"autosubmit_api: warning: ignoring unknown option(s) of start: {' '.join(unknown)}",
            file=sys.stderr,
            flush=True,
        )
    # 4.0.1's line; of the generated gunicorn options only those given.
    shown = {k: v for k, v in vars(args).items() if not (k.startswith(GUNICORN_DEST) and v is None)}
    print(f"Starting autosubmit_api with args: {shown}", flush=True)
    if args.command == "start":
        return start(args)
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
