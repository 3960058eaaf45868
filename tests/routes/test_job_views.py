"""Job status views over experiments the factory writes in every pickle format.

The default factory workflow (factory.workflow.standard_jobs) has 8 jobs in pickle order:
LOCAL_SETUP, REMOTE_SETUP, INI, 1_SIM (COMPLETED), 1_POST (RUNNING), 2_SIM (QUEUING),
2_POST (READY), CLEAN (WAITING); SIM 2 depends on SIM 1, POST n on SIM n.
"""

from __future__ import annotations

import os

import pytest

from tests.factory import set_statuses

FORMATS = ("F1", "F2", "F3", "F4")
E = "a000"


def n(suffix: str) -> str:
    return f"{E}_{suffix}"


@pytest.fixture(params=FORMATS)
def experiment(request, make_experiment):
    return make_experiment(E, pkl_format=request.param)


def get(client, path, status=200):
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.status_code, answer.get_data(as_text=True)[:500])
    return answer.get_json()


def test_quick_counts_jobs_by_status_and_lists_busy_jobs_first(client, experiment):
    body = get(client, f"/v3/quick/{E}")
    assert body["error"] is False
    assert (body["total"], body["completed"], body["running"], body["queuing"], body["failed"]) == (8, 4, 1, 1, 0)
    names = [item["refKey"] for item in body["tree_view"]]
    # QUEUING and RUNNING first in reverse pkl order, then the rest in pkl order.
    assert names[:2] == [n("20000101_fc0_2_SIM"), n("20000101_fc0_1_POST")]
    assert names[2:] == [
        n("LOCAL_SETUP"),
        n("REMOTE_SETUP"),
        n("20000101_fc0_INI"),
        n("20000101_fc0_1_SIM"),
        n("20000101_fc0_2_POST"),
        n("20000101_fc0_CLEAN"),
    ]
    first = body["tree_view"][0]
    assert first["status"] == "QUEUING"
    assert (
        first["title"] == f"{first['refKey']} <span class='badge' style='background-color: lightpink'>#QUEUING</span>"
    )
    assert [v["name"] for v in body["view_data"]][0] == n("LOCAL_SETUP")
    assert body["view_data"][0]["path_log"].endswith(f"/{E}/tmp/LOG_{E}")


def test_expcount_has_all_thirteen_counters(client, experiment):
    body = get(client, f"/expcount/{E}")
    assert body["total"] == 8 and body["expid"] == E
    assert len(body["counters"]) == 13
    assert body["counters"]["COMPLETED"] == 4 and body["counters"]["WAITING"] == 1
    assert body["counters"]["DELAYED"] == 0


def test_v4_jobs_base_and_quick_views(client, experiment):
    base = get(client, f"/v4/experiments/{E}/jobs")["jobs"]
    quick = get(client, f"/v4/experiments/{E}/jobs?view=quick")["jobs"]
    assert [j["name"] for j in base] == [j["name"] for j in quick]
    assert set(quick[0]) == {"name", "status"}
    sim = next(j for j in base if j["name"] == n("20000101_fc0_1_SIM"))
    assert sim["date"] == "2000-01-01" and sim["member"] == "fc0" and sim["chunk"] == 1
    assert sim["section"] == "SIM" and sim["status"] == "COMPLETED"
    assert base[0]["status"] == "QUEUING"


