"""The expansions of an AS4 configuration (docs/data.md A.8.2 steps 7-8): `%KEY%` (and
`%^KEY%`) placeholders and `FOR:` loops, each bounded so that a small file cannot expand
without limit (docs/security.md).
"""

from __future__ import annotations

import collections.abc
import copy
import re
from typing import Any, Dict, List, Mapping, Tuple

from autosubmit_api.readers.exp_config.config_files import MAX_EXPANDED_COST, NODE_COST, ConfigRefused

_PLACEHOLDER = re.compile(r"%[a-zA-Z0-9_.-]*%")
_SPECIAL_PLACEHOLDER = re.compile(r"%\^[a-zA-Z0-9_.-]*%")


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


def substitute_text(text: str, data: Mapping[str, Any], special: bool) -> str:
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


def substitute(data: Dict[str, Any], special: bool = False, passes: int = 25) -> Dict[str, Any]:
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
            new = substitute_text(node, data, special)
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


def expand_loops(data: Dict[str, Any]) -> Dict[str, Any]:
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
