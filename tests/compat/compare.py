"""The comparison rules of golden/README.md of the compatibility data (CONTRIBUTING.md,
"The compatibility suite"), as plain functions.

Nothing here knows about Flask or pytest: every function takes decoded JSON values and
returns None when they match, or a `Diff` naming the JSON path of the first difference and
both values. Three comparisons exist, one per kind of golden row:

* `diff_exact`: "How to compare" (rows without `ref_defect`, and `config-unparsable-item`
  rows after `apply_defect_paths`);
* `diff_shape`: "Shape" (the other defect rows, against `shapes.json[shape_ref]`);
* `diff_oracle`: "Comparing with an oracle" (defect rows whose `oracle` is set).

Paths use the README notation: `a.b[*].c`, a bare `*` segment for any key of an object,
`["key"]` for keys outside `[A-Za-z0-9_-]+`, and `[name=aa6f]` to select list elements by
a field (only in `defect_paths`). A listed path also covers everything below it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Union

SIMPLE_KEY = re.compile(r"[A-Za-z0-9_-]+")
IDENTITY_KEYS = ("id", "name", "job_name", "refKey", "run_id", "wrapper_name", "index")
# 4.2.0 prints ISO 8601 where 4.0.1 prints a space; both are UTC on the fixtures.
ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:Z|\+00:00)?")
CHILDREN_RUN = re.compile(r"(?:\.children\[\*\])+")


class _Missing:
    """Stands for an absent key in a Diff (null and missing are different things)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()

# ---------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------

# Pattern tokens: ("key", name), ("any",) for a bare `*`, ("idx",) for `[*]`,
# ("sel", field, value) for `[field=value]`.
Token = Tuple[str, ...]
# Concrete path segments: str (object key), int (list index), or ("sel", field, value).
Segment = Union[str, int, Tuple[str, str, str]]


def parse_path(text: str) -> Tuple[Token, ...]:
    """Tokens of one path in the README notation; ValueError on a malformed path."""
    tokens: List[Token] = []
    i, n = 0, len(text)
    expect_key = True
    while i < n:
        char = text[i]
        if char == "[":
            end = _bracket_end(text, i)
            inner = text[i + 1 : end]
            if inner == "*":
                tokens.append(("idx",))
            elif inner.startswith('"'):
                tokens.append(("key", json.loads(inner)))
            elif "=" in inner:
                field, value = inner.split("=", 1)
                tokens.append(("sel", field, value))
            else:
                raise ValueError(f"bad bracket {inner!r} in path {text!r}")
            i = end + 1
            expect_key = False
        elif char == ".":
            if expect_key:
                raise ValueError(f"empty segment in path {text!r}")
            i += 1
            expect_key = True
        else:
            if not expect_key:
                raise ValueError(f"missing '.' in path {text!r} at {i}")
            if char == "*":
                tokens.append(("any",))
                i += 1
            else:
                match = SIMPLE_KEY.match(text, i)
                if not match:
                    raise ValueError(f"bad key at {i} in path {text!r}")
                tokens.append(("key", match.group()))
                i = match.end()
            expect_key = False
    if expect_key and tokens:
        raise ValueError(f"path {text!r} ends with '.'")
    return tuple(tokens)


def _bracket_end(text: str, start: int) -> int:
    """Index of the `]` closing the bracket at `start`, skipping a JSON string inside."""
    i = start + 1
    if i < len(text) and text[i] == '"':
        i += 1
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        i += 1
    end = text.find("]", i)
    if end < 0:
        raise ValueError(f"unclosed bracket in path {text!r}")
    return end


def parse_paths(field: str) -> Tuple[Tuple[Token, ...], ...]:
    """A comma-separated column of index.tsv (`volatile_fields`, `oracle_skip`, ...)."""
    return tuple(parse_path(p) for p in _split_top(field, ",") if p)


def _split_top(text: str, sep: str) -> List[str]:
    """Split on `sep` outside brackets and JSON strings."""
    parts, depth, quoted, current = [], 0, False, []
    i = 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\":
                current.append(text[i : i + 2])
                i += 2
                continue
            if char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append("".join(current).strip())
            current = []
            i += 1
            continue
        current.append(char)
        i += 1
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _token_matches(token: Token, segment: Segment) -> bool:
    kind = token[0]
    if kind == "key":
        return segment == token[1]
    if kind == "any":
        return isinstance(segment, str)
    if kind == "idx":
        return isinstance(segment, int) or (isinstance(segment, tuple) and segment[0] == "sel")
    return segment == token


