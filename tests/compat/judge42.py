"""How a row answered by the upstream API 4.2.0 is judged (docs/compatibility.md, "The
4.2.0 captures").

The golden-as42 and golden-pg capture hold 4.2.0's answers on sites written by Autosubmit
4.2.0 (job list in `db/job_list.db` or in PostgreSQL) and 4.1.17 (PostgreSQL). 4.2.0 is
evidence there, not the contract, and the capture's rules are looser than the 4.0.1
suite's exact comparison:

1. Status: the same class as 4.2.0's; where 4.2.0 answers FastAPI's 422 for a bad
   parameter, a v3 route keeps 4.0.1's 200 with `error: true` and a v4 route may say 400;
   where 4.0.1 answered the request with data (departures42.py, `data_ok`), data passes;
   an unknown experiment, job or run may be our clean 404 where 4.2.0 says 200.
2. Where 4.2.0 answered an error (`error: true`, 4xx, 5xx): ours answers with data or with
   our own clean error (`{"error": true, "error_message": <str>}`), never a 500. Some rows
   are known to have data (`require_data`): there only data passes.
3. Where 4.2.0 answered with data: ours answers with data, has every key 4.2.0 sends (more
   keys are fine), and matches 4.2.0's values: exactly on keys 4.0.1 never had (the fields
   4.2.0 added, whose values only 4.2.0 defines), after normalising ISO timestamps and with
   a tolerance of 0.005 on the keys 4.0.1 had (4.0.1 prints dates with a space and rounds
   SYPD). Skipped: `volatile_fields` (only their presence is checked; `$` is the whole
   body), every `error_message` and `pkl_file_name`. `unordered_lists` are multisets; lists
   of objects that carry an identity key (`id`, `name`, ... as in compare.IDENTITY_KEYS)
   are matched by it, in any order.

Nothing here knows about Flask or pytest: `judge` takes the row's facts and our decoded
answer and returns None or a one-line reason. tests/compat/test_judge42.py checks it on
hand-made bodies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, FrozenSet, Iterable, Optional, Sequence, Tuple

from tests.compat import compare
from tests.compat.compare import MISSING, Diff, format_path, path_covers, path_matches, short

# Keys whose values are never compared (docs/compatibility.md, rule 3).
SKIPPED_KEYS = frozenset({"error_message", "pkl_file_name"})
WHOLE_BODY = "$"


@dataclass(frozen=True)
class Expected:
    """What 4.2.0 answered for one row, and how to compare with it."""

    path: str
    status: int
    body: Any = MISSING  # decoded JSON; MISSING for the empty bodies of redirects
    volatile: Tuple = ()  # parsed paths (compare.parse_paths)
    unordered: Tuple = ()
    whole_body_volatile: bool = False
    location: str = ""  # the redirect's Location, placeholders substituted
    note: str = ""
    not_found_ok: bool = False  # about an unknown experiment, job or run: our 404 may answer
    data_ok: bool = False  # 4.0.1 answered this failing request with data: data passes too
    require_data: bool = False  # 4.2.0 failed where the data exists: only data passes
    # True for a generic path (compare.format_path with list indices as [*]) that 4.0.1's
    # answers of the same route had; those values follow 4.0.1's formatting rules.
    had_401: Callable[[str], bool] = field(default=lambda generic: False)


@dataclass(frozen=True)
class Ours:
    """Our answer: status, decoded JSON body (MISSING if not JSON), Location header."""

    status: int
    body: Any = MISSING
    location: str = ""


def is_error_body(body: Any) -> bool:
    return isinstance(body, dict) and body.get("error") is True


def is_clean_error(answer: Ours) -> bool:
    """Our own error: v4's `{"error": true, "error_message": str}` with a 4xx or 503, or
    v3's 200 with the same body."""
    if answer.status not in (200, 503) and not 400 <= answer.status < 500:
        return False
    return is_error_body(answer.body) and isinstance(answer.body.get("error_message"), str)


def is_data(answer: Ours) -> bool:
    return 200 <= answer.status < 300 and answer.body is not MISSING and not is_error_body(answer.body)


def reference_failed(expected: Expected) -> bool:
    return expected.status >= 400 or (200 <= expected.status < 300 and is_error_body(expected.body))


