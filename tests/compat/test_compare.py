"""The comparison rules (tests/compat/compare.py) on small hand-made answers."""

from __future__ import annotations

import pytest

from tests.compat.compare import (
    MISSING,
    apply_defect_paths,
    diff_exact,
    diff_oracle,
    diff_shape,
    format_path,
    key_paths,
    parse_defect_paths,
    parse_path,
    parse_paths,
    shape_parent,
    substitute,
)

pytestmark = pytest.mark.compat


# --- paths ---------------------------------------------------------------------------


def test_path_notation_parses_keys_lists_any_quoted_and_selectors():
    assert parse_path("a.b[*].c") == (("key", "a"), ("key", "b"), ("idx",), ("key", "c"))
    assert parse_path("groups_data.*.x") == (("key", "groups_data"), ("any",), ("key", "x"))
    assert parse_path('conf["a b"].x') == (("key", "conf"), ("key", "a b"), ("key", "x"))
    assert parse_path("experiment[name=aa6f].hpc") == (
        ("key", "experiment"),
        ("sel", "name", "aa6f"),
        ("key", "hpc"),
    )


@pytest.mark.parametrize("bad", ["a..b", "a.", "a[1]", "a b", "a[*]b"])
def test_malformed_paths_are_rejected(bad):
    with pytest.raises(ValueError):
        parse_path(bad)


def test_concrete_paths_are_printed_in_the_same_notation():
    assert format_path(("jobs", 3, "name")) == "jobs[3].name"
    assert format_path(("conf", "a b")) == 'conf["a b"]'
    assert format_path(("experiment", ("sel", "name", "aa6f"), "hpc")) == "experiment[name=aa6f].hpc"


def test_parent_of_a_key_path():
    assert shape_parent("a.b[*].c") == "a.b[*]"
    assert shape_parent("error") == ""
    assert shape_parent("groups_data.*") == "groups_data"


# --- exact ---------------------------------------------------------------------------


def test_equal_documents_match_with_int_float_mix_and_float_tolerance():
    assert diff_exact({"a": 0, "b": 1.0000001, "c": [1, "x"]}, {"a": 0.0, "b": 1.0, "c": [1, "x"]}) is None
    assert diff_exact({"x": 1e-12}, {"x": 0}) is None


@pytest.mark.parametrize(
    "expected, actual, where",
    [
        ({"a": 1}, {"a": 2}, "a"),  # integers must be equal
        ({"a": 1.0}, {"a": 1.01}, "a"),  # beyond relative 1e-6
        ({"a": None}, {}, "a"),  # null is not missing
        ({}, {"a": None}, "a"),  # an extra key fails
        ({"a": "x"}, {"a": "x "}, "a"),  # strings exact
        ({"a": True}, {"a": 1}, "a"),  # a boolean is not a number
        ({"a": "1"}, {"a": 1}, "a"),  # nor is a string
        ({"a": [1, 2]}, {"a": [2, 1]}, "a[0]"),  # lists are ordered unless listed
        ({"a": [1, 2]}, {"a": [1, 2, 3]}, "a"),  # same length
        ({"a": {"b": [{"c": 1}]}}, {"a": {"b": [{"c": 1, "d": 2}]}}, "a.b[0].d"),
    ],
)
def test_differences_are_found_at_their_path(expected, actual, where):
    diff = diff_exact(expected, actual)
    assert diff is not None and diff.path == where, diff


def test_volatile_values_are_skipped_but_their_key_must_exist():
    volatile = parse_paths("jobs[*].out,Statistics.Period.From,groups_data.*.x")
    expected = {
        "jobs": [{"out": "/a", "n": 1}],
        "Statistics": {"Period": {"From": "2024"}},
        "groups_data": {"g1": {"x": 1, "c": "red"}},
    }
    actual = {
        "jobs": [{"out": {"anything": 1}, "n": 1}],
        "Statistics": {"Period": {"From": None}},
        "groups_data": {"g1": {"x": 99, "c": "red"}},
    }
    assert diff_exact(expected, actual, volatile) is None
    del actual["jobs"][0]["out"]
    assert diff_exact(expected, actual, volatile).path == "jobs[0].out"


