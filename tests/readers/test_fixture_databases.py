"""Every history DB, package DB, graph DB and configuration of the shared fixtures parses
completely, with the counts of the fixtures README and the anchor's merged configuration."""

from __future__ import annotations

import csv
import json

import pytest

from autosubmit_api.readers import exp_config, graph_layout, job_data, packages
from tests.conftest import shared_dir
from tests.fixture_site import EXPIDS, copy_fixtures, settings_for

# expid -> (user_version, runs, rows), fixtures README table
HISTORY = {
    "a003": (18, 3, 16),
    "a007": (18, 52, 369),
    "a3tb": (17, 51, 284),
    "a6zj": (18, 1, 0),
    "a8qc": (18, 10, 1153),
    "a1ve": (18, 1, 16),
    "a1vj": (18, 1, 0),
    "a1vx": (19, 1, 8),
    "aa6f": (21, 2, 14),
}
LAYOUT_ROWS = {"a003": 8, "a1ve": 0, "a1vj": 0, "a3tb": 0, "a6zj": 0, "a8qc": 0, "a007": 0, "a1vx": 0, "aa6f": 0}


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory):
    return copy_fixtures(tmp_path_factory.mktemp("fixture_dbs"))


@pytest.fixture
def fx(fixture_root):
    return settings_for(fixture_root)


@pytest.mark.parametrize("expid", EXPIDS)
def test_history_db_parses_completely(fx, expid):
    version, n_runs, n_rows = HISTORY[expid]
    h = job_data.load_history(fx, expid)
    assert (h.user_version, len(h.runs), len(h.rows)) == (version, n_runs, n_rows)
    assert [r.id for r in h.rows] == sorted(r.id for r in h.rows)
    for row in h.rows:
        assert row.job_name.startswith(expid + "_")
        # After the swap correction every row's section is the job name's suffix.
        assert row.job_name.endswith("_" + row.section), row
        assert row.run_id is None or row.run_id in h.runs_by_id
    assert all(isinstance(run.finish, int) for run in h.runs)


def test_a3tb_v17_old_column_order_and_swapped_rows(fx):
    h = job_data.load_history(fx, "a3tb")
    assert h.runs_by_id[51].modified == "2022-03-15-16:12:50"
    assert h.runs_by_id[51].chunk_unit == "month" and h.runs_by_id[51].suspended == 2
    swapped = [r for r in h.rows if r.swapped]
    straight = [r for r in h.rows if not r.swapped]
    assert swapped and straight
    assert max(r.id for r in swapped) < min(r.id for r in straight)  # 3.12 rows come first
    first = h.rows[0]
    assert (first.raw_section, first.raw_member) == ("", "LOCAL_SETUP")
    assert (first.section, first.member) == ("LOCAL_SETUP", "")
    sim = next(r for r in swapped if r.raw_member == "SIM")
    assert sim.section == "SIM" and sim.member == sim.raw_section and sim.member.startswith("fc")


def test_a1vj_sqlalchemy_ddl_and_unfinished_run(fx):
    h = job_data.load_history(fx, "a1vj")
    assert h.runs[0].finish == 0 and h.rows == ()


def test_aa6f_v21_columns(fx):
    h = job_data.load_history(fx, "aa6f")
    assert {"split", "splits", "fail_count", "workflow_commit"} <= set(h.columns)
    assert any(r.split is not None for r in h.rows)


def test_children_map_from_fixture(fx):
    children = job_data.children_map(fx, "a003")
    assert children["a003_LOCAL_SETUP"] == ("a003_REMOTE_SETUP",)
    assert len(children) == 8