def _describe(answer: Ours) -> str:
    if answer.body is MISSING:
        return f"status {answer.status}, body not JSON"
    if is_error_body(answer.body):
        message = short(answer.body.get("error_message", MISSING), 160)
        return f"status {answer.status}, error body with error_message {message}"
    return f"status {answer.status}, body {short(answer.body, 160)}"


def judge(expected: Expected, ours: Ours) -> Optional[str]:
    """None when our answer passes the row, else why not (one line)."""
    if ours.status >= 500 and ours.status != 503:
        return f"server error: {_describe(ours)} (4.2.0: {expected.status})"
    if 300 <= expected.status < 400:
        if not 300 <= ours.status < 400:
            return f"expected a redirect like 4.2.0's {expected.status}, got {_describe(ours)}"
        if _location_path(ours.location) != _location_path(expected.location):
            return f"redirect to {ours.location!r}, 4.2.0 to {expected.location!r}"
        return None
    if expected.data_ok and reference_failed(expected) and is_data(ours):
        return None
    if expected.status == 422:
        return _judge_bad_parameter(expected, ours)
    if 400 <= expected.status < 500:
        if 400 <= ours.status < 500 and is_clean_error(ours):
            return None
        return f"expected a clean 4xx error like 4.2.0's {expected.status}, got {_describe(ours)}"
    if reference_failed(expected):
        if is_data(ours):
            return None
        if expected.require_data:
            return f"4.2.0 failed ({expected.status}) but the data exists: got {_describe(ours)}"
        if is_clean_error(ours):
            return None
        return f"expected data or a clean error (4.2.0 failed), got {_describe(ours)}"
    # 4.2.0 answered with data.
    if ours.status == 404 and expected.not_found_ok and is_clean_error(ours):
        return None
    if not is_data(ours):
        return f"4.2.0 answered with data ({expected.status}); ours: {_describe(ours)}"
    if expected.whole_body_volatile:
        return None
    diff = diff_data(expected.body, ours.body, expected)
    return None if diff is None else str(diff)


def _judge_bad_parameter(expected: Expected, ours: Ours) -> Optional[str]:
    """4.2.0's FastAPI 422: v3 keeps 4.0.1's 200 + `error: true` (or a clean 4xx); v4
    answers a clean error of the same class (400, 422, or 404 where there is nothing)."""
    if not is_clean_error(ours):
        return f"expected a clean error for a bad parameter (4.2.0: 422), got {_describe(ours)}"
    if expected.path.startswith("/v4/") and not 400 <= ours.status < 500:
        return f"a v4 bad parameter answers a 4xx, got {ours.status}"
    if ours.status == 503:
        return "a bad parameter is not a 503"
    return None


def _location_path(location: str) -> str:
    """The path and query of a Location (4.2.0 sends absolute URLs, Flask may too)."""
    text = location or ""
    if "://" in text:
        text = "/" + text.split("://", 1)[1].partition("/")[2]
    return text


# ---------------------------------------------------------------------------------------
# Data comparison (rule 3)
# ---------------------------------------------------------------------------------------


def generic(path: Sequence) -> str:
    """`jobs[3].children[0].children[1].name` -> `jobs[*].children[*].name` (the form of
    4.0.1 key paths: list indices as [*], runs of `.children[*]` collapsed)."""
    out = ""
    for segment in path:
        out += "[*]" if isinstance(segment, (int, tuple)) else compare._key_text(out, segment)
    return compare._collapse(out)


def diff_data(reference: Any, ours: Any, expected: Expected) -> Optional[Diff]:
    """The first place where our data misses a key of 4.2.0's or holds another value."""
    return _Data(expected).diff(reference, ours, ())


