"""Job-view building blocks on models built in the test (no files): times, formats, titles,
the tree and graph builders, layouts and the pre-rendered bodies."""

from __future__ import annotations

import json
from datetime import datetime

from autosubmit_api.models import ExperimentConfig, Job, Packages, PlatformConfig, SectionConfig
from autosubmit_api.services import graph, layout, summary, tree
from autosubmit_api.job_status import status_name
from autosubmit_api.services.jobs.chunk_dates import chunk_range
from autosubmit_api.services.jobs.table import build_table
from autosubmit_api.services.jobs.times import LastRow, raw_times, running_text, wrapper_corrections
from autosubmit_api.services.rendered import Live, render

NOW = 1_700_000_000
CONF = ExperimentConfig(
    expid="t000",
    layout="AS4",
    raw={},
    autosubmit_version="4.1.11",
    hpcarch="HPC",
    chunk_unit="month",
    chunk_size=1,
    sections={
        "SIM": SectionConfig(name="SIM", processors="48", queue="", wallclock="02:00"),
        "POST": SectionConfig(name="POST", platform="LOCAL"),
    },
    platforms={"HPC": PlatformConfig(name="HPC", queue="bsc_es", serial_queue="debug", max_wallclock="48:00")},
)


def job(name, status, section="SIM", date=None, member=None, chunk=None):
    return Job(name=name, status=status, section=section, date=date, member=member, chunk=chunk)


def table_of(jobs, children=None, packages=Packages(), rows=None, stats=None, runs=None, conf=CONF):
    return build_table(
        expid="t000",
        exp_dir="/x/t000",
        pkl_path="/x/t000/pkl/job_list_t000.pkl",
        pkl_mtime=123,
        log_dir="/x/t000/tmp/LOG_t000",
        jobs=jobs,
        children=children or {},
        has_structure=bool(children),
        packages=packages,
        conf=conf,
        rows=rows or {},
        runs=runs or {},
        stats=stats or {},
        outs={},
        errs={},
        now=NOW,
    )


def test_unknown_status_code_is_unknown():
    assert status_name(42) == "UNKNOWN" and status_name(-1) == "FAILED" and status_name(9) == "DELAYED"


def test_delayed_has_upstream_4_2_colour():
    from autosubmit_api.services.jobs.status_display import status_color

    assert status_color("DELAYED") == "lightcyan" and status_color("NOPE") == "white"


def test_times_of_a_completed_job_come_from_its_matching_history_row():
    row = LastRow(status="COMPLETED", submit=100, start=130, finish=190, energy=1.234, run_id=3)
    t, live = raw_times("j", 5, row, (), NOW)
    assert (t.queue, t.run, t.submit, t.finish, t.energy, t.run_id, live) == (30, 60, 100, 190, 1.23, 3, False)


def test_a_completed_job_without_a_matching_row_has_no_times():
    t, live = raw_times("j", 5, LastRow(status="FAILED", submit=1, start=2, finish=3), (), NOW)
    assert (t.queue, t.run, t.submit, live) == (0, 0, 0, False)


def test_a_running_job_falls_back_to_total_stats_and_runs_until_now():
    start = datetime.fromtimestamp(NOW - 600).strftime("%Y%m%d%H%M%S")
    submit = datetime.fromtimestamp(NOW - 660).strftime("%Y%m%d%H%M%S")
    t, live = raw_times("j", 4, None, (submit, start), NOW)
    assert (t.queue, t.run, t.finish, t.text, live) == (60, 600, 0, "RUNNING", True)
    assert running_text(t.queue, t.run, t.text) == "( 0:01:00 ) + 0:10:00"


def test_a_running_job_whose_last_stats_line_is_finished_is_suspicious():
    t, _ = raw_times("j", 4, None, ("20220315154703", "20220315160520", "20220315160618", "COMPLETED"), NOW)
    assert t.text == "SUSPICIOUS"
    assert running_text(t.queue, t.run, t.text) == " <small><i><b>SUSPICIOUS</b></i></small>"


def test_a_queuing_job_without_stats_has_waited_zero_seconds():
    t, live = raw_times("j", 3, None, (), NOW)
    assert (t.queue, t.submit, live) == (0, NOW, True)