def path_matches(pattern: Sequence[Token], path: Sequence[Segment]) -> bool:
    """True when `path` is exactly the place `pattern` names."""
    return len(pattern) == len(path) and all(map(_token_matches, pattern, path))


def path_covers(pattern: Sequence[Token], path: Sequence[Segment]) -> bool:
    """True when `path` is the place `pattern` names or lies below it."""
    return len(path) >= len(pattern) and all(map(_token_matches, pattern, path))


def format_path(path: Sequence[Segment]) -> str:
    """A concrete path for messages: `jobs[3].name`, `groups_data["a b"]`, `x[name=aa6f]`."""
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif isinstance(segment, tuple):
            out += f"[{segment[1]}={segment[2]}]"
        else:
            out += _key_text(out, segment)
    return out


def _key_text(prefix: str, key: str) -> str:
    if SIMPLE_KEY.fullmatch(key) or key == "*":
        return f".{key}" if prefix else key
    return f"[{json.dumps(key)}]"


# ---------------------------------------------------------------------------------------
# Differences
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diff:
    """The first difference found: where, what was expected, what the answer has."""

    path: str
    expected: Any
    actual: Any
    why: str

    def __str__(self) -> str:
        where = self.path or "<root>"
        return f"at {where}: {self.why}: expected {short(self.expected)}, got {short(self.actual)}"


def short(value: Any, limit: int = 300) -> str:
    if value is MISSING:
        return "<missing>"
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# ---------------------------------------------------------------------------------------
# Exact comparison ("How to compare")
# ---------------------------------------------------------------------------------------


def numbers_close(expected: Any, actual: Any) -> bool:
    """Integers equal; otherwise relative 1e-6 or absolute 1e-9 (0 matches 0.0)."""
    if isinstance(expected, int) and isinstance(actual, int):
        return expected == actual
    return math.isclose(expected, actual, rel_tol=1e-6, abs_tol=1e-9)


def substitute(value: Any, placeholder: str, replacement: str) -> Any:
    """`value` with `placeholder` replaced in every string (keys too)."""
    if isinstance(value, str):
        return value.replace(placeholder, replacement)
    if isinstance(value, list):
        return [substitute(v, placeholder, replacement) for v in value]
    if isinstance(value, dict):
        return {k.replace(placeholder, replacement): substitute(v, placeholder, replacement) for k, v in value.items()}
    return value


def diff_exact(
    expected: Any,
    actual: Any,
    volatile: Iterable[Sequence[Token]] = (),
    unordered: Iterable[Sequence[Token]] = (),
    added: Iterable[str] = (),
) -> Optional[Diff]:
    """Compare an answer with a 4.0.1 golden body.

    Same keys at every level, same value kinds, strings exact, numbers within tolerance;
    `volatile` paths only need to exist; `unordered` lists are compared as multisets.
    `added`: generic key paths (`generic_paths`) the answer may have beyond the golden
    body, the keys 4.2.0 added (docs/decisions.md Q46); their values are judged elsewhere.
    Substitute `{FIXTURE_DIR}` in `expected` before calling.
    """
    return _Exact(tuple(volatile), tuple(unordered), frozenset(added)).diff(expected, actual, ())


def generic_path(path: Sequence[Segment], maps: Iterable[str] = ()) -> str:
    """A concrete path with every list index written `[*]` (`jobs[*].split`), and the keys
    of an object at a `maps` path (keys that are data, as `groups_data`) written `*`."""
    out = ""
    for segment in path:
        if not isinstance(segment, str):
            out += "[*]"
        elif out in maps:
            out += ".*" if out else "*"
        else:
            out += _key_text(out, segment)
    return out


def generic_paths(value: Any, maps: Iterable[str] = ()) -> frozenset:
    """Every key path of a JSON value in the generic form of `generic_path`."""
    found: set = set()
    maps = frozenset(maps)

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, dict):
            for key, element in node.items():
                sub = path + (key,)
                found.add(generic_path(sub, maps))
                walk(element, sub)
        elif isinstance(node, list):
            for element in node:
                walk(element, path + (0,))

    walk(value, ())
    return frozenset(found)


