"""Replaying golden/index.tsv of the compatibility data against our app over a copy of its fixtures.

`Harness` serves the fixtures as golden/README.md "Serving the fixtures the same way" says
(copy, `logs/` and `metadata/logs/`, `.autosubmitrc`, mtime 1784634124, the reference's
default secret as a test key, background tasks off), keeps one app per protection level,
and gives rows that write (every POST) a fresh copy of their own. `Harness.check(row)` sends
the row's request and returns None or a one-paragraph failure message.

Used by tests/compat/test_golden.py (pytest) and tests/compat/report.py (command line).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import quote

import jwt

from autosubmit_api.app import create_app
from autosubmit_api.config import load_settings
from tests.compat import compare
from tests.compat.departures import ADDED_ITEMS, DEPARTURES, V42_ANSWERS, V42_VALUES
from tests.fixture_site import FIXTURE_MTIME, copy_fixture_tree  # noqa: F401 - FIXTURE_MTIME re-exported

# The reference's built-in SECRET_KEY (docs/api.md 2.2). Our server has none (docs/decisions.md Q6);
# the suite passes it explicitly, as a test key only, so tokens match the capture's.
REFERENCE_SECRET = "M87;Z$,o5?MSC(/@#-LbzgE3PH-5ki.ZvS}N.s09v>I#v8I'00THrA-:ykh3HX?"
WRONG_SECRET = "another-key-that-is-not-the-reference-default-secret-0123456789"
GOLDEN_USER = "golden_user"
HOST = "127.0.0.1:8070"
BASE_URL = f"http://{HOST}"
TEN_YEARS = 10 * 365 * 24 * 3600
EXPIRED_AT = 978307200  # 2001-01-01 00:00:00 UTC


@dataclass(frozen=True)
class Row:
    """One line of index.tsv, with `request_extra` split into its items."""

    method: str
    path: str
    status: int
    file: str
    volatile_fields: str
    unordered_lists: str
    protection_level: str
    content_type: str
    request_extra: str
    ref_defect: str
    expect_status: int
    shape_ref: str
    oracle: str
    oracle_skip: str
    defect_paths: str
    extra: Dict[str, str] = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        """POST rows may change the served tree (updatedesc writes autosubmit.db)."""
        return self.method == "POST"

    def describe(self) -> str:
        extra = f" [{self.request_extra}]" if self.request_extra else ""
        level = f" PROTECTION_LEVEL={self.protection_level}" if self.protection_level != "NONE" else ""
        return f"{self.method} {self.path}{extra}{level}"


def parse_extra(text: str) -> Dict[str, str]:
    """`auth=... referer=... location=... json={...}`; `json=` runs to the end of the field."""
    items: Dict[str, str] = {}
    rest = text.strip()
    while rest:
        if rest.startswith("json="):
            items["json"] = rest[len("json=") :]
            break
        item, _, rest = rest.partition(" ")
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"request_extra item without '=': {item!r}")
        items[key] = value
        rest = rest.strip()
    return items


def split_route(path: str) -> Tuple[str, List[str]]:
    """A request path's API version and its other segments, the query left out: `/v4/experiments/a000`
    -> ("v4", ["experiments", "a000"]); a path naming no version is v3's; the root `/` is ("", [])."""
    segments = [s for s in path.split("?", 1)[0].split("/") if s]
    if not segments:
        return "", []
    if segments[0] in ("v3", "v4"):
        return segments[0], segments[1:]
    return "v3", segments