def test_tree_groups_jobs_by_date_member_and_section(client, experiment):
    body = get(client, f"/v3/tree/{E}")
    assert body["error"] is False and body["total"] == 8
    date_folder, keys = body["tree"]
    assert date_folder["title"] == date_folder["refKey"] == f"{E}_20000101"
    member = date_folder["children"][0]
    assert member["refKey"] == f"{E}_20000101_fc0"
    assert "2 / 6 COMPLETED" in member["title"] and "1 RUNNING" in member["title"] and "1 QUEUING" in member["title"]
    sections = {c["refKey"]: c for c in member["children"] if c.get("folder")}
    assert set(sections) == {f"{E}_20000101_fc0_SIM", f"{E}_20000101_fc0_POST"}
    # The QUEUING SIM is moved to the front and opens its folder.
    sim_folder = sections[f"{E}_20000101_fc0_SIM"]
    assert [c["refKey"] for c in sim_folder["children"]] == [n("20000101_fc0_2_SIM"), n("20000101_fc0_1_SIM")]
    assert sim_folder["expanded"] is True
    assert keys["refKey"] == "Keys"
    assert [c["refKey"] for c in keys["children"]] == [n("LOCAL_SETUP"), n("REMOTE_SETUP")]
    assert body["reference"][f"{E}_20000101_fc0"] == {
        "completed": 2,
        "running": 1,
        "queuing": 1,
        "failed": 0,
        "held": 0,
        "total": 6,
    }
    jobs = {j["label"]: j for j in body["jobs"]}
    sim2 = jobs[n("20000101_fc0_2_SIM")]
    assert sim2["parent_list"] == [n("20000101_fc0_1_SIM"), n("20000101_fc0_INI")]
    assert sim2["tree_parents"] == [f"{E}_20000101_fc0"]
    assert (sim2["date"], sim2["date_plus"]) == ("2000 02 01", "2000 03 01")  # chunk 2 of 1 month
    assert jobs[n("LOCAL_SETUP")]["title"].endswith("SOURCE</span>")
    assert "TARGET" in jobs[n("20000101_fc0_CLEAN")]["title"]


def test_graph_has_one_node_per_job_and_the_structure_edges(client, experiment):
    body = get(client, f"/v3/graph/{E}/standard/none")
    assert body["error"] is False and body["total_jobs"] == 8
    nodes = {node["id"]: node for node in body["nodes"]}
    assert len(nodes) == 8
    edges = {(e["from"], e["to"]) for e in body["edges"]}
    expected = {
        (n("LOCAL_SETUP"), n("REMOTE_SETUP")),
        (n("REMOTE_SETUP"), n("20000101_fc0_INI")),
        (n("20000101_fc0_INI"), n("20000101_fc0_1_SIM")),
        (n("20000101_fc0_1_SIM"), n("20000101_fc0_1_POST")),
        (n("20000101_fc0_1_SIM"), n("20000101_fc0_2_SIM")),
        (n("20000101_fc0_INI"), n("20000101_fc0_2_SIM")),
        (n("20000101_fc0_2_SIM"), n("20000101_fc0_2_POST")),
        (n("20000101_fc0_2_POST"), n("20000101_fc0_CLEAN")),
    }
    assert edges == expected
    assert nodes[n("LOCAL_SETUP")]["level"] == 1
    # Depth-first levels: SIM 2 is first reached from INI (a reference quirk, B.6).
    assert nodes[n("20000101_fc0_2_SIM")]["level"] == 4
    assert nodes[n("20000101_fc0_CLEAN")]["level"] == 6
    # Layered layout: a child is drawn below its parent.
    assert nodes[n("20000101_fc0_CLEAN")]["y"] > nodes[n("20000101_fc0_2_SIM")]["y"]
    assert body["graphviz"] is False and body["pkl_timestamp"] == 10000000
    assert all(isinstance(node["x"], int) for node in body["nodes"])


@pytest.mark.parametrize("grouped", ["none", "status", "date-member"])
def test_graph_groupings_and_laplacian_layout(client, make_experiment, grouped):
    make_experiment(E)
    body = get(client, f"/v3/graph/{E}/laplacian/{grouped}")
    assert body["error"] is False and len(body["nodes"]) == 8
    if grouped == "status":
        assert body["groups"] == ["WAITING", "COMPLETED", "SUSPENDED"]
    elif grouped == "date-member":
        assert body["groups"] == [f"{E}_20000101_fc0_"]
        # A RUNNING job in the group gives it the RUNNING colour.
        assert body["groups_data"][f"{E}_20000101_fc0_"]["color"] == "green"
    else:
        assert body["groups"] == [] and body["groups_data"] == {}


def test_graph_uses_a_saved_layout_that_covers_every_job(client, make_experiment, site):
    from tests.factory.packages import write_graph_layout

    exp = make_experiment(E)
    positions = {job.name: (10 * i, -20 * i) for i, job in enumerate(exp.jobs)}
    write_graph_layout(site.graph_dir / f"graph_data_{E}.db", positions)
    body = get(client, f"/v3/graph/{E}/standard/none")
    assert body["graphviz"] is True
    assert {(node["id"], node["x"], node["y"]) for node in body["nodes"]} == {
        (name, x, y) for name, (x, y) in positions.items()
    }


