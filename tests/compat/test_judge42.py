"""The judge of the 4.2.0 captures (tests/compat/judge42.py) on small hand-made answers.

These need no shared directory: they pin down each rule of docs/compatibility.md ("The
4.2.0 captures") so that a change to the judge that
lets a wrong answer through fails here.
"""

from __future__ import annotations

import pytest

from tests.compat import compare
from tests.compat.golden42 import route_key
from tests.compat.judge42 import Expected, KeySet, Ours, judge

TREE_401 = KeySet({"jobs", "jobs[*].id", "jobs[*].start", "jobs[*].SYPD", "jobs[*].children", "jobs[*].children[*].id"})


def data_row(body, **kwargs) -> Expected:
    kwargs.setdefault("path", "/v3/tree/a9m1")
    kwargs.setdefault("had_401", TREE_401)
    return Expected(status=200, body=body, **kwargs)


JOB = {
    "id": "a9m1_SIM",
    "start": "2026-12-06T02:55:18+00:00",
    "SYPD": 1.23456,
    "split": -1,
    "splits": -1,
    "workflow_commit": "",
    "children": [],
}


def test_our_same_data_passes():
    assert judge(data_row({"jobs": [JOB]}), Ours(200, {"jobs": [dict(JOB)]})) is None


def test_a_missing_key_of_4_2_0_fails():
    ours = {"jobs": [{k: v for k, v in JOB.items() if k != "splits"}]}
    problem = judge(data_row({"jobs": [JOB]}), Ours(200, ours))
    assert problem is not None and "jobs[id=a9m1_SIM].splits" in problem
    assert "key 4.2.0 sends is missing" in problem


def test_more_keys_than_4_2_0_pass():
    ours = {"jobs": [dict(JOB, extra=1)], "more": True}
    assert judge(data_row({"jobs": [JOB]}), Ours(200, ours)) is None


def test_a_500_where_4_2_0_had_data_fails():
    problem = judge(data_row({"jobs": [JOB]}), Ours(500, {"error": True, "error_message": "boom"}))
    assert problem is not None and problem.startswith("server error")


def test_an_error_body_where_4_2_0_had_data_fails():
    problem = judge(data_row({"jobs": []}), Ours(200, {"error": True, "error_message": "no pkl"}))
    assert problem is not None and "no pkl" in problem


def test_our_clean_404_passes_where_4_2_0_said_200_empty_for_an_unknown_job():
    expected = data_row({"parents": []}, path="/v4/experiments/a9m1/jobs/a9m1_NOPE/parents", not_found_ok=True)
    clean = Ours(404, {"error": True, "error_message": "Job a9m1_NOPE not found"})
    assert judge(expected, clean) is None
    # ... but only a clean error body, and only on rows about something unknown
    assert judge(expected, Ours(404, {"detail": "Not Found"})) is not None
    assert judge(data_row({"parents": []}), clean) is not None


def test_timestamps_are_normalised_on_keys_4_0_1_had():
    ours = {"jobs": [dict(JOB, start="2026-12-06 02:55:18")]}
    assert judge(data_row({"jobs": [JOB]}), Ours(200, ours)) is None
    ours = {"jobs": [dict(JOB, start="2026-12-06 02:55:19")]}
    assert "string differs" in judge(data_row({"jobs": [JOB]}), Ours(200, ours))


def test_keys_4_0_1_never_had_take_4_2_0_values_exactly():
    reference = {"jobs": [dict(JOB, workflow_commit="2026-12-06T02:55:18+00:00")]}
    ours = {"jobs": [dict(JOB, workflow_commit="2026-12-06 02:55:18")]}
    problem = judge(data_row(reference), Ours(200, ours))
    assert problem is not None and "4.0.1 never had" in problem
    ours = {"jobs": [dict(JOB, split=None)]}
    assert "null instead of 4.2.0's number" in judge(data_row({"jobs": [JOB]}), Ours(200, ours))


def test_numbers_have_a_small_tolerance_on_keys_4_0_1_had():
    assert judge(data_row({"jobs": [JOB]}), Ours(200, {"jobs": [dict(JOB, SYPD=1.23)]})) is None
    problem = judge(data_row({"jobs": [JOB]}), Ours(200, {"jobs": [dict(JOB, SYPD=1.25)]}))
    assert problem is not None and "number differs" in problem
    # a new key is compared tightly: -1 is not -1.004
    problem = judge(data_row({"jobs": [JOB]}), Ours(200, {"jobs": [dict(JOB, split=-1.004)]}))
    assert problem is not None and "split" in problem


def test_volatile_error_message_and_pkl_file_name_are_skipped_but_required():
    reference = {"pkl_timestamp": 1, "error_message": "", "pkl_content": [{"pkl_file_name": "x"}]}
    row = data_row(reference, volatile=compare.parse_paths("pkl_timestamp"))
    ours = {"pkl_timestamp": 2, "error_message": "ok", "pkl_content": [{"pkl_file_name": ""}]}
    assert judge(row, Ours(200, ours)) is None
    problem = judge(row, Ours(200, {"error_message": "", "pkl_content": [{"pkl_file_name": ""}]}))
    assert problem is not None and "pkl_timestamp" in problem


def test_whole_body_volatile_needs_data_only():
    row = data_row({"Statistics": {"x": 1}}, whole_body_volatile=True)
    assert judge(row, Ours(200, {"anything": []})) is None
    assert judge(row, Ours(200, {"error": True, "error_message": "m"})) is not None