def multiset_diff(
    diff: Callable[[Any, Any, tuple], Optional[Diff]],
    expected: list,
    actual: list,
    path: tuple,
    missing_why: str,
    extra_why: str,
) -> Optional[Diff]:
    """The first difference between two lists compared as multisets: each expected element
    must equal (by `diff`) a distinct actual element, and no actual element may be left over."""
    unused = list(range(len(actual)))
    for index, element in enumerate(expected):
        sub = path + (index,)
        match = next((j for j in unused if diff(element, actual[j], sub) is None), None)
        if match is None:
            hint = diff(element, actual[unused[0]], sub) if unused else None
            why = f"{missing_why} (unordered list)"
            if hint is not None:
                why += f"; nearest try: {hint}"
            return Diff(format_path(sub), element, MISSING, why)
        unused.remove(match)
    if unused:
        return Diff(format_path(path + (unused[0],)), MISSING, actual[unused[0]], f"{extra_why} (unordered list)")
    return None


class _Exact:
    def __init__(self, volatile: tuple, unordered: tuple, added: frozenset = frozenset()):
        self.volatile = volatile
        self.unordered = unordered
        self.added = added

    def diff(self, expected: Any, actual: Any, path: Tuple[Segment, ...]) -> Optional[Diff]:
        if any(path_matches(p, path) for p in self.volatile):
            return None
        kind_e, kind_a = _kind(expected), _kind(actual)
        where = format_path(path)
        if kind_e != kind_a:
            return Diff(where, expected, actual, f"{kind_a} instead of {kind_e}")
        if kind_e == "object":
            for key in sorted(expected):
                if key not in actual:
                    return Diff(format_path(path + (key,)), expected[key], MISSING, "key missing")
            for key in sorted(actual):
                if key not in expected and generic_path(path + (key,)) not in self.added:
                    return Diff(format_path(path + (key,)), MISSING, actual[key], "unexpected key")
            for key in sorted(expected):
                found = self.diff(expected[key], actual[key], path + (key,))
                if found:
                    return found
            return None
        if kind_e == "list":
            # "A listed path also covers everything below it": nested lists too.
            if any(path_covers(p, path) for p in self.unordered):
                return self._multiset(expected, actual, path)
            for index, (e, a) in enumerate(zip(expected, actual)):
                found = self.diff(e, a, path + (index,))
                if found:
                    return found
            if len(expected) != len(actual):
                return Diff(
                    where,
                    f"{len(expected)} elements",
                    f"{len(actual)} elements",
                    "list length differs",
                )
            return None
        if kind_e == "number":
            if numbers_close(expected, actual):
                return None
            return Diff(where, expected, actual, "number differs")
        if expected != actual:
            return Diff(where, expected, actual, f"{kind_e} differs")
        return None

    def _multiset(self, expected: list, actual: list, path: Tuple[Segment, ...]) -> Optional[Diff]:
        return multiset_diff(
            self.diff, expected, actual, path, "no equal element in the answer", "element the golden list does not have"
        )


def take_values(document: Any, source: Any, patterns: Iterable[Sequence[Token]]) -> Any:
    """A copy of `document` whose values at the `patterns` are `source`'s; list elements are
    paired by their identity key (`name`, `id`...), else by position."""
    patterns = tuple(patterns)

    def walk(node: Any, other: Any, path: tuple) -> Any:
        if isinstance(node, dict) and isinstance(other, dict):
            out = {}
            for key, value in node.items():
                sub = path + (key,)
                if key in other and any(path_matches(p, sub) for p in patterns):
                    out[key] = other[key]
                else:
                    out[key] = walk(value, other.get(key), sub)
            return out
        if isinstance(node, list) and isinstance(other, list):
            key = _identity_key(node, other) if all(isinstance(e, dict) for e in node + other) else None
            if key is not None:
                by_id = {canonical(e[key]): e for e in other}
                return [walk(e, by_id.get(canonical(e[key])), path + (i,)) for i, e in enumerate(node)]
            if len(node) == len(other):
                return [walk(e, o, path + (i,)) for i, (e, o) in enumerate(zip(node, other))]
        return node

    return walk(document, source, ())


def parse_defect_paths(field: str) -> List[Tuple[Tuple[Token, ...], Any]]:
    """`PATH=JSON,PATH=JSON` items of the `defect_paths` column."""
    items = []
    decoder = json.JSONDecoder()
    text = field.strip()
    i = 0
    while i < len(text):
        depth, j = 0, i
        while j < len(text) and not (text[j] == "=" and depth == 0):
            depth += {"[": 1, "]": -1}.get(text[j], 0)
            j += 1
        if j >= len(text):
            raise ValueError(f"defect_paths item without '=': {text[i:]!r}")
        path = parse_path(text[i:j].strip())
        value, end = decoder.raw_decode(text, j + 1)
        items.append((path, value))
        i = end
        while i < len(text) and text[i] in ", ":
            i += 1
    return items


