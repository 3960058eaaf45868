"""The experiment configuration `<exp>/conf/` (docs/data.md A.8): the API's only config parser.

Layout (anchor rule): `conf/expdef_<expid>.conf` exists -> Autosubmit 3 INI files
(`autosubmit_`, `expdef_`, `platforms_`, `jobs_` required, `proj_` optional); otherwise
Autosubmit 4 YAML: every `conf/*.yml|*.yaml`, merged the way Autosubmit's configuration
parser does (A.8.2: per-file key normalisation, `minimal.yml` only filling gaps,
`DEFAULT.CUSTOM_CONFIG` PRE/POST files and directories, `%KEY%` placeholders, `FOR:`
loops, the synthetic ROOTDIR/PROJDIR/site/HPC* keys), so that `raw` matches the
anchor's `filesystem-config`.

YAML is read with `yaml.SafeLoader` given YAML 1.2 scalar rules (`on`/`yes` stay
strings, `1:30` stays a string, `012` is 12) and with unknown tags such as `!rrule`
loaded as their plain value: nothing in a file can make the loader run code.

Results are cached by the identity (path, mtime, size) of every file and directory that
went into them. Errors: no `conf/` directory -> NotFound; a file that cannot be read or
parsed -> DataError naming the file (relative to the experiment directory).
"""

from __future__ import annotations

import collections.abc
import configparser
import copy
import os
import re
import threading
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError, NotFound
from autosubmit_api.models import ExperimentConfig, PlatformConfig, SectionConfig
from autosubmit_api.readers import cache, confined, exp_files, paths

# --- Bounds on the YAML of one configuration (docs/security.md "Configuration files") -----
# All the YAML files one configuration load reads share one budget, so a worst-case
# configuration costs at most what one file at the caps costs (benchmarks/bench_yaml_bounds.py
# and docs/security.md give the measured times).
MAX_CONFIG_BYTES = 2 * 2**20  # bytes of YAML text read
MAX_CONFIG_NODES = 100_000  # YAML nodes composed (scalars, lists, mappings; aliases: see _PythonLoader)
# Size once aliases are expanded: the characters of every scalar reached, plus NODE_COST per
# node reached. A file within the two caps above without aliases stays far below it.
NODE_COST = 64
MAX_EXPANDED_COST = 16 * 2**20
MAX_DEPTH = 100  # nesting, aliases followed

# --- YAML: SafeLoader with YAML 1.2 core-schema scalars and inert unknown tags ----------


class _BudgetedComposer:
    """Mixed into a SafeLoader: stops composing when the text holds more nodes than
    `nodes_left`. Both parsers call `descend_resolver` once for every node they compose
    (aliases excepted), tagged or not, before building it: the one hook that can stop a
    flood of small nodes."""

    nodes_left = MAX_CONFIG_NODES

    def descend_resolver(self, current_node, current_index):
        self.nodes_left -= 1
        if self.nodes_left < 0:
            raise OverBudget(f"more than {MAX_CONFIG_NODES} YAML values")
        return super().descend_resolver(current_node, current_index)


class _PythonLoader(_BudgetedComposer, yaml.SafeLoader):
    """SafeLoader resolving plain scalars as YAML 1.2 (what Autosubmit's ruamel does)."""

    def compose_node(self, parent, index):
        # The pure-Python composer spends on an alias about what it spends on a value
        # (libyaml composes aliases in C, about 100 times faster): count aliases here too.
        if self.check_event(yaml.AliasEvent):
            self.nodes_left -= 1
            if self.nodes_left < 0:
                raise OverBudget(f"more than {MAX_CONFIG_NODES} YAML values")
        return super().compose_node(parent, index)


# libyaml (bundled with PyYAML's wheels) composes 5 to 10 times faster than the pure-Python
# parser; both give the same nodes and values, and the budget bounds either.
if getattr(yaml, "__with_libyaml__", False):

    class _LibyamlLoader(_BudgetedComposer, yaml.CSafeLoader):
        """The same loader over libyaml."""

    LOADERS = {"libyaml": _LibyamlLoader, "python": _PythonLoader}
else:  # pragma: no cover - PyYAML built without libyaml
    LOADERS = {"python": _PythonLoader}
_Loader = LOADERS.get("libyaml", _PythonLoader)

