"""services/rendered.py: the fast encoder gives exactly json.dumps's bytes (Flask's sorted,
compact, ASCII JSON), holes included, and falls back where orjson would differ."""

from __future__ import annotations

import json
from typing import NamedTuple

import pytest

from autosubmit_api.services import rendered
from autosubmit_api.services.rendered import Live, render


def reference(obj) -> bytes:
    return (json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n").encode()


class Pair(NamedTuple):
    a: int
    b: str


CASES = [
    {"b": 1, "a": [True, False, None, 0, -1, 2**63 - 1, -(2**63), 2**64 - 1]},
    {"floats": [0.0, -0.0, 1.0, 100.0, 0.1, 1 / 3, 12.25, 1e-4, 1e15, 1e16, 1.5e300, 123456.789]},
    {"small": [1e-05, -2.5e-07, 4.1e-05, 5e-324]},  # orjson writes these differently
    {"text": "".join(chr(i) for i in range(128))},  # control characters and DEL
    {"accents": "Configuració \u2028 ñ", "emoji": "\U0001f600"},
    {"huge": 2**70},
    {"tuple": (1, "x"), "named": Pair(1, "y")},
    {"zz": {"y": {"b": [], "a": {}}}, "aa": "</script>&<>'\""},
]


@pytest.mark.parametrize("obj", CASES)
def test_render_is_byte_identical_to_json(obj):
    assert render(obj).body() == reference(obj)


def test_int_keys_are_written_as_json_writes_them():
    obj = {"k": {1: "a", 2: "b"}}
    assert render(obj).body() == reference(obj)


def test_holes_are_filled_per_request_with_the_same_bytes():
    obj = {
        "jobs": [{"name": "a000_SIM", "minutes": Live(("minutes", 0))}, {"name": "a000_POST", "minutes": 3}],
        "now": Live("now"),
        "title": "ñ",
    }
    result = render(obj)
    assert result.keys == [("minutes", 0), "now"]
    values = {("minutes", 0): 12, "now": "2024-01-01 00:00:00"}
    expected = {
        "jobs": [{"name": "a000_SIM", "minutes": 12}, {"name": "a000_POST", "minutes": 3}],
        "now": "2024-01-01 00:00:00",
        "title": "ñ",
    }
    assert result.body(lambda keys: values) == reference(expected)


def test_unknown_types_are_refused_as_json_refuses_them():
    import datetime

    with pytest.raises(TypeError):
        render({"when": datetime.datetime(2024, 1, 1)})


def test_orjson_is_used_for_ascii_bodies():
    # The fast path is what keeps a cold 50,000-job tree under the target; it must not
    # silently fall back for ordinary view content.
    assert rendered.orjson is not None
    obj = {"jobs": [{"name": f"a000_2000010{i}_fc0_{i}_SIM", "SYPD": 1.25, "status": "COMPLETED"} for i in range(5)]}
    assert rendered._fast_dumps(obj, lambda v: v) == reference(obj)
    assert rendered._fast_dumps({"x": 1e-05}, lambda v: v) is None