def test_a_volatile_path_covers_everything_below_it():
    assert diff_exact({"a": {"b": 1, "c": 2}}, {"a": {"b": 3, "d": 4}}, parse_paths("a")) is None


def test_unordered_lists_are_multisets_with_inner_rules():
    unordered = parse_paths("tree[*].children,groups")
    volatile = parse_paths("tree[*].children[*].title")
    expected = {
        "groups": ["a", "b", "b"],
        "tree": [{"children": [{"k": 1, "title": "x"}, {"k": 2, "title": "y"}]}],
    }
    actual = {
        "groups": ["b", "a", "b"],
        "tree": [{"children": [{"k": 2, "title": "?"}, {"k": 1, "title": "?"}]}],
    }
    assert diff_exact(expected, actual, volatile, unordered) is None
    actual["groups"] = ["a", "a", "b"]
    diff = diff_exact(expected, actual, volatile, unordered)
    assert diff is not None and diff.path.startswith("groups[")


def test_unordered_list_with_an_extra_element_fails():
    diff = diff_exact({"g": ["a"]}, {"g": ["a", "b"]}, (), parse_paths("g"))
    assert diff is not None and diff.actual == "b"


def test_fixture_dir_substitution_reaches_nested_strings():
    doc = {"path": "{FIXTURE_DIR}/a003", "l": ["{FIXTURE_DIR}"]}
    assert substitute(doc, "{FIXTURE_DIR}", "/tmp/D") == {"path": "/tmp/D/a003", "l": ["/tmp/D"]}


def test_failure_message_names_the_path_and_both_values():
    text = str(diff_exact({"a": [{"b": "old"}]}, {"a": [{"b": "new"}]}))
    assert "a[0].b" in text and '"old"' in text and '"new"' in text


# --- defect_paths --------------------------------------------------------------------


def test_defect_paths_replace_the_selected_element_only():
    items = parse_defect_paths('experiment[name=aa6f].hpc="LOCAL",experiment[name=aa6f].version="4.1.17"')
    doc = {
        "experiment": [
            {"name": "a003", "hpc": "MN4"},
            {"name": "aa6f", "hpc": None, "version": "Unknown"},
        ]
    }
    fixed = apply_defect_paths(doc, items)
    assert fixed["experiment"][1] == {"name": "aa6f", "hpc": "LOCAL", "version": "4.1.17"}
    assert fixed["experiment"][0] == {"name": "a003", "hpc": "MN4"}
    assert doc["experiment"][1]["hpc"] is None


def test_defect_path_values_may_hold_commas():
    items = parse_defect_paths('a.b={"x": [1, 2]},c="p,q"')
    assert [value for _, value in items] == [{"x": [1, 2]}, "p,q"]


@pytest.mark.parametrize("names", [["a003"], ["aa6f", "aa6f"]])
def test_a_selector_must_select_exactly_one_element(names):
    doc = {"experiment": [{"name": n} for n in names]}
    with pytest.raises(ValueError):
        apply_defect_paths(doc, parse_defect_paths('experiment[name=aa6f].hpc="LOCAL"'))


# --- shape ---------------------------------------------------------------------------

TREE_SHAPE = {
    "maps": ["groups_data"],
    "opaque": ["reference"],
    "allowed": [
        "error",
        "groups_data",
        "groups_data.*",
        "groups_data.*.x",
        "reference",
        "tree",
        "tree[*].title",
        "tree[*].folder",
        "tree[*].children",
        "tree[*].children[*].title",
        "tree[*].children[*].children",
        "tree[*].children[*].folder",
    ],
    "required": [
        "error",
        "tree",
        "tree[*].title",
        "tree[*].children",
        "tree[*].children[*].title",
        "tree[*].children[*].children",
    ],
}