_PythonLoader.yaml_implicit_resolvers = {}
_RESOLVERS = (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
)
for _tag, _regexp, _first in _RESOLVERS:
    _PythonLoader.add_implicit_resolver(_tag, re.compile(_regexp, re.X), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    # YAML 1.2: a leading 0 is decimal (1.1 read `012` as octal 10).
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if text.startswith(prefix):
            return sign * int(text[2:], base)
    return sign * int(text, 10)


def _construct_unknown(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """Any tag without a safe constructor (`!rrule`, `!!python/object`, ...): plain value."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_PythonLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_PythonLoader.add_constructor(None, _construct_unknown)
for _other in LOADERS.values():
    _other.yaml_implicit_resolvers = _PythonLoader.yaml_implicit_resolvers
    _other.yaml_constructors = _PythonLoader.yaml_constructors


class OverBudget(yaml.YAMLError):
    """The YAML is larger than the configuration's budget allows (message for the client)."""


class Budget:
    """What one configuration load may still spend on YAML: bytes, nodes, expanded size."""

    def __init__(self) -> None:
        self.bytes_left = MAX_CONFIG_BYTES
        self.nodes_left = MAX_CONFIG_NODES
        self.expanded_left = MAX_EXPANDED_COST

    @property
    def untouched(self) -> bool:
        """True before anything was charged: a refusal then depends on one file alone."""
        return (self.bytes_left, self.nodes_left, self.expanded_left) == (
            MAX_CONFIG_BYTES,
            MAX_CONFIG_NODES,
            MAX_EXPANDED_COST,
        )


def _children(node: yaml.Node) -> List[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def expanded_cost(root: yaml.Node, limit: int = MAX_EXPANDED_COST) -> int:
    """The size of `root` with every alias expanded (scalar characters + NODE_COST per
    node), computed over the composed graph with one visit per distinct node, so a
    "billion laughs" or a long string aliased a million times is measured, never built.

    OverBudget as soon as the size passes `limit`, the nesting passes MAX_DEPTH, or a node
    contains itself (a recursive alias, which no configuration value can be).
    """
    cost: Dict[int, int] = {}
    height: Dict[int, int] = {}
    on_path = set()
    too_large = f"larger than {MAX_EXPANDED_COST // 2**20} MiB once aliases are expanded"
    stack: List[Tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            total, depth = NODE_COST, 0
            for child in _children(node):
                total += cost[id(child)]
                if total > limit:
                    raise OverBudget(too_large)
                depth = max(depth, height[id(child)])
            if depth + 1 > MAX_DEPTH:
                raise OverBudget(f"nested more than {MAX_DEPTH} levels deep")
            cost[key], height[key] = total, depth + 1
            continue
        if key in cost:
            continue
        if key in on_path:
            raise OverBudget("an alias refers to a value that contains it")
        if isinstance(node, yaml.ScalarNode):
            total = NODE_COST + len(node.value)
            if total > limit:
                raise OverBudget(too_large)
            cost[key], height[key] = total, 1
            continue
        on_path.add(key)
        stack.append((node, True))
        # One visit per distinct child: a list of a million aliases of one value pushes one.
        pending = {id(child): child for child in _children(node) if id(child) not in cost}
        stack.extend((child, False) for child in pending.values())
    return cost[id(root)]


_parse_lock = threading.Lock()
_parse_count = 0


def yaml_parse_count() -> int:
    """How many YAML texts this process has parsed (for tests and benchmarks: a remembered
    refusal or a cached configuration must not parse again)."""
    return _parse_count


def load_yaml_text(text: str, budget: Optional[Budget] = None, loader: Optional[type] = None) -> Any:
    """Parse one YAML document, charging `budget` (a fresh one when None).

    The text is composed into nodes first (stopping after `budget.nodes_left` nodes), its
    expanded size is measured on the nodes, and only then are Python values built; so no
    input makes this take more than the caps' time or build more than the expanded budget.
    OverBudget (a YAMLError) when a cap is passed; other YAMLErrors for invalid YAML.
    """
    global _parse_count
    budget = budget or Budget()
    with _parse_lock:
        _parse_count += 1
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > budget.bytes_left:
        raise OverBudget(f"larger than {MAX_CONFIG_BYTES // 2**20} MiB of YAML")
    loader = (loader or _Loader)(text)
    loader.nodes_left = budget.nodes_left
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            # The pure-Python composer recurses per nesting level (libyaml stops at 1000).
            raise OverBudget(f"nested more than {MAX_DEPTH} levels deep") from None
        used_nodes = budget.nodes_left - loader.nodes_left
        expanded = expanded_cost(node, budget.expanded_left) if node is not None else 0
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    budget.bytes_left -= size
    budget.nodes_left -= used_nodes
    budget.expanded_left -= expanded
    return data


class ConfigRefused(DataError):
    """A configuration file refused for what it contains (invalid YAML, over a cap): the
    same file version is refused again without being read (remembered per version)."""


def _file_version(path: str, st: os.stat_result) -> Tuple[Any, ...]:
    return (os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_yaml_file(settings: Settings, path: str, name: str, budget: Optional[Budget] = None) -> Any:
    """Read and parse one YAML file of a configuration, charging `budget`.

    The file is opened through readers/confined.py (CUSTOM_CONFIG may name any path: it
    must be a regular file inside the site's roots), and at most the bytes the budget has
    left are read. A file refused for its content raises ConfigRefused naming it as `name`
    (relative to the experiment), and the refusal is remembered for the file's version
    (device, inode, size, mtime, ctime) and the budget it was given, so requests that ask
    again are answered without parsing it again. An unreadable file raises DataError (not
    remembered: the cause may pass); a file outside the roots confined.Refused.
    """
    budget = budget or Budget()
    try:
        fd, st = confined.open_fd(settings, path)
    except confined.NotRegular:
        raise DataError(f"{name} is not a regular file") from None
    except confined.Refused as exc:
        raise confined.Refused(f"{name}: {exc.message}") from None
    except OSError as exc:
        raise DataError(f"{name} cannot be read: {type(exc).__name__}") from None
    try:
        # The refusal of a file may depend on what the configuration's earlier files
        # used of the budget: remember it for this file version at this budget.
        version = _file_version(path, st) + (budget.bytes_left, budget.nodes_left, budget.expanded_left)
        remembered = cache.get("yaml_refused", version)
        if remembered is not None:
            raise ConfigRefused(remembered)
        alone = budget.untouched
        want, chunks = min(st.st_size, budget.bytes_left) + 1, []
        while want > 0:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            want -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise DataError(f"{name} cannot be read: {type(exc).__name__}") from None
    finally:
        os.close(fd)
    try:
        if len(data) > budget.bytes_left:
            raise OverBudget(f"larger than {MAX_CONFIG_BYTES // 2**20} MiB of YAML")
        data = load_yaml_text(data.decode("utf-8"), budget)
    except OverBudget as exc:
        message = f"{name} is refused: {exc}"
        if not alone:
            message += " (with the configuration's other files)"
        _refuse(version, message)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _refuse(version, f"{name} cannot be parsed: {first}")
    except UnicodeDecodeError:
        _refuse(version, f"{name} cannot be read: UnicodeDecodeError")
    return data


def _refuse(version: Tuple[Any, ...], message: str) -> None:
    cache.put("yaml_refused", version, message)
    raise ConfigRefused(message)


# --- Site keys Autosubmit adds to every experiment's data (its BasicConfig) --------------

_SITE_DEFAULTS = {
    "LOCAL_TMP_DIR": "tmp",
    "LOCAL_ASLOG_DIR": "ASLOGS",
    "LOCAL_PROJ_DIR": "proj",
    "DEFAULT_OUTPUT_DIR": "/esarchive/autosubmit/as_output/stats",
    "AS_TIMES_DB": "as_times.db",
    "AUTOSUBMIT_API_URL": "http://192.168.11.91:8081",
    "ALLOWED_HOSTS": "",
    "DENIED_HOSTS": "",
    "CUSTOM_PLATFORMS_PATH": "",
    "DEFAULT_JOBS_CONF": "",
    "DEFAULT_PLATFORMS_CONF": "",
    "SMTP_SERVER": "",
    "MAIL_FROM": "",
    "LOG_RECOVERY_TIMEOUT": 60,
}


def _without_password(url: str) -> str:
    """The connection URL with its password masked: Autosubmit puts the URL into every
    experiment's data, and the config routes serve that data over HTTP."""
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*):[^@/]*@", url or "")
    if not match:
        return url
    return match.group(1) + ":***@" + url[match.end() :]


def _site_keys(settings: Settings) -> Dict[str, Any]:
    keys = {
        "DB_DIR": settings.db_dir,
        "DB_FILE": settings.db_file,
        "DB_PATH": settings.db_path,
        "LOCAL_ROOT_DIR": settings.local_root_dir,
        "JOBDATA_DIR": settings.jobdata_dir,
        "STRUCTURES_DIR": settings.structures_dir,
        "HISTORICAL_LOG_DIR": settings.historical_log_dir,
        "GLOBAL_LOG_DIR": settings.global_log_dir,
        "DATABASE_BACKEND": settings.db_backend,
        "DATABASE_CONN_URL": _without_password(settings.db_connection_url),
        "CONFIG_FILE_FOUND": settings.rc_path is not None,
    }
    keys.update(_SITE_DEFAULTS)
    return keys


# --- The AS4 merge ----------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%[a-zA-Z0-9_.-]*%")
_SPECIAL_PLACEHOLDER = re.compile(r"%\^[a-zA-Z0-9_.-]*%")
_FINAL_STATUSES = ("READY", "DELAYED", "PREPARED", "SKIPPED", "FAILED", "COMPLETED")


def _upper_keys(data: Any) -> Dict[str, Any]:
    """Every mapping key upper-cased, recursively, also inside lists; non-mappings -> {}."""
    if not isinstance(data, collections.abc.Mapping):
        return {}
    out: Dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, collections.abc.Mapping):
            value = _upper_keys(value)
        elif isinstance(value, list):
            value = [_upper_keys(v) if isinstance(v, collections.abc.Mapping) else v for v in value]
        out[str(key).upper()] = value
    return out


def _lists_to_strings(value: Any) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list):
                value[key] = ",".join(str(v) for v in item)
            elif isinstance(item, dict):
                _lists_to_strings(item)
    return value


def _normalize_dependencies(deps: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if isinstance(deps, str):
        for dep in deps.upper().split(" "):
            out[dep] = {}
    elif isinstance(deps, dict):
        for dep, data in deps.items():
            out[str(dep).upper()] = data
            if isinstance(data, dict) and isinstance(data.get("STATUS"), str) and data["STATUS"]:
                data["STATUS"] = data["STATUS"].upper()
                if not data.get("ANY_FINAL_STATUS_IS_VALID", False):
                    if data["STATUS"].endswith("?"):
                        data["STATUS"] = data["STATUS"][:-1]
                        data["ANY_FINAL_STATUS_IS_VALID"] = True
                    else:
                        data["ANY_FINAL_STATUS_IS_VALID"] = data["STATUS"] not in _FINAL_STATUSES
    return out


def _normalize(data: Any, must_exist: bool) -> Dict[str, Any]:
    """Autosubmit's per-file (and final) normalisation, docs/data.md A.8.2 step 2."""
    data = _upper_keys(data)
    default = data.get("DEFAULT")
    if isinstance(default, dict):
        if isinstance(default.get("HPCARCH"), str):
            default["HPCARCH"] = default["HPCARCH"].upper()
        if "CUSTOM_CONFIG" in default:
            default["CUSTOM_CONFIG"] = _lists_to_strings(default["CUSTOM_CONFIG"])
    wrappers = data.get("WRAPPERS")
    if isinstance(wrappers, dict):
        for wrapper in wrappers.values():
            if isinstance(wrapper, dict):
                jobs = wrapper.get("JOBS_IN_WRAPPER", "")
                if isinstance(jobs, str):
                    if "[" in jobs:  # a list written as a string
                        jobs = jobs.strip("[]").replace("'", "").replace(" ", "").replace(",", " ")
                    wrapper["JOBS_IN_WRAPPER"] = jobs.upper()
                wrapper["TYPE"] = str(wrapper.get("TYPE", "vertical")).lower()
    jobs = data.get("JOBS")
    if isinstance(jobs, dict):
        for section in jobs.values():
            if not isinstance(section, dict):
                continue
            if "DEPENDENCIES" in section or must_exist:
                section["DEPENDENCIES"] = _normalize_dependencies(section.get("DEPENDENCIES", {}))
            if "CUSTOM_DIRECTIVES" in section and isinstance(section["CUSTOM_DIRECTIVES"], list):
                section["CUSTOM_DIRECTIVES"] = str(section["CUSTOM_DIRECTIVES"])
            if "FILE" in section or must_exist:
                files = section.get("FILE", "")
                if not isinstance(files, list):
                    files = str(files)
                    files = files.split(",") if "," in files else files.split(" ") if " " in files else [files]
                if files:
                    section["FILE"] = str(files[0]).strip(" ")
                    if len(files) > 1:
                        section["ADDITIONAL_FILES"] = [str(f).strip(" ") for f in files[1:]]
            if "ADDITIONAL_FILES" not in section and must_exist:
                section["ADDITIONAL_FILES"] = []
            wallclock = section.get("WALLCLOCK")
            if isinstance(wallclock, str) and re.match(r"^\d{2}:\d{2}:\d{2}$", wallclock):
                section["WALLCLOCK"] = wallclock[:5]
            notify = section.get("NOTIFY_ON")
            if notify:
                if isinstance(notify, str):
                    notify = notify.split(",") if "," in notify else notify.split()
                if isinstance(notify, list):
                    section["NOTIFY_ON"] = [str(s).strip(" ").upper() for s in notify]
    return data


def _deep_update(target: Any, new: Mapping[str, Any]) -> Dict[str, Any]:
    """Merge `new` into `target` in place (Autosubmit's deep_update); returns the result."""
    if not isinstance(target, dict):
        target = {}
    for key, value in new.items():
        if isinstance(value, collections.abc.Mapping):
            target[key] = _deep_update(target.get(key, {}), value)
        else:
            target[key] = value
    return target


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, collections.abc.Mapping):
            return None
        value = value.get(part.strip("^").upper())
    return value


# Placeholders are expansions too: `A: "%B%%B%"`, `B: "%C%%C%"`... doubles at every pass.
MAX_PLACEHOLDERS_PER_VALUE = 1000
MAX_SUBSTITUTED_CHARS = 2**20  # one value after substitution (unless it was longer before)


def _substitute_text(text: str, data: Mapping[str, Any], special: bool) -> str:
    matches = list(_PLACEHOLDER.finditer(text))
    if special:
        matches += list(_SPECIAL_PLACEHOLDER.finditer(text))
    if len(matches) > MAX_PLACEHOLDERS_PER_VALUE:
        raise ConfigRefused(
            f"The configuration is refused: a value holds more than {MAX_PLACEHOLDERS_PER_VALUE} %KEY% placeholders"
        )
    longest = max(len(text), MAX_SUBSTITUTED_CHARS)
    for match in sorted(matches, key=lambda m: m.start(), reverse=True):
        value = _lookup(data, match.group(0)[1:-1])
        # Autosubmit turns integers (and booleans) into text first, then substitutes only
        # truthy values: an unknown or empty key leaves the placeholder as written.
        if isinstance(value, int):
            value = str(value)
        if value:
            text = text[: match.start()] + str(value) + text[match.end() :]
            if len(text) > longest:
                raise ConfigRefused(
                    f"The configuration is refused: a %KEY% placeholder expands a "
                    f"value to more than {MAX_SUBSTITUTED_CHARS // 2**20} MiB"
                )
    return text


def _substitute(data: Dict[str, Any], special: bool = False, passes: int = 25) -> Dict[str, Any]:
    """Replace `%KEY%` / `%A.B.C%` in string values from `data` itself, until stable.

    ConfigRefused when one call makes the values grow by more than MAX_EXPANDED_COST
    characters in all (or one value past MAX_SUBSTITUTED_CHARS).
    """
    grown = 0

    def walk(node: Any) -> Tuple[Any, bool]:
        if isinstance(node, dict):
            changed = False
            for key, value in node.items():
                new, did = walk(value)
                if did:
                    node[key] = new
                    changed = True
            return node, changed
        if isinstance(node, list):
            changed = False
            for i, value in enumerate(node):
                new, did = walk(value)
                if did:
                    node[i] = new
                    changed = True
            return node, changed
        if isinstance(node, str) and "%" in node:
            nonlocal grown
            new = _substitute_text(node, data, special)
            grown += max(0, len(new) - len(node))
            if grown > MAX_EXPANDED_COST:
                raise ConfigRefused(
                    f"The configuration is refused: its %KEY% placeholders expand to "
                    f"more than {MAX_EXPANDED_COST // 2**20} MiB"
                )
            return new, new != node
        return node, False

    for _ in range(passes):
        _, changed = walk(data)
        if not changed:
            break
    return data


def _value_cost(value: Any, limit: int) -> int:
    """The expanded size of a built value, counted like `expanded_cost` counts nodes (every
    shared value as often as it is reached); stops counting once past `limit`."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        total += NODE_COST
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return total


def _expand_loops(data: Dict[str, Any]) -> Dict[str, Any]:
    """`FOR: {NAME: [a, b], K: [..]}` inside a section S -> sections S_A, S_B (A.8.2 step 8).

    Each name copies the section: ConfigRefused when the copies of one call would add more
    than MAX_EXPANDED_COST (a small file naming thousands of sections with a big body).
    """
    added = 0

    def visit(parent: Dict[str, Any]) -> None:
        nonlocal added
        for key in list(parent):
            value = parent.get(key)
            if not isinstance(value, dict):
                continue
            loop = value.get("FOR")
            if isinstance(loop, dict) and loop.get("NAME"):
                body = {k: v for k, v in value.items() if k != "FOR"}
                columns: Dict[str, List[Any]] = {}
                for name, values in loop.items():
                    if not isinstance(values, list) or (values and not isinstance(values[0], dict)):
                        values = [v.strip("' ") for v in str(values).strip("[]").split(",")]
                    columns[name] = values
                added += _value_cost(body, MAX_EXPANDED_COST) * len(columns["NAME"])
                if added > MAX_EXPANDED_COST:
                    raise ConfigRefused(
                        f"The configuration is refused: its FOR loops expand to more "
                        f"than {MAX_EXPANDED_COST // 2**20} MiB"
                    )
                del parent[key]
                for index, name in enumerate(columns["NAME"]):
                    new_key = f"{key}_{str(name).upper()}"
                    if "%" in new_key:
                        continue
                    item = copy.deepcopy(body)
                    item["NAME"] = name
                    for column, values in columns.items():
                        if column != "NAME" and index < len(values):
                            item[column] = values[index]
                    parent[new_key] = item
            else:
                visit(value)

    visit(data)
    return data


def _split_paths(text: str) -> List[str]:
    return text.split(",") if "," in text else text.split(" ")


def _custom_directive(directive: Any) -> Dict[str, List[str]]:
    files: Dict[str, List[str]] = {"PRE": [], "POST": []}
    if isinstance(directive, str):
        if directive:
            files["PRE"] = _split_paths(directive)
    elif isinstance(directive, dict):
        for part in ("PRE", "POST"):
            value = directive.get(part, "")
            if isinstance(value, str) and value:
                files[part] = _split_paths(value)
    return files


def _yaml_files(folder: Path, ignore_minimal: bool = False) -> List[Path]:
    try:
        entries = [p.resolve() for p in folder.iterdir()]
    except OSError:
        return []
    return sorted(
        p
        for p in entries
        if p.suffix in (".yml", ".yaml")
        and p.is_file()
        and not (ignore_minimal and p.name.endswith(("minimal.yml", "minimal.yaml")))
    )


class _AS4Merge:
    """One run of the merge; keeps the files read (for the cache) and the loader state."""

    def __init__(self, exp_dir: Path, expid: str, settings: Settings):
        self.exp_dir = exp_dir
        self.expid = expid
        self.settings = settings
        self.loaded: Dict[str, bool] = {}  # custom-config paths already loaded
        self.read: Dict[str, None] = {}  # every file or directory read, in order
        self.misc: List[Path] = []
        self.starter: Dict[str, Any] = {}
        self.budget = Budget()  # shared by every YAML file of this configuration
        self.parsed: Dict[str, Any] = {}

    def _name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.exp_dir))
        except ValueError:
            return path.name

    def parse_file(self, path: Path) -> Dict[str, Any]:
        """The file's YAML, parsed once per merge (the merge reads conf/ twice) and charged
        to the configuration's budget; a copy, because the merge changes what it is given."""
        self.read[str(path)] = None
        if str(path) not in self.parsed:
            self.parsed[str(path)] = read_yaml_file(self.settings, str(path), self._name(path), self.budget)
        return copy.deepcopy(self.parsed[str(path)])

    def unify(self, current: Any, new: Mapping[str, Any], special: bool = False) -> Dict[str, Any]:
        current = _deep_update(current, new)
        current = _substitute(current, special)
        return _expand_loops(current)

    def load_file(self, current: Dict[str, Any], path: Path, load_misc: bool = False) -> Dict[str, Any]:
        data = _normalize(self.parse_file(path), must_exist=False)
        if data.get("AS_MISC", False) and not load_misc:
            self.misc.append(path)
            data = {}
        return self.unify(current, data)

    def common(self, data: Dict[str, Any]) -> Dict[str, Any]:
        data["ROOTDIR"] = str(self.exp_dir)
        project = data.get("PROJECT") if isinstance(data.get("PROJECT"), dict) else {}
        data["PROJDIR"] = os.path.join(
            str(self.exp_dir), "proj", str(project.get("PROJECT_DESTINATION", "project_files"))
        )
        return data

    def load_custom(self, current: Dict[str, Any], names: List[str]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        pre: Dict[str, Any] = {}
        post: Dict[str, Any] = {}
        for name in names:
            name = name.strip(", ")
            if name.startswith("~"):
                name = os.path.expanduser(name)
            # As in Autosubmit, the starter set is updated in place here: this is how
            # AS_TEMP.FILENAME_TO_LOAD ends up in the result (an observable anchor quirk).
            aux = self.unify(self.starter, current)
            self.starter = aux
            aux["AS_TEMP"] = {"FILENAME_TO_LOAD": name}
            resolved = _substitute_text(name, aux, special=False)
            aux["AS_TEMP"]["FILENAME_TO_LOAD"] = resolved
            path = Path(resolved)
            if not path.is_absolute():
                # Relative custom paths are relative to the experiment directory, never to
                # the server's working directory.
                path = self.exp_dir / path
            if not (path.is_dir() or path.is_file()) or str(path) in self.loaded:
                continue
            self.loaded[str(path)] = True
            self.read[str(path)] = None
            if path.is_dir():
                pre, post = self.load_custom(copy.deepcopy(current), [str(p) for p in _yaml_files(path)])
                current = self.unify(pre, current)
                current = self.unify(current, post)
            else:
                current = self.unify(current, self.load_file(current, path))
                default = current.get("DEFAULT") if isinstance(current.get("DEFAULT"), dict) else {}
                level = _custom_directive(default.get("CUSTOM_CONFIG"))
                if default.get("CUSTOM_CONFIG") is not None:
                    del default["CUSTOM_CONFIG"]
                level = {k: [n for n in v if n not in self.loaded] for k, v in level.items()}
                if level["PRE"]:
                    pre = self.unify(pre, self.load_section(copy.deepcopy(current), level["PRE"]))
                else:
                    pre = current
                current = self.unify(pre, current)
                if level["POST"]:
                    post = self.unify(post, self.unify(current, self.load_section(current, level["POST"])))
                else:
                    post = current
        return pre, post

    def load_section(self, current: Dict[str, Any], names: List[str]) -> Dict[str, Any]:
        pre, post = self.load_custom(current, names)
        return self.unify(self.unify(pre, current), post)

    def run(self) -> Dict[str, Any]:
        conf = self.exp_dir / "conf"
        starter: Dict[str, Any] = {}
        for path in _yaml_files(conf):
            starter = self.unify(starter, self.load_file(starter, path))
        for key, value in os.environ.items():
            if key.startswith("AS_ENV"):
                starter[key] = value
        starter["AS_ENV_CURRENT_USER"] = os.environ.get("SUDO_USER", os.environ.get("USER"))
        self.starter = self.common(starter)

        non_minimal: Dict[str, Any] = {}
        for path in _yaml_files(conf, ignore_minimal=True):
            non_minimal = self.unify(non_minimal, self.load_file(non_minimal, path))
        non_minimal = self.common(non_minimal)

        default = self.starter.get("DEFAULT") if isinstance(self.starter.get("DEFAULT"), dict) else {}
        names = _custom_directive(default.get("CUSTOM_CONFIG"))
        pre = self.load_section({}, names["PRE"])
        data = self.load_section(self.unify(pre, non_minimal), names["POST"])
        data.pop("AS_TEMP", None)
        _add_missing(data, self.starter)
        data["ROOTDIR"] = str(self.exp_dir)
        data["PROJDIR"] = os.path.join(str(self.exp_dir), "proj", _project_destination(data))
        data.update(_site_keys(self.settings))
        data = _normalize(data, must_exist=True)
        data = _substitute(data, special=True)
        data = _expand_loops(data)
        data.setdefault("AUTOSUBMIT", {})
        default = data.get("DEFAULT") if isinstance(data.get("DEFAULT"), dict) else {}
        hpcarch = default.get("HPCARCH", "LOCAL")
        platforms = data.get("PLATFORMS") if isinstance(data.get("PLATFORMS"), dict) else {}
        platform = platforms.get(hpcarch) if isinstance(hpcarch, str) else None
        if isinstance(platform, dict):
            for name, value in platform.items():
                data[f"HPC{name}"] = value
        data["HPCARCH"] = hpcarch
        commit = self._workflow_commit(data)
        if commit and isinstance(data["AUTOSUBMIT"], dict):
            data["AUTOSUBMIT"]["WORKFLOW_COMMIT"] = commit
        return data

    def _workflow_commit(self, data: Dict[str, Any]) -> Optional[str]:
        """HEAD of proj/<dest>/.git when the server user owns the experiment, as Autosubmit
        adds it; read from the files (no `git` subprocess)."""
        try:
            if self.exp_dir.owner() != os.environ.get("USER"):
                return None
        except (KeyError, OSError):
            return None
        project = data.get("PROJECT") if isinstance(data.get("PROJECT"), dict) else {}
        git = self.exp_dir / "proj" / str(project.get("PROJECT_DESTINATION", "git_project")) / ".git"

        def read(path: Path) -> str:
            return _read_text(self.settings, path, path.name)

        try:
            head = read(git / "HEAD").strip()
            if head.startswith("ref: "):
                ref = head[5:].strip()
                ref_file = git / ref
                if ref_file.is_file():
                    return read(ref_file).strip()
                for line in read(git / "packed-refs").splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[1] == ref:
                        return parts[0]
                return None
            return head or None
        except (OSError, UnicodeDecodeError, DataError, confined.Refused):
            return None


def _add_missing(data: Dict[str, Any], starter: Mapping[str, Any]) -> Dict[str, Any]:
    for key, value in starter.items():
        if key not in data:
            data[key] = value
        elif isinstance(value, collections.abc.Mapping) and isinstance(data[key], dict):
            _add_missing(data[key], value)
    return data


def _project_destination(data: Mapping[str, Any]) -> str:
    project = data.get("PROJECT") if isinstance(data.get("PROJECT"), dict) else {}
    value = project.get("PROJECT_DESTINATION", "project_files")
    if not value:
        kind = str(project.get("PROJECT_TYPE", "")).lower()
        if kind == "local":
            value = os.path.split(str(_get(data, "LOCAL", "PROJECT_PATH", default="")))[-1]
        elif kind == "svn":
            value = str(_get(data, "SVN", "PROJECT_URL", default="")).split("/")[-1]
        elif kind == "git":
            value = str(_get(data, "GIT", "PROJECT_ORIGIN", default="")).split("/")[-1]
            if "." in value:
                value = value.split(".")[-2]
    return str(value or "")


# --- AS3 INI ------------------------------------------------------------------------------

AS3_FILES = (
    ("conf", "autosubmit", True),
    ("exp", "expdef", True),
    ("platforms", "platforms", True),
    ("jobs", "jobs", True),
    ("proj", "proj", False),
)


def _read_text(settings: Settings, path: Path, name: str) -> str:
    """The text of a configuration file that is not YAML (AS3 INI, git refs), opened through
    readers/confined.py (Refused, a 403 naming only `name`, outside the site's roots);
    ConfigRefused when larger than MAX_CONFIG_BYTES. OSError / UnicodeDecodeError as
    reading raises them."""
    try:
        data, st = confined.read_bytes(settings, str(path), MAX_CONFIG_BYTES + 1)
    except confined.NotRegular:
        raise DataError(f"{name} is not a regular file") from None
    except confined.Refused as exc:
        raise confined.Refused(f"{name}: {exc.message}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigRefused(f"{name} is refused: larger than {MAX_CONFIG_BYTES // 2**20} MiB")
    return data.decode("utf-8")


def _read_ini(settings: Settings, path: Path, name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False)
    parser.optionxform = str  # Autosubmit keeps option case
    try:
        parser.read_string(_read_text(settings, path, name), source=name)
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        # configparser messages quote the full path; keep only the name (Q39).
        raise DataError(f"{name} cannot be parsed: {first.replace(str(path), name)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{name} cannot be read: {type(exc).__name__}") from None
    return parser


def _ini_get(parser: configparser.ConfigParser, section: str, option: str) -> str:
    try:
        return parser.get(section, option)
    except configparser.InterpolationError:
        # A lone `%` breaks the anchor's lookup; we give the raw text instead.
        return parser.get(section, option, raw=True)


def _ini_dict(parser: configparser.ConfigParser) -> Dict[str, Dict[str, str]]:
    return {s: {o: _ini_get(parser, s, o) for o in parser.options(s)} for s in parser.sections()}


def _load_as3(settings: Settings, exp_dir: Path, expid: str) -> Tuple[Dict[str, Any], List[str]]:
    conf = exp_dir / "conf"
    raw: Dict[str, Any] = {}
    read: List[str] = []
    for key, stem, required in AS3_FILES:
        path = conf / f"{stem}_{expid}.conf"
        name = f"conf/{stem}_{expid}.conf"
        read.append(str(path))
        if not path.is_file():
            if required:
                raise DataError(f"Required file not found: {name}")
            raw[key] = None
            continue
        raw[key] = _ini_dict(_read_ini(settings, path, name))
    return raw, read


# --- Typed accessors ----------------------------------------------------------------------


def _get(data: Any, *keys: str, default: Any = "") -> Any:
    """Nested lookup where None and empty strings/containers count as missing (get_section)."""
    value = data
    for key in keys:
        if not isinstance(value, collections.abc.Mapping):
            return default
        value = value.get(key)
    if value is None or (not isinstance(value, (int, float)) and hasattr(value, "__len__") and len(value) == 0):
        return default
    return value


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _as4_model(expid: str, raw: Dict[str, Any], files: Tuple[str, ...]) -> ExperimentConfig:
    hpcarch = str(_get(raw, "DEFAULT", "HPCARCH", default="")).upper()
    platforms_raw = raw.get("PLATFORMS") if isinstance(raw.get("PLATFORMS"), dict) else {}
    platforms = {}
    for name, body in platforms_raw.items():
        if not isinstance(body, dict):
            continue
        platforms[name] = PlatformConfig(
            name=name,
            type=str(_get(body, "TYPE")),
            queue=_str_or_none(_get(body, "QUEUE", default=None)),
            serial_queue=_str_or_none(_get(body, "SERIAL_QUEUE", default=None)),
            max_wallclock=str(_get(body, "MAX_WALLCLOCK")),
            processors=str(_get(body, "PROCESSORS")),
            raw=body,
        )
    sections = {}
    jobs = raw.get("JOBS") if isinstance(raw.get("JOBS"), dict) else {}
    for name, body in jobs.items():
        if not isinstance(body, dict):
            continue
        platform = str(_get(body, "PLATFORM", default=hpcarch)).upper()
        plat = platforms_raw.get(platform) if isinstance(platforms_raw.get(platform), dict) else {}

        def pick(key: str, default: Any, body=body, plat=plat) -> Any:
            return body.get(key) or plat.get(key) or default

        exclusive = pick("EXCLUSIVE", False)
        sections[name] = SectionConfig(
            name=name,
            processors=str(pick("PROCESSORS", "1")),
            platform=platform,
            queue=str(_get(body, "QUEUE")),
            wallclock=str(_get(body, "WALLCLOCK")),
            tasks=str(pick("TASKS", "")),
            threads=str(_get(body, "THREADS", default="1")),
            nodes=str(pick("NODES", "")),
            processors_per_node=str(pick("PROCESSORS_PER_NODE", "")),
            exclusive=exclusive if isinstance(exclusive, bool) else False,
        )
    wrappers = raw.get("WRAPPERS") if isinstance(raw.get("WRAPPERS"), dict) else {}
    version = _get(raw, "CONFIG", "AUTOSUBMIT_VERSION", default="")
    return ExperimentConfig(
        expid=expid,
        layout="AS4",
        raw=raw,
        files=files,
        autosubmit_version=str(version),
        hpcarch=hpcarch,
        chunk_unit=str(_get(raw, "EXPERIMENT", "CHUNKSIZEUNIT")),
        chunk_size=_as_int(_get(raw, "EXPERIMENT", "CHUNKSIZE", default=1), 1),
        datelist=_get(raw, "EXPERIMENT", "DATELIST"),
        members=_get(raw, "EXPERIMENT", "MEMBERS"),
        num_chunks=_get(raw, "EXPERIMENT", "NUMCHUNKS"),
        calendar=str(_get(raw, "EXPERIMENT", "CALENDAR")),
        project_type=str(_get(raw, "PROJECT", "PROJECT_TYPE")).lower(),
        git_origin=str(_get(raw, "GIT", "PROJECT_ORIGIN")),
        git_branch=str(_get(raw, "GIT", "PROJECT_BRANCH", default="master")),
        git_commit=str(_get(raw, "GIT", "PROJECT_COMMIT")),
        project_destination=_project_destination(raw),
        svn_url=str(_get(raw, "SVN", "PROJECT_URL")),
        safety_sleep_time=_as_int(_get(raw, "CONFIG", "SAFETYSLEEPTIME", default=10), 10),
        wrapper_type=None,  # the anchor's getter always yields None for AS4 (docs/data.md A.8)
        wrapper_types=tuple(str(w.get("TYPE", "vertical")).lower() for w in wrappers.values() if isinstance(w, dict)),
        wrapper_queue=str(_get(raw, "WRAPPERS", "QUEUE")),
        sections=sections,
        platforms=platforms,
    )


def _str_or_none(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def _as3_model(expid: str, raw: Dict[str, Any], files: Tuple[str, ...]) -> ExperimentConfig:
    conf, exp = raw.get("conf") or {}, raw.get("exp") or {}

    def opt(data: Mapping[str, Any], section: str, option: str, default: Any) -> Any:
        body = data.get(section)
        return body[option] if isinstance(body, dict) and option in body else default

    hpcarch = str(opt(exp, "experiment", "HPCARCH", opt(exp, "DEFAULT", "HPCARCH", "")))
    platforms = {}
    for name, body in (raw.get("platforms") or {}).items():
        platforms[name] = PlatformConfig(
            name=name,
            type=body.get("TYPE", ""),
            queue=body.get("QUEUE", ""),
            serial_queue=body.get("SERIAL_QUEUE", ""),
            max_wallclock=body.get("MAX_WALLCLOCK", ""),
            processors=body.get("PROCESSORS", ""),
            raw=body,
        )
    sections = {}
    for name, body in (raw.get("jobs") or {}).items():
        sections[name] = SectionConfig(
            name=name,
            processors=body.get("PROCESSORS", "1"),
            platform=body.get("PLATFORM", "") or hpcarch,
            queue=body.get("QUEUE", ""),
            wallclock=body.get("WALLCLOCK", ""),
            tasks=body.get("TASKS", ""),
            threads=body.get("THREADS", "1"),
            nodes=body.get("NODES", ""),
            processors_per_node=body.get("PROCESSORS_PER_NODE", ""),
            exclusive=str(body.get("EXCLUSIVE", "")).lower() == "true",
        )
    wrapper_type = str(opt(conf, "wrapper", "TYPE", "none")).lower()
    return ExperimentConfig(
        expid=expid,
        layout="AS3",
        raw=raw,
        files=files,
        autosubmit_version=str(opt(conf, "config", "AUTOSUBMIT_VERSION", "None")),
        hpcarch=hpcarch,
        chunk_unit=str(opt(exp, "experiment", "CHUNKSIZEUNIT", "")).lower(),
        chunk_size=_as_int(opt(exp, "experiment", "CHUNKSIZE", 1) or 1, 1),
        datelist=opt(exp, "experiment", "DATELIST", ""),
        members=opt(exp, "experiment", "MEMBERS", ""),
        num_chunks=opt(exp, "experiment", "NUMCHUNKS", ""),
        calendar=str(opt(exp, "experiment", "CALENDAR", "")),
        project_type=str(opt(exp, "project", "PROJECT_TYPE", "na")).lower(),
        git_origin=str(opt(exp, "git", "PROJECT_ORIGIN", "")),
        git_branch=str(opt(exp, "git", "PROJECT_BRANCH", "master")),
        git_commit=str(opt(exp, "git", "PROJECT_COMMIT", "")),
        project_destination=str(opt(exp, "project", "PROJECT_DESTINATION", "")),
        svn_url=str(opt(exp, "svn", "PROJECT_URL", "NA")),
        safety_sleep_time=_as_int(opt(conf, "config", "SAFETYSLEEPTIME", 10), 10),
        wrapper_type=wrapper_type,
        wrapper_types=(wrapper_type,) if wrapper_type != "none" else (),
        wrapper_queue=str(opt(conf, "wrapper", "QUEUE", "")),
        sections=sections,
        platforms=platforms,
    )


# --- Loading and caching -------------------------------------------------------------------

_deps_lock = threading.Lock()
_last_deps: Dict[str, Tuple[str, ...]] = {}  # conf dir -> files read by its last parse


def _identity(paths_: Any) -> Tuple[Any, ...]:
    return tuple((p, cache.file_key(p)) for p in paths_)


class _Refused:
    """A configuration refused for its content, kept in the cache like a result so that
    asking again does not parse its files again until one of them changes."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


def _parse(settings: Settings, expid: str, exp_dir: Path) -> Any:
    conf = exp_dir / "conf"
    if exp_files.is_as3_layout(settings, expid):
        raw, read = _load_as3(settings, exp_dir, expid)
        model = _as3_model(expid, raw, tuple(os.path.relpath(p, exp_dir) for p in read))
    else:
        merge = _AS4Merge(exp_dir, expid, settings)
        try:
            raw = merge.run()
        except ConfigRefused as exc:
            # Remembered under the identity of the files read so far, like a result.
            with _deps_lock:
                _last_deps[str(conf)] = tuple(merge.read)
            return _Refused(exc.message)
        read = list(merge.read)
        names = []
        for p in read:
            rel = os.path.relpath(p, exp_dir)
            names.append(os.path.basename(p) if rel.startswith("..") else rel)
        model = _as4_model(expid, raw, tuple(names))
    with _deps_lock:
        _last_deps[str(conf)] = tuple(read)
    return model


def load_config(settings: Settings, expid: str) -> ExperimentConfig:
    """The experiment's configuration (AS3 or AS4), cached by the files it was read from."""
    exp_dir = Path(paths.exp_dir(settings, expid))
    conf = exp_dir / "conf"
    if not conf.is_dir():
        raise NotFound(f"Experiment {expid} has no conf directory")
    try:
        listing = sorted(str(p) for p in conf.iterdir())
    except OSError as exc:
        raise DataError(f"conf directory of {expid} cannot be listed: {type(exc).__name__}") from None
    with _deps_lock:
        deps = _last_deps.get(str(conf), ())
    site = (
        settings.local_root_dir,
        settings.db_dir,
        settings.db_file,
        settings.jobdata_dir,
        settings.structures_dir,
        settings.historical_log_dir,
        settings.global_log_dir,
        settings.db_backend,
        settings.db_connection_url,
        settings.rc_path,
    )
    base = (str(conf), cache.file_key(str(conf)), _identity(listing))
    result = cache.cached("exp_config", base + (_identity(deps), site), lambda: _parse(settings, expid, exp_dir))
    with _deps_lock:
        read = _last_deps.get(str(conf), ())
    if read != deps:
        # First parse (or the set of custom files changed): file the result under the
        # identity of the files it actually read, which is what the next call will ask for.
        cache.cached("exp_config", base + (_identity(read), site), lambda: result)
    if isinstance(result, _Refused):
        raise ConfigRefused(result.message)
    return result


def load_metadata_config(settings: Settings, expid: str) -> Optional[Dict[str, Any]]:
    """`conf/metadata/experiment_data.yml`: the merged configuration Autosubmit >= 4.1 saved
    at its last run/create (docs/data.md A.8.2), None when absent. Not part of `load_config`,
    which, like the anchor, ignores subdirectories of conf/."""
    path = paths.experiment_data_yml(settings, expid)

    def parse(p: str) -> Dict[str, Any]:
        data = read_yaml_file(settings, p, "conf/metadata/experiment_data.yml")
        return data if isinstance(data, dict) else {}

    try:
        return cache.cached_file("exp_config_metadata", path, parse)
    except FileNotFoundError:
        return None