def test_wrapper_correction_subtracts_the_parent_time_inside_a_package():
    # 0 -> 1 -> 2 in one package; queue/run uncorrected values.
    fixed = wrapper_corrections([0, 1, 2], [10, 100, 300], [50, 60, 5], [[1], [2], []], True)
    assert fixed == {1: 40, 2: 140}
    fixed = wrapper_corrections([0, 1], [10, 100], [50, 60], [[], []], False)
    assert fixed == {1: 40}


def test_chunk_range_uses_calendar_months_and_whole_days_for_hours():
    d = datetime(1993, 1, 31)
    assert chunk_range(d, 1, "month", 1) == ("1993 01 31", "1993 02 28")
    assert chunk_range(d, 2, "hour", 24) == ("1993 02 01", "1993 02 02")
    assert chunk_range(d, None, "month", 1) == ("1993 01 31", "1993 01 31")
    assert chunk_range(None, 1, "month", 1) == (None, None)


def test_section_settings_fall_back_to_the_platform():
    t = table_of([job("t000_1_SIM", 5, chunk=1), job("t000_POST", 0, section="POST")])
    sim, post = t.sections
    assert (sim.platform, sim.queue, sim.processors, sim.wallclock) == ("HPC", "bsc_es", 48, "02:00")
    # LOCAL has no platform entry: the missing queue is the string "None".
    assert (post.platform, post.queue, post.wallclock) == ("LOCAL", "None", "")


def test_tree_titles_badges_and_folders():
    d = datetime(2000, 1, 1)
    jobs = [
        job("t000_SETUP", 5, section="SETUP"),
        job("t000_20000101_fc0_1_SIM", 5, date=d, member="fc0", chunk=1),
        job("t000_20000101_fc0_2_SIM", -1, date=d, member="fc0", chunk=2),
        job("t000_20000101_SYNC", 0, section="SYNC", date=d),
    ]
    children = {"t000_SETUP": ["t000_20000101_fc0_1_SIM"], "t000_20000101_fc0_1_SIM": ["t000_20000101_fc0_2_SIM"]}
    row = LastRow(status="COMPLETED", submit=100, start=130, finish=190, run_id=1)
    t = table_of(jobs, children, rows={"t000_20000101_fc0_1_SIM": row}, runs={1: ("month", 1)})
    built = tree.build_tree(t)["body"]
    date_folder, keys = built["tree"]
    assert [c["refKey"] for c in date_folder["children"]] == ["t000_20000101_fc0", "t000_20000101_DEFAULT"]
    member = date_folder["children"][0]
    assert member["title"] == (
        "t000_20000101_fc0 <span class='badge' style='background-color:#ffffb3'> 1 / 2 "
        "COMPLETED</span> <span class='badge' style='background-color:red'>1 FAILED</span>"
    )
    sim_folder = member["children"][0]
    assert sim_folder["expanded"] is True
    assert [c["refKey"] for c in sim_folder["children"]] == ["t000_20000101_fc0_2_SIM", "t000_20000101_fc0_1_SIM"]
    sync = date_folder["children"][1]["children"][0]["title"]
    assert sync.endswith("SOURCE</span> <span class='badge' style='background-color:#0066ff; color:white'>SYNC</span>")
    completed = member["children"][0]["children"][1]["title"]
    assert completed == (
        "t000_20000101_fc0_1_SIM <span class='badge' style='background-color: yellow; "
        "color:#000;'>#COMPLETED</span> ~ ( 0:00:30 ) + 0:01:00"
    )
    assert keys["children"][0]["refKey"] == "t000_SETUP"
    node = next(n for n in built["jobs"] if n["id"] == "t000_20000101_fc0_1_SIM")
    assert node["SYPD"] == round(86400 / 12 / 60, 2) and node["minutes"] == 60
    assert node["submit"] is not None and node["finish"] is not None


def test_uniform_date_folder_repeats_the_total():
    d = datetime(2000, 1, 1)
    t = table_of(
        [
            job("t000_20000101_fc0_1_SIM", 0, date=d, member="fc0", chunk=1),
            job("t000_20000101_fc0_2_SIM", 0, date=d, member="fc0", chunk=2),
        ]
    )
    folder = tree.build_tree(t)["body"]["tree"][0]
    assert (
        folder["title"]
        == folder["refKey"]
        == "t000_20000101 <span class='badge' style='background-color:#aaa'> 2 / 2 WAITING </span>"
    )


