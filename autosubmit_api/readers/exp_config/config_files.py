"""One file of a configuration, read through readers/confined.py: YAML parsed within the bounds
of docs/security.md "Configuration files" (one budget shared by all the files of one
configuration; YAML 1.2 scalars, unknown tags inert, nothing that runs code), or the plain
text of an AS3 INI file or a git ref. A file refused for its content is remembered per version.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Type, Union, cast

import yaml

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError
from autosubmit_api.readers import cache, confined

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


class _BudgetedComposer(yaml.resolver.BaseResolver):
    """Mixed into a SafeLoader (before it, so its resolver hook runs first): stops composing
    when the text holds more nodes than `nodes_left`. Both parsers call `descend_resolver`
    once for every node they compose (aliases excepted), tagged or not, before building it:
    the one hook that can stop a flood of small nodes."""

    nodes_left = MAX_CONFIG_NODES

    def descend_resolver(self, current_node: Optional[yaml.Node], current_index: object) -> None:
        self.nodes_left -= 1
        if self.nodes_left < 0:
            raise OverBudget(f"more than {MAX_CONFIG_NODES} YAML values")
        # PyYAML's stub leaves this method unannotated.
        super().descend_resolver(current_node, current_index)  # type: ignore[no-untyped-call]


class _PythonLoader(_BudgetedComposer, yaml.SafeLoader):
    """SafeLoader resolving plain scalars as YAML 1.2 (what Autosubmit's ruamel does)."""

    def compose_node(self, parent: Optional[yaml.Node], index: int) -> Optional[yaml.Node]:
        # The pure-Python composer spends on an alias about what it spends on a value
        # (libyaml composes aliases in C, about 100 times faster): count aliases here too.
        # PyYAML's stub leaves this method unannotated.
        if self.check_event(yaml.AliasEvent):  # type: ignore[no-untyped-call]
            self.nodes_left -= 1
            if self.nodes_left < 0:
                raise OverBudget(f"more than {MAX_CONFIG_NODES} YAML values")
        return super().compose_node(parent, index)


if TYPE_CHECKING:
    # Either loader class: the budget over libyaml's parser or over the pure-Python one.
    LoaderClass = Union[Type["_LibyamlLoader"], Type[_PythonLoader]]

# libyaml (bundled with PyYAML's wheels) composes 5 to 10 times faster than the pure-Python
# parser; both give the same nodes and values, and the budget bounds either.
if getattr(yaml, "__with_libyaml__", False):

    class _LibyamlLoader(_BudgetedComposer, yaml.CSafeLoader):
        """The same loader over libyaml."""

    LOADERS: Dict[str, LoaderClass] = {"libyaml": _LibyamlLoader, "python": _PythonLoader}
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
    # PyYAML's stub leaves this method unannotated.
    _PythonLoader.add_implicit_resolver(_tag, re.compile(_regexp, re.X), list(_first))  # type: ignore[no-untyped-call]


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    # YAML 1.2: a leading 0 is decimal (1.1 read `012` as octal 10).
    # Registered for the int tag, which PyYAML resolves on scalars only; an explicit !!int
    # on a collection is refused by construct_scalar itself (a ConstructorError).
    text = loader.construct_scalar(cast(yaml.ScalarNode, node)).replace("_", "")
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
    return loader.construct_scalar(cast(yaml.ScalarNode, node))  # neither collection: a scalar


_PythonLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
# None: every tag without a constructor (PyYAML's catch-all; its stub accepts only str).
_PythonLoader.add_constructor(None, _construct_unknown)  # type: ignore[arg-type]
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


def load_yaml_text(text: str, budget: Optional[Budget] = None, loader: Optional[LoaderClass] = None) -> Any:
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
    parser = (loader or _Loader)(text)
    parser.nodes_left = budget.nodes_left
    try:
        try:
            node = parser.get_single_node()
        except RecursionError:
            # The pure-Python composer recurses per nesting level (libyaml stops at 1000).
            raise OverBudget(f"nested more than {MAX_DEPTH} levels deep") from None
        used_nodes = budget.nodes_left - parser.nodes_left
        expanded = expanded_cost(node, budget.expanded_left) if node is not None else 0
        # PyYAML's stub leaves this method unannotated.
        data = parser.construct_document(node) if node is not None else None  # type: ignore[no-untyped-call]
    finally:
        parser.dispose()
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


def read_config_text(settings: Settings, path: Path, name: str) -> str:
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