def test_graph_get_never_creates_files(client, make_experiment, site):
    make_experiment(E)
    before = sorted(os.listdir(site.graph_dir)), sorted(os.listdir(site.root))
    get(client, f"/v3/graph/{E}/standard/none")
    assert (sorted(os.listdir(site.graph_dir)), sorted(os.listdir(site.root))) == before


def test_wrapper_packages_show_in_every_view(client, make_experiment):
    package = f"{E}_ASThread_17128472368642_1_2"
    make_experiment(E, packages={package: [n("20000101_fc0_1_SIM"), n("20000101_fc0_2_SIM")]})
    assert get(client, f"/v4/experiments/{E}/wrappers") == {
        "wrappers": [{"wrapper_name": package, "job_names": [n("20000101_fc0_1_SIM"), n("20000101_fc0_2_SIM")]}]
    }
    quick = get(client, f"/v3/quick/{E}")
    titles = {item["refKey"]: item["title"] for item in quick["tree_view"]}
    assert titles[n("20000101_fc0_1_SIM")].endswith("Wrapped 17128472368642</span>")
    tree = get(client, f"/v3/tree/{E}")
    wrappers = tree["tree"][-1]
    assert wrappers["refKey"] == f"Wrappers_{E}"
    folder = wrappers["children"][0]
    assert folder["refKey"] == f"Wrapper: {package}"
    assert folder["data"]["total"] == 2 and folder["data"]["completed"] == 1
    assert tree["reference"]["packages"] == [package]
    sim = next(j for j in tree["jobs"] if j["label"] == n("20000101_fc0_1_SIM"))
    assert sim["wrapper"] == package and sim["wrapper_code"] == "17128472368642"
    graph = get(client, f"/v3/graph/{E}/standard/none")
    assert graph["packages"] == {package: [n("20000101_fc0_1_SIM"), n("20000101_fc0_2_SIM")]}
    edge = next(
        e for e in graph["edges"] if e["from"] == n("20000101_fc0_1_SIM") and e["to"] == n("20000101_fc0_2_SIM")
    )
    assert edge["is_wrapper"] is True
    node = next(x for x in graph["nodes"] if x["id"] == n("20000101_fc0_2_SIM"))
    assert node["dashed"] is True and node["shape"] == "hexagon"


def test_views_follow_a_rewritten_pickle(client, make_experiment):
    exp = make_experiment(E)
    assert get(client, f"/v3/quick/{E}")["failed"] == 0
    tree_before = get(client, f"/v3/tree/{E}")
    set_statuses(exp, {n("20000101_fc0_2_SIM"): -1, n("20000101_fc0_1_POST"): 5})
    quick = get(client, f"/v3/quick/{E}")
    assert (quick["failed"], quick["running"], quick["completed"]) == (1, 0, 5)
    tree = get(client, f"/v3/tree/{E}")
    assert tree_before["reference"][f"{E}_20000101_fc0"]["failed"] == 0
    assert tree["reference"][f"{E}_20000101_fc0"]["failed"] == 1
    info = get(client, f"/v3/pklinfo/{E}/0")
    statuses = {item["name"]: item["status"] for item in info["pkl_content"]}
    assert statuses[n("20000101_fc0_2_SIM")] == "FAILED"
    assert get(client, f"/v4/experiments/{E}/jobs")["jobs"][0]["status"] == "FAILED"
    assert get(client, f"/v3/expcount/{E}")["counters"]["FAILED"] == 1


def test_pkl_info_has_every_job_and_the_tree_tags(client, experiment):
    graph = get(client, f"/v3/graph/{E}/standard/none")
    info = get(client, f"/v3/pklinfo/{E}/0")
    assert {item["name"] for item in info["pkl_content"]} == {node["id"] for node in graph["nodes"]}
    assert info["has_changed"] is True and info["pkl_file_name"].endswith(f"job_list_{E}.pkl")
    tree_info = get(client, f"/v3/pkltreeinfo/{E}/1700000000")
    assert tree_info["source_tag"].endswith("SOURCE</span>")
    item = next(i for i in tree_info["pkl_content"] if i["name"] == n("20000101_fc0_1_SIM"))
    assert item["status"] == "COMPLETED" and item["title"].startswith(n("20000101_fc0_1_SIM") + " <span")
    assert set(item) >= {"wrapper", "wrapper_tag", "wrapper_id", "running_text", "minutes_queue"}