def _tree(depth):
    node = {"title": "leaf", "children": []}
    for _ in range(depth):
        node = {"title": "f", "folder": True, "children": [node]}
    return node


def test_shape_accepts_any_tree_depth_maps_and_opaque_objects():
    answer = {
        "error": False,
        "groups_data": {"any name": {"x": 1}, "other": {"x": 2}},
        "reference": {"free": {"form": 1}},
        "tree": [_tree(4)],
    }
    assert diff_shape(answer, TREE_SHAPE) is None
    keys, _ = key_paths(answer, TREE_SHAPE["maps"], TREE_SHAPE["opaque"])
    assert "tree[*].children[*].children" in keys and "reference" in keys
    assert not any(k.startswith("reference.") for k in keys)


def test_shape_rejects_a_key_the_reference_never_sends():
    answer = {"error": False, "groups_data": {}, "reference": {}, "tree": [], "pagination": {}}
    diff = diff_shape(answer, TREE_SHAPE)
    assert diff is not None and diff.path == "pagination"


def test_shape_rejects_an_object_without_a_required_key():
    answer = {"error": False, "groups_data": {}, "reference": {}, "tree": [{"children": []}]}
    diff = diff_shape(answer, TREE_SHAPE)
    assert diff is not None and diff.path == "tree[*].title" and diff.actual is MISSING


def test_shape_checks_required_keys_in_deep_children_too():
    answer = {
        "error": False,
        "tree": [{"title": "t", "children": [{"children": [{"title": "x"}], "title": "y"}]}],
    }
    diff = diff_shape(answer, TREE_SHAPE)
    assert diff is not None and diff.path == "tree[*].children[*].children"


def test_an_empty_list_constrains_nothing_below_it():
    assert diff_shape({"error": False, "tree": []}, TREE_SHAPE) is None


def test_an_empty_map_constrains_nothing_but_its_entries_are_checked():
    shape = dict(
        TREE_SHAPE,
        required=TREE_SHAPE["required"] + ["groups_data", "groups_data.*", "groups_data.*.x"],
    )
    answer = {"error": False, "tree": [], "groups_data": {}}
    assert diff_shape(answer, shape) is None
    answer["groups_data"] = {"g": {"x": 1}}
    assert diff_shape(answer, shape) is None
    answer["groups_data"] = {"g": {}}
    assert diff_shape(answer, shape).path == "groups_data.*.x"


# --- oracle --------------------------------------------------------------------------


def test_oracle_compares_only_shared_keys_and_normalizes_dates_and_rounding():
    oracle = {
        "start": "2024-01-12T15:39:06+00:00",
        "SYPD": 1.23456,
        "extra": 1,
        "when": "2024-01-12T15:39:06Z",
    }
    answer = {
        "start": "2024-01-12 15:39:06",
        "SYPD": 1.23,
        "ours": 2,
        "when": "2024-01-12 15:39:06",
    }
    assert diff_oracle(answer, oracle) is None


@pytest.mark.parametrize(
    "answer, oracle",
    [
        ({"v": 1.0}, {"v": 1.01}),  # beyond 0.005
        ({"rm_id": "21128294"}, {"rm_id": 21128294}),  # type mismatch
        ({"ok": False}, {"ok": None}),
        ({"s": "a"}, {"s": "b"}),
    ],
)
def test_oracle_value_differences_fail(answer, oracle):
    assert diff_oracle(answer, oracle) is not None


def test_oracle_pairs_objects_by_identity_in_any_order():
    oracle = {"jobs": [{"name": "a", "v": 1}, {"name": "b", "v": 2}]}
    answer = {"jobs": [{"name": "b", "v": 2}, {"name": "a", "v": 1, "more": 0}]}
    assert diff_oracle(answer, oracle) is None
    answer["jobs"][0]["v"] = 3
    assert diff_oracle(answer, oracle).path == "jobs[name=b].v"