def apply_defect_paths(document: Any, items: Iterable[Tuple[Sequence[Token], Any]]) -> Any:
    """A copy of `document` where each path holds its given value.

    A `[field=value]` selector must select exactly one element; ValueError otherwise.
    """
    result = json.loads(json.dumps(document))
    for path, value in items:
        _set_path(result, tuple(path), value, ())
    return result


def _set_path(node: Any, tokens: tuple, value: Any, done: tuple) -> None:
    token, rest = tokens[0], tokens[1:]
    kind = token[0]
    if kind == "sel":
        if not isinstance(node, list):
            raise ValueError(f"{format_path(done)} is not a list")
        chosen = [e for e in node if isinstance(e, dict) and str(e.get(token[1])) == token[2]]
        if len(chosen) != 1:
            raise ValueError(f"{format_path(done)}[{token[1]}={token[2]}] selects {len(chosen)} elements, not 1")
        targets = [(chosen[0], ("sel", token[1], token[2]))]
    elif kind == "key":
        if not isinstance(node, dict):
            raise ValueError(f"{format_path(done)} is not an object")
        if not rest:
            node[token[1]] = value
            return
        targets = [(node[token[1]], token[1])]
    elif kind == "idx":
        targets = [(e, i) for i, e in enumerate(node)]
    else:
        targets = [(v, k) for k, v in node.items()]
    for target, segment in targets:
        if not rest:
            raise ValueError(f"cannot set a value at {format_path(done + (segment,))}")
        _set_path(target, rest, value, done + (segment,))


# ---------------------------------------------------------------------------------------
# Shape ("Shape")
# ---------------------------------------------------------------------------------------


def _collapse(path: str) -> str:
    return CHILDREN_RUN.sub(".children[*]", path)


def shape_parent(path: str) -> str:
    """The parent of a key path: `a.b[*].c` -> `a.b[*]`, a top-level key -> ``."""
    tokens = parse_path(path)
    return _tokens_text(tokens[:-1])


def _tokens_text(tokens: Sequence[Token]) -> str:
    out = ""
    for token in tokens:
        if token[0] == "idx":
            out += "[*]"
        elif token[0] == "any":
            out += ".*" if out else "*"
        else:
            out += _key_text(out, token[1])
    return out


def _last_key(path: str) -> str:
    token = parse_path(path)[-1]
    return "*" if token[0] == "any" else token[1]


def key_paths(answer: Any, maps: Iterable[str] = (), opaque: Iterable[str] = ()):
    """(set of key paths, list of (object path, keys it has)) of an answer, as "Shape" says."""
    maps, opaque = set(maps), set(opaque)
    keys: set = set()
    objects: list = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, list):
            for element in value:
                walk(element, path + "[*]")
            return
        if not isinstance(value, dict):
            return
        here = _collapse(path)
        if path and here in opaque:
            return
        if here in maps:
            # A map's keys are data: an empty map (no date-member groups in an experiment
            # without dates) constrains nothing, as an empty list does.
            if value:
                objects.append((here, {"*"}))
            for element in value.values():
                sub = _collapse(here + (".*" if here else "*"))
                keys.add(sub)
                walk(element, sub)
            return
        objects.append((here, set(value)))
        for key, element in value.items():
            sub = _collapse(here + _key_text(here, key))
            keys.add(sub)
            walk(element, sub)

    walk(answer, "")
    return keys, objects


def shape_paths(answer: Any, shape: dict) -> set:
    """The key paths of an answer as `diff_shape` writes them for this shape."""
    return key_paths(answer, shape.get("maps", ()), shape.get("opaque", ()))[0]


def diff_shape(answer: Any, shape: dict, added: Iterable[str] = ()) -> Optional[Diff]:
    """Every key path of the answer is allowed, and every object has its required keys.

    `added`: key paths allowed beyond the shape (4.2.0's added keys, docs/decisions.md Q46), in
    the notation of `key_paths` with the same shape (`shape_paths` of 4.2.0's answer).
    """
    keys, objects = key_paths(answer, shape.get("maps", ()), shape.get("opaque", ()))
    allowed = set(shape["allowed"]) | set(added)
    for path in sorted(keys):
        if path not in allowed:
            return Diff(path, MISSING, "<key present>", "key the reference never sends (shape)")
    required: dict = {}
    for path in shape["required"]:
        required.setdefault(shape_parent(path), []).append(path)
    for where, own in objects:
        for path in sorted(required.get(where, ())):
            if _last_key(path) not in own:
                return Diff(path, "<key present>", MISSING, "required key missing (shape)")
    return None