def test_levels_and_layered_layout_keep_children_below_parents():
    jobs = [job(f"t000_{k}", 0) for k in "abcd"]
    children = {"t000_a": ["t000_b", "t000_c"], "t000_b": ["t000_d"], "t000_c": ["t000_d"]}
    t = table_of(jobs, children)
    level = layout.levels(t)
    assert level[0] == 1 and level[1] == level[2] == 2 and level[3] == 3
    coords = layout.layered_layout(t, level)
    assert coords[0][1] < coords[1][1] < coords[3][1]
    assert coords[1][0] != coords[2][0]


def test_layered_layout_puts_every_job_below_all_its_parents():
    # a -> s1 -> s2 -> s3 and a -> s3: depth-first levels put s3 on level 2, next to s1.
    jobs = [job(f"t000_{k}", 0) for k in ("a", "s1", "s2", "s3")]
    children = {"t000_a": ["t000_s1", "t000_s3"], "t000_s1": ["t000_s2"], "t000_s2": ["t000_s3"]}
    t = table_of(jobs, children)
    coords = layout.layered_layout(t, layout.levels(t))
    ys = [y for _, y in coords]
    assert ys == sorted(ys) and len(set(ys)) == 4


def test_layered_layout_keeps_jobs_of_a_cycle_on_their_level():
    jobs = [job(f"t000_{k}", 0) for k in "abc"]
    children = {"t000_a": ["t000_b"], "t000_b": ["t000_c"], "t000_c": ["t000_b"]}
    t = table_of(jobs, children)
    level = layout.levels(t)
    rows = layout.longest_path_rows(t, level)
    assert rows[0] == 1 and rows[1] == level[1] and rows[2] == level[2]


def test_laplacian_layout_is_finite_even_without_edges():
    t = table_of([job(f"t000_{k}", 0) for k in "abc"])
    coords = layout.laplacian_layout(t, graph.edge_list(t))
    assert len(coords) == 3 and all(isinstance(x, int) and isinstance(y, int) for x, y in coords)


def test_graph_marks_wrapper_edges_and_symbols():
    jobs = [job("t000_1_SIM", 0, chunk=1), job("t000_2_SIM", 0, chunk=2)]
    pkg = Packages(
        job_to_package={"t000_1_SIM": "t000_ASThread_1_1_2", "t000_2_SIM": "t000_ASThread_1_1_2"},
        package_to_jobs={"t000_ASThread_1_1_2": ("t000_1_SIM", "t000_2_SIM")},
        package_to_package_id={"t000_ASThread_1_1_2": "1"},
        package_to_symbol={"t000_ASThread_1_1_2": "hexagon"},
    )
    t = table_of(jobs, {"t000_1_SIM": ["t000_2_SIM"]}, packages=pkg)
    body = graph.build_graph(t, "standard", "none", [(0, 0), (0, 1)], False, layout.levels(t))
    assert body["edges"] == [
        {"id": "t000_1_SIM-t000_2_SIM", "from": "t000_1_SIM", "to": "t000_2_SIM", "is_wrapper": True, "dashed": False}
    ]
    assert {n["shape"] for n in body["nodes"]} == {"hexagon"}


def test_summary_averages_over_the_times_statuses():
    rows = {
        "t000_1_SIM": LastRow(status="COMPLETED", submit=100, start=160, finish=220),
        "t000_2_SIM": LastRow(status="FAILED", submit=100, start=100, finish=200),
    }
    t = table_of([job("t000_1_SIM", 5, chunk=1), job("t000_2_SIM", -1, chunk=2)], rows=rows)
    body = summary.summary(t, t.times)
    assert body["n_failed"] == 1 and body["failed_jobs"] == ["t000_2_SIM"]
    assert body["avg_queue_time"] == "0:00:30" and body["avg_run_time"] == "0:01:20"
    assert (body["n_sim"], body["sim_run_considered"]) == (2, 2)


def test_rendered_bodies_fill_live_holes_per_request():
    rendered = render({"b": [1, Live("x")], "a": Live(("y", 2)), "c": "\u00e9"})
    assert not rendered.is_static
    body = rendered.body(lambda keys: {"x": {"k": 1}, ("y", 2): None})
    assert (
        body
        == (
            json.dumps({"a": None, "b": [1, {"k": 1}], "c": "\u00e9"}, sort_keys=True, separators=(",", ":")) + "\n"
        ).encode()
    )
    assert render({"a": 1}).body() == b'{"a":1}\n'