def test_oracle_identities_must_be_the_same_set():
    oracle = {"jobs": [{"name": "a"}, {"name": "b"}]}
    diff = diff_oracle({"jobs": [{"name": "a"}, {"name": "c"}]}, oracle)
    assert diff is not None and "name" in diff.why


def test_oracle_identity_key_is_the_first_shared_and_distinct_one():
    # "id" repeats, so elements pair by "name".
    oracle = {"l": [{"id": 1, "name": "x", "v": 1}, {"id": 1, "name": "y", "v": 2}]}
    answer = {"l": [{"id": 1, "name": "y", "v": 2}, {"id": 1, "name": "x", "v": 1}]}
    assert diff_oracle(answer, oracle) is None


def test_oracle_lists_without_identity_are_multisets_of_shared_keys():
    oracle = {"l": [{"a": 1, "b": 9}, {"a": 2, "b": 9}]}
    answer = {"l": [{"a": 2}, {"a": 1}]}
    assert diff_oracle(answer, oracle) is None
    assert diff_oracle({"l": [{"a": 2}, {"a": 2}]}, oracle) is not None


def test_oracle_scalar_lists_are_multisets_of_canonical_values():
    assert diff_oracle({"l": [1.001, "2024-01-01 00:00:00"]}, {"l": ["2024-01-01T00:00:00", 1.0]}) is None
    assert diff_oracle({"l": [1, 1]}, {"l": [1, 2]}) is not None


def test_oracle_skip_paths_are_removed_from_both_sides():
    skip = parse_paths("nodes[*].x,graphviz")
    oracle = {"nodes": [{"id": "a", "x": 1}], "graphviz": True}
    answer = {"nodes": [{"id": "a", "x": 500}], "graphviz": False}
    assert diff_oracle(answer, oracle, skip) is None
    assert diff_oracle(answer, oracle) is not None


# --- requests of the rows ------------------------------------------------------------


def test_request_extra_items_and_a_json_body_with_spaces():
    from tests.compat.golden import parse_extra

    extra = parse_extra('auth=valid referer=http://x/ json={"expid": "a003", "description": "a b"}')
    assert extra == {
        "auth": "valid",
        "referer": "http://x/",
        "json": '{"expid": "a003", "description": "a b"}',
    }
    assert parse_extra("location=login?service=http%3A%2F%2F{HOST}") == {
        "location": "login?service=http%3A%2F%2F{HOST}"
    }


def test_minted_tokens_carry_the_capture_claims():
    import time

    import jwt

    from tests.compat.golden import REFERENCE_SECRET, mint_tokens

    now = int(time.time()) - 60
    tokens = mint_tokens(now)
    valid = jwt.decode(tokens["valid"], REFERENCE_SECRET, algorithms=["HS256"])
    assert valid["user_id"] == valid["sub"] == "golden_user"
    assert valid["exp"] - valid["iat"] >= 10 * 365 * 24 * 3600
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(tokens["expired"], REFERENCE_SECRET, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens["wrongkey"], REFERENCE_SECRET, algorithms=["HS256"])
    nouser = jwt.decode(tokens["nouser"], REFERENCE_SECRET, algorithms=["HS256"])
    assert "user_id" not in nouser and "sub" not in nouser


def test_pruning_pending_drops_passing_rows_and_emptied_route_comments():
    from tests.compat.report import prune_source

    text = (
        "PENDING = frozenset(\n    {\n"
        '        # /v3/a: not served yet\n        "a1.json",\n'
        "        # /v3/b: served, but\n        # a second comment line\n"
        '        "b1.json",\n        "b2.json",\n'
        "    }\n)\n"
    )
    pruned = prune_source(text, ["a1.json", "b1.json"])
    assert "/v3/a" not in pruned and "a1.json" not in pruned and "b1.json" not in pruned
    assert '# /v3/b: served, but\n        # a second comment line\n        "b2.json",' in pruned
    assert "second comment" not in prune_source(text, ["a1.json", "b1.json", "b2.json"])