def test_lists_of_objects_match_by_identity_in_any_order():
    reference = {"jobs": [dict(JOB, id="a"), dict(JOB, id="b")]}
    swapped = {"jobs": [dict(JOB, id="b"), dict(JOB, id="a")]}
    assert judge(data_row(reference), Ours(200, swapped)) is None
    problem = judge(data_row(reference), Ours(200, {"jobs": [dict(JOB, id="a")]}))
    assert problem is not None and "different sets of id" in problem


def test_unordered_lists_are_multisets_and_others_keep_their_order():
    reference = {"edges": ["a", "b", "b"]}
    row = data_row(reference, unordered=compare.parse_paths("edges"))
    assert judge(row, Ours(200, {"edges": ["b", "a", "b"]})) is None
    assert judge(row, Ours(200, {"edges": ["b", "a", "a"]})) is not None
    assert judge(data_row(reference), Ours(200, {"edges": ["b", "a", "b"]})) is not None


def test_where_4_2_0_failed_data_or_a_clean_error_passes_never_a_500():
    failed = Expected(path="/v4/experiments/a9m4/jobs", status=500, body={"error": True})
    assert judge(failed, Ours(200, {"jobs": []})) is None
    assert judge(failed, Ours(404, {"error": True, "error_message": "no job list"})) is None
    assert judge(failed, Ours(503, {"error": True, "error_message": "locked"})) is None
    assert judge(failed, Ours(500, {"error": True, "error_message": "x"})) is not None
    assert judge(failed, Ours(404, {"detail": "Not Found"})) is not None
    v3_error = Expected(path="/v3/tree/a9m4", status=200, body={"error": True, "error_message": "x"})
    assert judge(v3_error, Ours(200, {"error": True, "error_message": "no job list"})) is None


def test_where_the_data_exists_an_error_does_not_pass():
    wrappers = Expected(path="/v4/experiments/a9m1/wrappers", status=500, body={"error": True}, require_data=True)
    assert judge(wrappers, Ours(200, {"wrappers": []})) is None
    assert judge(wrappers, Ours(404, {"error": True, "error_message": "none"})) is not None


def test_status_class_of_4_2_0_errors_is_kept():
    unknown_job = Expected(path="/v4/experiments/a9m1/jobs/a9m1_NOPE", status=404, body={"error": True})
    assert judge(unknown_job, Ours(404, {"error": True, "error_message": "unknown"})) is None
    assert judge(unknown_job, Ours(200, {"name": "a9m1_NOPE"})) is not None
    bad_section = Expected(path="/v4/experiments/a9m1/eta?section=Nope", status=400, body={"error": True})
    clean = Ours(400, {"error": True, "error_message": "no such section"})
    assert judge(bad_section, clean) is None


def test_fastapi_422_is_4_0_1_error_on_v3_and_400_or_422_on_v4():
    v3 = Expected(path="/v3/graph/a9m1/bogus/none", status=422, body={"error": True})
    assert judge(v3, Ours(200, {"error": True, "error_message": "bad layout"})) is None
    assert judge(v3, Ours(200, {"nodes": []})) is not None
    v4 = Expected(path="/v4/experiments/a9m1/jobs?view=bogus", status=422, body={"error": True})
    assert judge(v4, Ours(400, {"error": True, "error_message": "bad view"})) is None
    assert judge(v4, Ours(404, {"error": True, "error_message": "no job list"})) is None
    assert judge(v4, Ours(200, {"error": True, "error_message": "bad view"})) is not None
    assert judge(v4, Ours(200, {"jobs": []})) is not None
    assert judge(v4, Ours(503, {"error": True, "error_message": "locked"})) is not None


def test_data_where_4_0_1_answered_data_passes_a_departure():
    v4 = Expected(path="/v4/experiments/a9m1/jobs?view=bogus", status=422, body={"error": True}, data_ok=True)
    assert judge(v4, Ours(200, {"jobs": []})) is None
    assert judge(v4, Ours(400, {"error": True, "error_message": "bad view"})) is None
    assert judge(v4, Ours(500, {"error": True, "error_message": "x"})) is not None


def test_redirects_compare_status_class_and_target_path():
    redirect = Expected(path="/v3/filestatus/", status=307, location="http://127.0.0.1:8070/v3/filestatus")
    assert judge(redirect, Ours(308, location="/v3/filestatus")) is None
    assert judge(redirect, Ours(308, location="/v3/filestatus/")) is not None
    assert judge(redirect, Ours(200, {"status": "OFFLINE"})) is not None


def test_keys_4_0_1_had_come_from_its_answers_maps_and_opaque_trees():
    keys = KeySet({"groups_data.*.x", "nodes[*].id"}, opaque={"configuration_filesystem"})
    assert keys("nodes[*].id") and not keys("nodes[*].split")
    assert keys("groups_data.a9m1_2000.x")
    assert keys("configuration_filesystem.DEFAULT.EXPID")


@pytest.mark.parametrize(
    "path,route",
    [
        ("/v3/graph/a9m1/standard/none", "/v3/graph"),
        ("/graph/a3tb/standard/none", "/v3/graph"),
        ("/v4/experiments", "/v4/experiments"),
        ("/v4/experiments/a9m1", "/v4/experiments/<e>"),
        ("/v4/experiments/a9m1/jobs?view=quick", "/v4/experiments/<e>/jobs?view=quick"),
        ("/v4/experiments/a9m1/jobs/a9m1_SIM/parents?include_status=true", "/v4/experiments/<e>/jobs/<j>/parents"),
        ("/v4/experiments/a9m1/runs/2/config", "/v4/experiments/<e>/runs/<r>/config"),
    ],
)
def test_route_key(path, route):
    assert route_key(path) == route