class _Data:
    def __init__(self, expected: Expected):
        self.volatile = expected.volatile
        self.unordered = expected.unordered
        self.had = expected.had_401

    def diff(self, reference: Any, ours: Any, path: tuple) -> Optional[Diff]:
        if any(path_matches(p, path) for p in self.volatile):
            return None
        if path and isinstance(path[-1], str) and path[-1] in SKIPPED_KEYS:
            return None
        where = format_path(path)
        kind_r, kind_o = compare._kind(reference), compare._kind(ours)
        if kind_r != kind_o:
            return Diff(where, reference, ours, f"{kind_o} instead of 4.2.0's {kind_r}")
        if kind_r == "object":
            for key in sorted(reference):
                if key not in ours:
                    return Diff(
                        format_path(path + (key,)),
                        reference[key],
                        MISSING,
                        "key 4.2.0 sends is missing",
                    )
            for key in sorted(reference):
                found = self.diff(reference[key], ours[key], path + (key,))
                if found:
                    return found
            return None
        if kind_r == "list":
            return self._list(reference, ours, path)
        strict = not self.had(generic(path))
        if kind_r == "number":
            close = compare.numbers_close if strict else compare.oracle_numbers_close
            if close(reference, ours):
                return None
            return Diff(where, reference, ours, "number differs" + self._rule(strict))
        if kind_r == "string":
            if reference == ours or (
                not strict and compare.normalize_dates(reference) == compare.normalize_dates(ours)
            ):
                return None
            return Diff(where, reference, ours, "string differs" + self._rule(strict))
        if reference == ours:
            return None
        return Diff(where, reference, ours, f"{kind_r} differs")

    @staticmethod
    def _rule(strict: bool) -> str:
        return " (a key 4.0.1 never had: 4.2.0's value)" if strict else " (after normalising)"

    def _list(self, reference: list, ours: list, path: tuple) -> Optional[Diff]:
        where = format_path(path)
        if reference and ours and all(isinstance(v, dict) for v in reference + ours):
            key = compare._identity_key(reference, ours)
            if key is not None:
                return self._by_identity(reference, ours, path, key)
        if any(path_covers(p, path) for p in self.unordered):
            return self._multiset(reference, ours, path)
        for index, (r, o) in enumerate(zip(reference, ours)):
            found = self.diff(r, o, path + (index,))
            if found:
                return found
        if len(reference) != len(ours):
            return Diff(where, f"{len(reference)} elements", f"{len(ours)} elements", "list length differs")
        return None

    def _by_identity(self, reference: list, ours: list, path: tuple, key: str) -> Optional[Diff]:
        by_r = {compare.canonical(e[key]): e for e in reference}
        by_o = {compare.canonical(e[key]): e for e in ours}
        missing = [by_r[i][key] for i in by_r if i not in by_o]
        extra = [by_o[i][key] for i in by_o if i not in by_r]
        if missing or extra:
            return Diff(
                format_path(path),
                {f"{key} only in 4.2.0's": missing[:5]},
                {f"{key} only in ours": extra[:5]},
                f"different sets of {key} ({len(missing)} missing, {len(extra)} extra)",
            )
        for ident, element in by_r.items():
            found = self.diff(element, by_o[ident], path + (("sel", key, str(element[key])),))
            if found:
                return found
        return None

    def _multiset(self, reference: list, ours: list, path: tuple) -> Optional[Diff]:
        return compare.multiset_diff(
            self.diff, reference, ours, path, "no matching element in ours", "element 4.2.0's list does not have"
        )


# ---------------------------------------------------------------------------------------
# Which keys 4.0.1 had
# ---------------------------------------------------------------------------------------


class KeySet:
    """The generic key paths of 4.0.1's successful answers of one route.

    `maps` and `opaque` are golden/shapes.json's: under a map any key matches (`*`), and
    everything below an opaque path (configuration trees) counts as had.
    """

    def __init__(self, paths: Iterable[str] = (), maps: Iterable[str] = (), opaque: Iterable[str] = ()):
        self.paths: FrozenSet[str] = frozenset(paths)
        self.patterns = tuple(compare.parse_path(p) for p in self.paths if "*" in p.replace("[*]", ""))
        self.opaque = tuple(compare.parse_path(p) for p in opaque)

    def __call__(self, generic_path: str) -> bool:
        if generic_path in self.paths:
            return True
        if not (self.patterns or self.opaque):
            return False
        tokens = compare.parse_path(generic_path) if generic_path else ()
        segments = tuple(0 if t[0] == "idx" else t[1] for t in tokens)
        return any(path_matches(p, segments) for p in self.patterns) or any(
            path_covers(p, segments) for p in self.opaque
        )