def test_moving_values_are_those_of_a_table_built_at_request_time():
    d = datetime(2000, 1, 1)
    stamp = lambda ts: datetime.fromtimestamp(ts).strftime("%Y%m%d%H%M%S")  # noqa: E731
    jobs = [
        job("t000_20000101_fc0_1_SIM", 4, date=d, member="fc0", chunk=1),
        job("t000_20000101_fc0_2_SIM", 3, date=d, member="fc0", chunk=2),
        job("t000_20000101_fc0_3_SIM", 0, date=d, member="fc0", chunk=3),
    ]
    children = {
        "t000_20000101_fc0_1_SIM": ["t000_20000101_fc0_2_SIM"],
        "t000_20000101_fc0_2_SIM": ["t000_20000101_fc0_3_SIM"],
    }
    stats = {
        "t000_20000101_fc0_1_SIM": (stamp(NOW - 660), stamp(NOW - 600)),
        "t000_20000101_fc0_2_SIM": (stamp(NOW - 60),),
    }
    old = table_of(jobs, children, stats=stats)
    assert old.live == frozenset({0, 1})
    later = NOW + 125
    fresh = build_table(
        expid="t000",
        exp_dir="/x/t000",
        pkl_path="/x/t000/pkl/job_list_t000.pkl",
        pkl_mtime=123,
        log_dir="/x/t000/tmp/LOG_t000",
        jobs=jobs,
        children=children,
        has_structure=True,
        packages=Packages(),
        conf=CONF,
        rows={},
        runs={},
        stats=stats,
        outs={},
        errs={},
        now=later,
    )
    built = tree.build_tree(old)
    answer = json.loads(render(built["body"]).body(tree.tree_resolver(old, built, later)))
    assert answer["pkl_timestamp"] == later
    for i in range(3):
        expected = tree.tree_node(fresh, i, fresh.times[i], fresh.post_avg, built["tree_parents"][i])
        assert answer["jobs"][i] == json.loads(json.dumps(expected))
    assert answer["jobs"][0]["minutes"] == 600 + 125
    assert "( 0:03:05 )" in answer["jobs"][1]["title"]
    level = layout.levels(old)
    coords = layout.layered_layout(old, level)
    body = graph.build_graph(old, "standard", "none", coords, False, level)
    nodes = json.loads(render(body).body(graph.graph_resolver(old, later, level, coords)))["nodes"]
    assert nodes[1]["minutes_queue"] == 185 and nodes[0]["minutes"] == 725
    items = json.loads(render(tree.build_pkl_info(old, True)).body(tree.pkl_info_resolver(old, later, True)))
    assert items["pkl_content"][1]["running_text"] == "( 0:03:05 )"


def test_warm_builds_the_views_once(make_experiment, settings):
    from autosubmit_api.services.jobs import bodies, loading

    make_experiment("t001")
    bodies.warm(settings, "t001")
    table = loading.load_table(settings, "t001")
    assert loading.load_table(settings, "t001") is table
    calls = []
    loading.cached_view("view_tree", table, None, lambda: calls.append(1))
    assert calls == []  # the tree built by warm() is reused


def test_date_member_groups_skip_pairs_without_jobs():
    d1, d2 = datetime(2000, 1, 1), datetime(2001, 1, 1)
    jobs = [
        job("t000_20000101_fc0_1_SIM", 5, date=d1, member="fc0", chunk=1),
        job("t000_20000101_fc1_1_SIM", -1, date=d1, member="fc1", chunk=1),
        job("t000_20010101_fc0_1_SIM", 0, date=d2, member="fc0", chunk=1),
    ]
    t = table_of(jobs)
    groups = graph.date_member_groups(t, [(0, 0), (1000, 0), (0, 1000)])
    assert set(groups) == {"t000_20000101_fc0_", "t000_20000101_fc1_", "t000_20010101_fc0_"}
    assert groups["t000_20000101_fc1_"]["color"] == "red"
    assert groups["t000_20000101_fc0_"]["color"] == "yellow"