def test_lists_below_an_unordered_path_are_unordered_too():
    unordered = parse_paths("tree[*].children")
    expected = {"tree": [{"children": [{"children": [1, 2]}]}], "other": [1, 2]}
    actual = {"tree": [{"children": [{"children": [2, 1]}]}], "other": [1, 2]}
    assert diff_exact(expected, actual, (), unordered) is None
    actual["other"] = [2, 1]
    assert diff_exact(expected, actual, (), unordered).path == "other[0]"


# --- keys 4.2.0 added (docs/decisions.md Q46) ----------------------------------------------


def test_generic_paths_write_indices_and_map_keys_as_stars():
    from tests.compat.compare import generic_path, generic_paths

    assert generic_path(("jobs", 3, "split")) == "jobs[*].split"
    value = {"jobs": [{"a": 1}, {"b": [{"c": 2}]}], "groups_data": {"x_1": {"color": "r"}}}
    assert generic_paths(value, ("groups_data",)) == {
        "jobs",
        "jobs[*].a",
        "jobs[*].b",
        "jobs[*].b[*].c",
        "groups_data",
        "groups_data.*",
        "groups_data.*.color",
    }


def test_exact_allows_only_the_added_keys_it_is_given():
    expected = {"jobs": [{"name": "a"}]}
    actual = {"jobs": [{"name": "a", "split": 1}]}
    assert diff_exact(expected, actual).why == "unexpected key"
    assert diff_exact(expected, actual, added={"jobs[*].split"}) is None
    assert diff_exact(expected, actual, added={"split"}).path == "jobs[0].split"
    # An allowed key does not excuse a changed 4.0.1 value.
    assert diff_exact(expected, {"jobs": [{"name": "b", "split": 1}]}, added={"jobs[*].split"})


def test_shape_allows_the_added_keys():
    shape = {"allowed": ["jobs", "jobs[*].name"], "required": ["jobs"]}
    answer = {"jobs": [{"name": "a", "split": None}]}
    assert diff_shape(answer, shape).path == "jobs[*].split"
    assert diff_shape(answer, shape, {"jobs[*].split"}) is None


def test_added_keys_must_be_present_with_4_2_values_and_old_keys_only_present():
    from tests.compat.compare import diff_added

    v42 = {"total": 2, "jobs": [{"id": "a", "minutes": 5, "split": 1}, {"id": "b", "minutes": 7, "split": None}]}
    old = {"total", "jobs", "jobs[*].id", "jobs[*].minutes"}
    ours = {"total": 3, "jobs": [{"id": "b", "minutes": 9, "split": None}, {"id": "a", "minutes": 1, "split": 1}]}
    # 4.0.1's keys (total, minutes) keep our values; the list pairs by id, not position.
    assert diff_added(ours, v42, old) is None
    wrong = {"total": 3, "jobs": [{"id": "a", "minutes": 5, "split": 2}, {"id": "b", "minutes": 7, "split": None}]}
    diff = diff_added(wrong, v42, old)
    assert diff.path == "jobs[id=a].split" and (diff.expected, diff.actual) == (1, 2)
    missing = {"total": 2, "jobs": [{"id": "a", "minutes": 5}, {"id": "b", "minutes": 7}]}
    assert diff_added(missing, v42, old).why == "key 4.2.0 sends is missing"
    # A volatile path of 4.2.0's answer only needs to exist.
    assert diff_added(wrong, v42, old, parse_paths("jobs[*].split")) is None


def test_take_values_pairs_list_elements_by_name():
    from tests.compat.compare import take_values

    document = {"rows": [{"name": "a", "n": 1, "k": "x"}, {"name": "b", "n": 2, "k": "y"}], "s": 3}
    source = {"rows": [{"name": "b", "n": 20, "k": "Y"}, {"name": "a", "n": 10, "k": "X"}], "s": 30}
    taken = take_values(document, source, parse_paths("rows[*].n,s"))
    assert taken == {"rows": [{"name": "a", "n": 10, "k": "x"}, {"name": "b", "n": 20, "k": "y"}], "s": 30}