def test_summary_counts_statuses_of_the_times(client, experiment):
    body = get(client, f"/v3/summary/{E}")
    assert body["error"] is False
    assert body["n_sim"] == 2 and body["n_failed"] == 0
    assert body["failed_jobs"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/v3/quick/zzzz",
        "/v3/tree/zzzz",
        "/v3/graph/zzzz/standard/none",
        "/v3/pklinfo/zzzz/0",
        "/v3/pkltreeinfo/zzzz/0",
        "/v3/summary/zzzz",
        "/v3/expcount/zzzz",
        "/v3/expinfo/zzzz",
        "/quick/zzzz",
    ],
)
def test_unknown_experiment_is_a_legacy_error_body_on_v3(client, path):
    body = get(client, path)
    assert body["error"] is True and body["error_message"]
    assert "/" not in body["error_message"].replace("/ ", "")  # no server path in the message


@pytest.mark.parametrize("path", ["/v4/experiments/zzzz/jobs", "/v4/experiments/zzzz/wrappers"])
def test_unknown_experiment_is_404_on_v4(client, path):
    assert get(client, path, 404)["error"] is True


def test_bad_layout_grouping_and_timestamp_are_error_bodies(client, make_experiment):
    make_experiment(E)
    assert (
        get(client, f"/v3/graph/{E}/bogus/none")["error_message"]
        == "You have requested a bogus layout, which is not implemented."
    )
    assert (
        get(client, f"/v3/graph/{E}/standard/bogus")["error_message"]
        == "You have provided an invalid grouping selection: bogus"
    )
    body = get(client, f"/v3/pklinfo/{E}/abc")
    assert body["error"] is True and body["pkl_content"] == []


def test_corrupt_pickle_is_a_clear_error(client, make_experiment):
    exp = make_experiment(E)
    exp.pkl_path.write_bytes(b"this is not a pickle")
    body = get(client, f"/v3/quick/{E}")
    assert body["error"] is True and "pkl" in body["error_message"]
    answer = client.get(f"/v4/experiments/{E}/jobs")
    assert answer.status_code in (404, 422) and answer.get_json()["error"] is True
    tree = get(client, f"/v3/tree/{E}")
    assert tree["error"] is True and tree["reference"] == []


def test_ifrun_follows_the_experiment_status(client, make_experiment):
    make_experiment(E, status="RUNNING")
    assert get(client, f"/v3/ifrun/{E}") == {"running": True, "error": False, "error_message": ""}
    assert get(client, "/v3/ifrun/zzzz")["running"] is False


def test_expinfo_reads_the_card(client, make_experiment):
    make_experiment(E, description="my test")
    body = get(client, f"/v3/expinfo/{E}")
    assert body["error"] is False
    assert body["description"] == "my test" and body["expid"] == E
    assert isinstance(body["pkl_timestamp"], int) and body["pkl_timestamp"] > 0


def test_a_precomputed_standard_layout_is_served_as_saved(client, make_experiment, settings):
    from autosubmit_api.readers.graph_layout import write_layout
    from autosubmit_api.services.layout import compute_standard_layout

    exp = make_experiment(E)
    positions = compute_standard_layout(settings, E)
    assert set(positions) == {job.name for job in exp.jobs}
    computed = get(client, f"/v3/graph/{E}/standard/none")
    assert computed["graphviz"] is False
    write_layout(settings, E, positions)
    saved = get(client, f"/v3/graph/{E}/standard/none")
    assert saved["graphviz"] is True
    assert {n["id"]: (n["x"], n["y"]) for n in saved["nodes"]} == {n["id"]: (n["x"], n["y"]) for n in computed["nodes"]}


@pytest.mark.parametrize(
    "path",
    [
        "/v3/quick/{e}",
        "/v3/tree/{e}",
        "/v3/graph/{e}/standard/none",
        "/v3/graph/{e}/laplacian/date-member",
        "/v3/pklinfo/{e}/0",
        "/v3/pkltreeinfo/{e}/0",
        "/v3/summary/{e}",
        "/v3/expinfo/{e}",
    ],
)
def test_views_answer_without_history_structure_or_jobs(client, make_experiment, path):
    make_experiment(E, job_data_version=0, structure=False)
    make_experiment("a001", jobs=[], job_data_version=0, structure=False)
    for expid in (E, "a001"):
        body = get(client, path.format(e=expid))
        assert body["error"] is False, (expid, body.get("error_message"))