def read_index(index: Path) -> List[Dict[str, str]]:
    """The lines of an index.tsv (tab-separated, no quoting) as {column: text}."""
    with open(index, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def index_rows(index: Path, row_type, optional=(), **derived: Callable[[Dict[str, str]], object]) -> list:
    """An index.tsv's lines as `row_type` dataclasses: each field from the column of its name
    (an `int` field as a number; a column named in `optional` may be absent or empty, ""),
    except the `derived` ones, computed from the whole line."""
    columns = [f for f in fields(row_type) if f.name not in derived]

    def value(raw: Dict[str, str], column) -> object:
        text = (raw.get(column.name) or "") if column.name in optional else raw[column.name]
        return int(text) if column.type in (int, "int") else text

    return [
        row_type(**{c.name: value(raw, c) for c in columns}, **{k: f(raw) for k, f in derived.items()})
        for raw in read_index(index)
    ]


def load_rows(golden_dir: Path) -> List[Row]:
    return index_rows(golden_dir / "index.tsv", Row, extra=lambda raw: parse_extra(raw["request_extra"]))


@dataclass(frozen=True)
class V42Row:
    """One line of golden/v42/index.tsv: 4.2.0's answer to the 4.0.1 row of the same order."""

    status: int
    file: str  # relative to the golden directory: v42/<name>
    volatile_fields: str

    @property
    def is_json(self) -> bool:
        return self.file.endswith(".json")


def load_v42_rows(golden_dir: Path, files: List[str]) -> Dict[str, V42Row]:
    """4.0.1 row `file` -> 4.2.0's row (same order; five names changed extension); {} when
    the v42 answers are absent."""
    index = golden_dir / "v42" / "index.tsv"
    if not index.is_file():
        return {}
    found = [V42Row(int(raw["status"]), "v42/" + raw["file"], raw["volatile_fields"]) for raw in read_index(index)]
    if len(found) != len(files):
        raise ValueError(f"{index}: {len(found)} rows, the 4.0.1 index has {len(files)}")
    return dict(zip(files, found))


def mint_tokens(now: Optional[int] = None) -> Dict[str, str]:
    """The four tokens of golden/README.md "Serving the fixtures", step 5."""
    now = int(time.time() if now is None else now)
    claims = {"user_id": GOLDEN_USER, "sub": GOLDEN_USER, "iat": now, "exp": now + TEN_YEARS}
    return {
        "valid": jwt.encode(claims, REFERENCE_SECRET, algorithm="HS256"),
        "expired": jwt.encode(
            dict(claims, iat=EXPIRED_AT - 86400, exp=EXPIRED_AT),
            REFERENCE_SECRET,
            algorithm="HS256",
        ),
        "wrongkey": jwt.encode(claims, WRONG_SECRET, algorithm="HS256"),
        "nouser": jwt.encode({"iat": now, "exp": now + TEN_YEARS}, REFERENCE_SECRET, algorithm="HS256"),
    }


def serve_fixtures(fixtures: Path, dest: Path) -> Path:
    """Copy the fixture tree to `dest` and prepare it as the capture did (file times too, so
    pkl_timestamp, modified... match); returns `dest`."""
    return copy_fixture_tree(dest.resolve(), source=fixtures)


def make_client(site: Path, level: str):
    env = {
        "AUTOSUBMIT_CONFIGURATION": str(site / ".autosubmitrc"),
        "SECRET_KEY": REFERENCE_SECRET,
        "API_ADMIN_USERS": GOLDEN_USER,
        "PROTECTION_LEVEL": level,
        "DISABLE_BACKGROUND_TASKS": "true",
        # The capture's server answered on BASE_URL; the v4 CAS route's own URL is built
        # from this setting, never from the request's Host.
        "API_PUBLIC_URL": BASE_URL,
    }
    settings = load_settings(env, dotenv=False, testing=True)
    return create_app(settings).test_client()


class Harness:
    """The served copy, one client per protection level, and the row checks."""

    def __init__(self, shared: Path, new_dir: Callable[[str], Path]):
        self.golden_dir = shared / "golden"
        self.fixtures = shared / "fixtures"
        self.new_dir = new_dir
        self.shapes = json.loads((self.golden_dir / "shapes.json").read_text(encoding="utf-8"))
        self.tokens = mint_tokens()
        self.rows = {row.file: row for row in load_rows(self.golden_dir)}
        self.v42 = load_v42_rows(self.golden_dir, list(self.rows))
        # Objects whose keys are data (graph groups): their keys count as one `*` key.
        self.maps = frozenset(m for shape in self.shapes.values() for m in shape.get("maps", ()))
        self._site: Optional[Path] = None
        self._clients: Dict[str, object] = {}

    def _fresh_site(self, name: str) -> Path:
        return serve_fixtures(self.fixtures, self.new_dir(name) / "D")

    def shared_client(self, level: str):
        if self._site is None:
            self._site = self._fresh_site("golden-shared")
        if level not in self._clients:
            self._clients[level] = make_client(self._site, level)
        return self._site, self._clients[level]

    def send(self, row: Row):
        """(site dir, response) for the row; writing rows get a copy of their own."""
        if row.writes:
            site = self._fresh_site("golden-" + row.file.replace(".", "_"))
            client = make_client(site, row.protection_level)
        else:
            site, client = self.shared_client(row.protection_level)
        headers = {}
        auth = row.extra.get("auth")
        if auth == "bearer":
            headers["Authorization"] = "Bearer " + self.tokens["valid"]
        elif auth:
            headers["Authorization"] = self.tokens[auth]
        if "referer" in row.extra:
            headers["Referer"] = row.extra["referer"]
        kwargs = {}
        if "json" in row.extra:
            kwargs = {"data": row.extra["json"].encode("utf-8"), "content_type": "application/json"}
        response = client.open(row.path, method=row.method, headers=headers, base_url=BASE_URL, **kwargs)
        return site, response

    def load(self, name: str, site: Path):
        document = json.loads((self.golden_dir / name).read_text(encoding="utf-8"))
        return compare.substitute(document, "{FIXTURE_DIR}", str(site))

    def expected_row(self, row: Row) -> Row:
        """The row whose answer applies: itself, or its docs/decisions.md substitute."""
        if row.file in V42_ANSWERS:
            answer = self.v42[row.file]
            return replace(
                row,
                status=answer.status,
                expect_status=answer.status,
                file=answer.file,
                volatile_fields=answer.volatile_fields,
            )
        if row.file not in DEPARTURES:
            return row
        _, other = DEPARTURES[row.file]
        answer = self.rows[other]
        return replace(
            row,
            status=answer.status,
            expect_status=answer.expect_status,
            file=answer.file,
            volatile_fields=answer.volatile_fields,
            unordered_lists=answer.unordered_lists,
        )

    def check(self, row: Row) -> Optional[str]:
        """None when our answer satisfies the row, else what is wrong (path and both values)."""
        site, response = self.send(row)
        try:
            problem = self._judge(self.expected_row(row), site, response)
        finally:
            response.close()
        if problem is None:
            return None
        if row.file in DEPARTURES:
            decision, other = DEPARTURES[row.file]
            problem += f" (docs/decisions.md {decision}: the answer of {other} applies)"
        elif row.file in V42_ANSWERS:
            problem += f" ({V42_ANSWERS[row.file]}: 4.2.0's answer applies)"
        elif row.file in V42_VALUES:
            problem += f" ({V42_VALUES[row.file][1]}: 4.2.0's values on some paths)"
        return f"{row.describe()} ({row.file}): {problem}"

    def _judge(self, row: Row, site: Path, response) -> Optional[str]:
        body = response.get_data()
        if response.status_code != row.expect_status:
            return (
                f"status {response.status_code}, expected {row.expect_status}; "
                f"body: {body[:300].decode('utf-8', 'replace')!r}"
            )
        if row.file.endswith(".txt"):
            return self._judge_text(row, response, body)
        if response.mimetype != row.content_type:
            return f"Content-Type {response.mimetype!r}, expected {row.content_type!r}"
        try:
            actual = json.loads(body)
        except ValueError:
            return f"body is not JSON: {body[:300].decode('utf-8', 'replace')!r}"
        if not row.ref_defect:
            problem = self._exact(row, site, actual)
        elif row.ref_defect == "config-unparsable-item":
            problem = self._exact(row, site, actual, compare.parse_defect_paths(row.defect_paths))
        else:
            problem = self._defect(row, site, actual)
        if problem and isinstance(actual, dict) and actual.get("error") is True:
            # The v3 error body hides the status; its message is what the route owner needs.
            problem += f"; the answer says error_message={compare.short(actual.get('error_message'))}"
        return problem

    def _judge_text(self, row: Row, response, body: bytes) -> Optional[str]:
        if "location" in row.extra:
            expected = row.extra["location"].replace("%2F%2F{HOST}", "%2F%2F" + quote(HOST, safe=""))
            expected = expected.replace("{HOST}", HOST)
            got = response.headers.get("Location")
            if got != expected:
                return f"Location header {got!r}, expected {expected!r}"
            return None
        if body:
            return f"body must be empty, got {body[:300]!r}"
        return None

    def _exact(self, row: Row, site: Path, actual, defect_items=()) -> Optional[str]:
        expected = self.with_added_items(row, self.load(row.file, site), site)
        if row.file in V42_VALUES:
            paths = compare.parse_paths(V42_VALUES[row.file][0])
            expected = compare.take_values(expected, self.v42_answer(row.file, site), paths)
        if defect_items:
            expected = compare.apply_defect_paths(expected, defect_items)
        diff = compare.diff_exact(
            expected,
            actual,
            compare.parse_paths(row.volatile_fields),
            compare.parse_paths(row.unordered_lists),
            self.added_paths(row, site),
        )
        return None if diff is None else str(diff)

    def _defect(self, row: Row, site: Path, actual) -> Optional[str]:
        if not isinstance(actual, dict):
            return f"answer is {compare.short(actual)}, expected an object"
        shape = self.shapes[row.shape_ref]
        added = self.added_shape_paths(row, shape, site)
        diff = compare.diff_shape(actual, shape, added)
        if diff is not None:
            return f"{diff} [shape of {row.shape_ref}]"
        if row.expect_status == 200 and "error" in actual:
            if actual["error"] is not False:
                return f"top-level error is {compare.short(actual['error'])}, expected false"
            if "error_message" in actual and actual["error_message"] != "":
                return f'error_message is {compare.short(actual["error_message"])}, expected ""'
        if row.expect_status == 404:
            if actual.get("error") is not True:
                got = compare.short(actual.get("error", compare.MISSING))
                return f"top-level error is {got}, expected true"
            if not isinstance(actual.get("error_message"), str):
                return "error_message must be a string"
        if row.oracle:
            oracle = self.load(row.oracle, site)
            # Keys 4.2.0 added are judged against golden/v42 by check_v42 (Q46), not here.
            skip = compare.parse_paths(row.oracle_skip) + tuple(compare.parse_path(path) for path in sorted(added))
            diff = compare.diff_oracle(actual, oracle, skip)
            if diff is not None:
                return f"{diff} [oracle {row.oracle}]"
        return None

    # --- golden/v42: the keys 4.2.0 added (docs/decisions.md Q46) -----------------------------

    def v42_answer(self, name: str, site: Path):
        """4.2.0's JSON answer to the 4.0.1 row `name`, or None (no v42 file, or not JSON)."""
        found = self.v42.get(name)
        if found is None or not found.is_json:
            return None
        return self.load(found.file, site)

    def with_added_items(self, row: Row, expected, site: Path):
        """The 4.0.1 body with 4.2.0's added items first in each ADDED_ITEMS list."""
        sources = self._v42_sources(row)  # the row itself first, or its /v3/ twin
        if not isinstance(expected, dict) or not sources:
            return expected
        v42 = self.v42_answer(sources[0], site)
        for key in ADDED_ITEMS:
            old, new = expected.get(key), v42.get(key) if isinstance(v42, dict) else None
            if isinstance(old, list) and isinstance(new, list):
                expected = dict(expected, **{key: [i for i in new if i not in old] + old})
        return expected

    def _v42_sources(self, row: Row) -> List[str]:
        """The 4.0.1 rows whose 4.2.0 answers tell which keys 4.2.0 sends for `row`: the row
        itself; for a root-prefixed v3 route (gone in 4.2.0) its `/v3/` twin; for a defect
        row also the route's successful rows (`shapes.json` `from`), since 4.2.0 fails on
        some of those experiments too (a1ve, aa6f graphs) and sends the same keys elsewhere."""
        names = [row.file]
        if row.file.startswith("root__"):
            names.append("v3__" + row.file[len("root__") :])
        if row.ref_defect and row.ref_defect != "config-unparsable-item":
            names.extend(self.shapes[row.shape_ref]["from"])
        return [name for name in names if name in self.v42 and self.v42_judged(self.rows[name])]

    def added_paths(self, row: Row, site: Path) -> frozenset:
        """Generic key paths 4.2.0 sends for this request: a 4.0.1 row allows them beyond
        its file (docs/decisions.md Q46; golden/README.md "Keys added since 4.0.1")."""
        found: set = set()
        for name in self._v42_sources(row):
            found |= compare.generic_paths(self.v42_answer(name, site))
        return frozenset(found)

    def added_shape_paths(self, row: Row, shape: dict, site: Path) -> set:
        """As `added_paths`, in the shape's notation, minus what the shape allows already."""
        found: set = set()
        for name in self._v42_sources(row):
            found |= compare.shape_paths(self.v42_answer(name, site), shape)
        return found - set(shape["allowed"])

    def old_paths(self, row: Row, site: Path) -> frozenset:
        """The key paths 4.0.1 sends for this request: its file, or for a defect row (the
        file is the failure) every successful 4.0.1 answer of the route."""
        if row.file in DEPARTURES:
            row = self.expected_row(row)
        if not row.ref_defect or row.ref_defect == "config-unparsable-item":
            return compare.generic_paths(self.load(row.file, site), self.maps)
        found: set = set()
        for source in self.shapes[row.shape_ref]["from"]:
            found |= compare.generic_paths(self.load(source, site), self.maps)
        return frozenset(found)

    def v42_judged(self, row: Row) -> bool:
        """4.2.0 answered this row with data (2xx, a JSON object without `"error": true`, or
        a list)."""
        found = self.v42.get(row.file)
        if found is None or not found.is_json or not 200 <= found.status < 300:
            return False
        body = json.loads((self.golden_dir / found.file).read_text(encoding="utf-8"))
        if isinstance(body, dict):
            return body.get("error") is not True
        return isinstance(body, list)

    def check_v42(self, row: Row) -> Optional[str]:
        """None when our answer has every key of 4.2.0's answer and 4.2.0's values on the keys
        4.0.1 did not send; else what is wrong. Call only for `v42_judged` rows."""
        site, response = self.send(row)
        try:
            if not 200 <= response.status_code < 300:
                return f"{row.describe()}: status {response.status_code} where 4.2.0 answered data"
            actual = json.loads(response.get_data())
        finally:
            response.close()
        if isinstance(actual, dict) and actual.get("error") is True:
            return f"{row.describe()}: error body where 4.2.0 answered data: {compare.short(actual)}"
        found = self.v42[row.file]
        diff = compare.diff_added(
            actual,
            self.load(found.file, site),
            self.old_paths(row, site),
            compare.parse_paths(found.volatile_fields),
            self.maps,
        )
        return None if diff is None else f"{row.describe()} ({found.file}): {diff}"