# ---------------------------------------------------------------------------------------
# Oracle ("Comparing with an oracle")
# ---------------------------------------------------------------------------------------


def remove_paths(value: Any, patterns: Iterable[Sequence[Token]]) -> Any:
    """A copy of `value` without the keys (and everything below) the patterns name."""
    patterns = tuple(patterns)

    def walk(node: Any, path: tuple) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, element in node.items():
                sub = path + (key,)
                if not any(path_matches(p, sub) for p in patterns):
                    out[key] = walk(element, sub)
            return out
        if isinstance(node, list):
            return [walk(element, path + (i,)) for i, element in enumerate(node)]
        return node

    return walk(value, ())


def normalize_dates(text: str) -> str:
    return ISO_DATE.sub(r"\1 \2", text)


def canonical(value: Any) -> Any:
    """A hashable value for multiset comparison: sorted keys, numbers to 2 decimals."""
    if isinstance(value, bool) or value is None:
        return ("lit", value)
    if _is_number(value):
        return ("num", round(float(value), 2) + 0.0)
    if isinstance(value, str):
        return ("str", normalize_dates(value))
    if isinstance(value, list):
        return ("list", tuple(canonical(v) for v in value))
    if isinstance(value, dict):
        return ("obj", tuple(sorted((k, canonical(v)) for k, v in value.items())))
    return ("other", repr(value))


def oracle_numbers_close(a: Any, b: Any) -> bool:
    return abs(a - b) <= 0.005 or math.isclose(a, b, rel_tol=1e-6)


def diff_oracle(actual: Any, oracle: Any, skip: Iterable[Sequence[Token]] = ()) -> Optional[Diff]:
    """Compare values on every path both sides have, after removing `skip` from both.

    Substitute `{FIXTURE_DIR}` in `oracle` before calling.
    """
    skip = tuple(skip)
    return _oracle(remove_paths(oracle, skip), remove_paths(actual, skip), ())


def _identity_key(expected: list, actual: list) -> Optional[str]:
    for key in IDENTITY_KEYS:
        if all(key in e for e in expected) and all(key in a for a in actual):
            ids_e = [canonical(e[key]) for e in expected]
            ids_a = [canonical(a[key]) for a in actual]
            if len(set(ids_e)) == len(ids_e) and len(set(ids_a)) == len(ids_a):
                return key
    return None


def _oracle(expected: Any, actual: Any, path: tuple) -> Optional[Diff]:
    kind_e, kind_a = _kind(expected), _kind(actual)
    where = format_path(path)
    if kind_e != kind_a:
        return Diff(where, expected, actual, f"{kind_a} instead of {kind_e} (oracle)")
    if kind_e == "object":
        for key in sorted(set(expected) & set(actual)):
            found = _oracle(expected[key], actual[key], path + (key,))
            if found:
                return found
        return None
    if kind_e == "list":
        return _oracle_list(expected, actual, path)
    if kind_e == "number":
        if oracle_numbers_close(expected, actual):
            return None
        return Diff(where, expected, actual, "number differs (oracle)")
    if kind_e == "string":
        if normalize_dates(expected) == normalize_dates(actual):
            return None
        return Diff(where, expected, actual, "string differs (oracle)")
    if expected is actual or expected == actual:
        return None
    return Diff(where, expected, actual, f"{kind_e} differs (oracle)")