@pytest.mark.parametrize("expid", EXPIDS)
def test_package_db_parses(fx, expid):
    got = packages.load_packages(fx, expid)
    if expid == "a6zj":
        name = "a6zj_ASThread_17128472368642_1_4"
        assert got.table == "wrapper_job_package" and got.is_preview
        assert got.package_to_jobs == {name: tuple(f"a6zj_20000101_fc0_{c}_SIM" for c in range(1, 5))}
        assert got.package_to_package_id == {name: "17128472368642"}
        assert got.package_to_symbol == {name: "hexagon"}
    elif expid == "aa6f":
        name = "aa6f_ASThread_SIM_17810117114353_1_8"
        assert got.table == "preview_wrappers_jobs"
        assert len(got.package_to_jobs[name]) == 8 and set(got.job_to_package.values()) == {name}
        assert got.package_to_jobs[name][0] == "aa6f_20000101_fc0_1_1_SIM"
        assert got.package_to_package_id == {name: "SIM"}
    else:
        assert not got and got.table is None


@pytest.mark.parametrize("expid", EXPIDS)
def test_graph_layout_db_parses(fx, expid):
    layout = graph_layout.load_layout(fx, expid)
    assert len(layout) == LAYOUT_ROWS[expid]
    if expid == "a003":
        assert layout["a003_LOCAL_SETUP"] == (154, -652)


def _golden_rows():
    index = shared_dir() / "golden" / "index.tsv"
    if not index.is_file():
        return {}
    rows = {}
    with open(index, newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            path = row["path"]
            if path.startswith("/v4/experiments/") and path.endswith("/filesystem-config") and not row["ref_defect"]:
                rows[path.split("/")[3]] = row
    return rows


def _volatile_keys(field):
    return {p.split(".", 1)[1] for p in field.split(",") if p.startswith("config.")}


@pytest.mark.parametrize("expid", EXPIDS)
def test_config_matches_the_anchor_merge(fx, fixture_root, expid, monkeypatch):
    # The golden answers were captured by a server without USER in its environment.
    for name in ("USER", "SUDO_USER"):
        monkeypatch.delenv(name, raising=False)
    config = exp_config.load_config(fx, expid)
    assert config.layout == ("AS3" if expid == "a3tb" else "AS4")
    golden = _golden_rows().get(expid)
    if golden is None:
        assert expid == "aa6f"  # the anchor could not parse it (`!rrule`)
        assert config.raw["METADATA"]["SCHEDULE"].startswith("DTSTART:19900101 RRULE:FREQ=YEARLY")
        assert config.autosubmit_version == "4.1.17"
        return
    expected = json.loads((shared_dir() / "golden" / golden["file"]).read_text())["config"]
    expected.pop("contains_nones")
    actual = json.loads(json.dumps(config.raw, default=str).replace(str(fixture_root), "{FIXTURE_DIR}"))
    if config.layout == "AS3":
        actual = {k: actual[k] for k in ("conf", "exp", "jobs", "platforms", "proj")}
    volatile = _volatile_keys(golden["volatile_fields"])
    for dotted in volatile:
        head, *rest = dotted.split(".")
        exp_node, act_node = expected, actual
        for part in rest:
            exp_node, act_node = exp_node[head], act_node[head]
            head = part
        assert head in act_node, dotted
        exp_node.pop(head)
        act_node.pop(head)
    assert actual == expected


def test_config_typed_values_of_fixtures(fx):
    a003 = exp_config.load_config(fx, "a003")
    assert a003.autosubmit_version == "4.0.0"  # from the CUSTOM_CONFIG files, not the DB
    assert (a003.chunk_unit, a003.chunk_size, a003.hpcarch) == ("month", 4, "LOCAL")
    a6zj = exp_config.load_config(fx, "a6zj")
    assert a6zj.wrapper_types == ("vertical",) and a6zj.wrapper_type is None
    assert a6zj.platform("MARENOSTRUM4").queue == "debug"
    a3tb = exp_config.load_config(fx, "a3tb")
    assert (a3tb.autosubmit_version, a3tb.hpcarch, a3tb.section("SIM").processors) == ("3.13.0", "marenostrum4", "768")
    assert (a3tb.model, a3tb.branch) == ("https://earth.bsc.es/gitlab/es/auto-ecearth3.git", "trunk")
    a8qc = exp_config.load_config(fx, "a8qc")
    assert exp_config.load_metadata_config(fx, "a8qc")["DEFAULT"]["EXPID"] == "a8qc"
    assert "conf/metadata/experiment_data.yml" not in a8qc.files