def _oracle_list(expected: list, actual: list, path: tuple) -> Optional[Diff]:
    where = format_path(path)
    objects = all(isinstance(v, dict) for v in expected + actual) and (expected or actual)
    if objects:
        key = _identity_key(expected, actual)
        if key is not None:
            by_e = {canonical(e[key]): e for e in expected}
            by_a = {canonical(a[key]): a for a in actual}
            missing = [by_e[i][key] for i in by_e if i not in by_a]
            extra = [by_a[i][key] for i in by_a if i not in by_e]
            if missing or extra:
                return Diff(
                    where,
                    {f"{key}s only in oracle": missing},
                    {f"{key}s only in answer": extra},
                    f"different sets of {key} (oracle)",
                )
            for ident, element in by_e.items():
                sub = path + (("sel", key, str(element[key])),)
                found = _oracle(element, by_a[ident], sub)
                if found:
                    return found
            return None
        common = set.intersection(*(set(v) for v in expected + actual))
        expected = [{k: v for k, v in e.items() if k in common} for e in expected]
        actual = [{k: v for k, v in a.items() if k in common} for a in actual]
    count_e = Counter(canonical(v) for v in expected)
    count_a = Counter(canonical(v) for v in actual)
    if count_e == count_a:
        return None
    only_e = list((count_e - count_a).elements())
    only_a = list((count_a - count_e).elements())
    lookup_e = {canonical(v): v for v in expected}
    lookup_a = {canonical(v): v for v in actual}
    return Diff(
        where,
        [lookup_e[c] for c in only_e[:3]],
        [lookup_a[c] for c in only_a[:3]],
        f"lists differ as multisets (oracle): {len(only_e)} only in oracle, {len(only_a)} only in answer",
    )


# ---------------------------------------------------------------------------------------
# Keys 4.2.0 added (docs/decisions.md Q46; golden/v42/README.md "How to judge")
# ---------------------------------------------------------------------------------------


def diff_added(
    actual: Any,
    v42: Any,
    old: Iterable[str],
    volatile: Iterable[Sequence[Token]] = (),
    maps: Iterable[str] = (),
) -> Optional[Diff]:
    """Every key of 4.2.0's answer `v42` is in `actual`; where its generic path is not in
    `old` (the keys 4.0.1 sends), its value is 4.2.0's under the oracle rules (ISO dates
    normalised, numbers within 0.005). `volatile` paths of 4.2.0's answer only need to exist.
    `old` is written as `generic_paths(..., maps)` writes it.
    Keys 4.0.1 had keep 4.0.1's values and are judged against the 4.0.1 files instead.

    Lists of objects are paired by their identity key (`id`, `name`...); elements only one
    side has are left to the 4.0.1 comparison. Substitute `{FIXTURE_DIR}` before calling.
    """
    return _Added(frozenset(old), tuple(volatile), frozenset(maps)).diff(v42, actual, ())


class _Added:
    def __init__(self, old: frozenset, volatile: tuple, maps: frozenset):
        self.old = old
        self.volatile = volatile
        self.maps = maps

    def diff(self, v42: Any, actual: Any, path: tuple) -> Optional[Diff]:
        if isinstance(v42, dict):
            if not isinstance(actual, dict):
                return Diff(format_path(path), v42, actual, f"{_kind(actual)} instead of object")
            for key in sorted(v42):
                sub = path + (key,)
                if key not in actual:
                    return Diff(format_path(sub), v42[key], MISSING, "key 4.2.0 sends is missing")
                if any(path_covers(p, sub) for p in self.volatile):
                    continue
                if generic_path(sub, self.maps) not in self.old:
                    found = _oracle(v42[key], actual[key], sub)
                    if found:
                        return Diff(
                            found.path, found.expected, found.actual, found.why.replace("(oracle)", "(key 4.2.0 added)")
                        )
                    continue
                found = self.diff(v42[key], actual[key], sub)
                if found:
                    return found
            return None
        if isinstance(v42, list) and isinstance(actual, list):
            return self._list(v42, actual, path)
        return None

    def _list(self, v42: list, actual: list, path: tuple) -> Optional[Diff]:
        dicts = [e for e in v42 + actual if isinstance(e, dict)]
        if not dicts or len(dicts) != len(v42) + len(actual):
            return None  # scalars or mixed: 4.0.1's keys, judged by the 4.0.1 files
        key = _identity_key(v42, actual)
        if key is not None:
            by_a = {canonical(a[key]): a for a in actual}
            pairs = [(e, by_a[canonical(e[key])], ("sel", key, str(e[key]))) for e in v42 if canonical(e[key]) in by_a]
        elif len(v42) == len(actual):
            pairs = [(e, a, i) for i, (e, a) in enumerate(zip(v42, actual))]
        else:
            return Diff(
                format_path(path),
                f"{len(v42)} elements",
                f"{len(actual)} elements",
                "list length differs and its elements have no identity key",
            )
        for expected, got, segment in pairs:
            found = self.diff(expected, got, path + (segment,))
            if found:
                return found
        return None
