"""Bounded YAML (issue 14, item 5): a configuration costs at most MAX_CONFIG_BYTES of text,
MAX_CONFIG_NODES values and MAX_EXPANDED_COST once aliases are expanded, all its files
together; a file refused for its content is remembered per version and not parsed again.

Memory is measured with tracemalloc (what Python allocates, deterministic), never with
wall-clock time; benchmarks/bench_yaml_bounds.py prints the times.
"""

from __future__ import annotations

import os
import tracemalloc

import pytest

from autosubmit_api.errors import DataError
from tests.factory import conf as factory_conf
from autosubmit_api.readers import exp_config
from autosubmit_api.readers.exp_config import config_files

MB = 2**20


def _exp(settings, expid="a000"):
    return os.path.join(settings.local_root_dir, expid)


def _write(settings, files, expid="a000"):
    return factory_conf.write_config(_exp(settings, expid), expid, files=files)


def _bump(path):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def _refused_with_peak(settings, expid="a000"):
    """The DataError of loading the configuration, and the peak Python memory it took."""
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as info:
            exp_config.load_config(settings, expid)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, peak


def test_the_issue_s_301_kb_file_is_refused_in_bounded_memory(settings):
    text = factory_conf.aliased_string_yaml(1000, 100_000)
    assert 290_000 < len(text) < 310_000  # expands to 100 MB
    _write(settings, {"bomb.yml": text})
    error, peak = _refused_with_peak(settings)
    assert error.status == 422
    assert error.message.startswith("conf/bomb.yml is refused: larger than 16 MiB once aliases are expanded")
    assert settings.local_root_dir not in error.message
    assert peak < 100 * MB


@pytest.mark.slow
def test_an_aliased_string_just_under_the_byte_cap_is_refused_in_bounded_memory(settings):
    text = factory_conf.aliased_string_yaml(5000, 650_000)  # 4.9 GB once expanded
    assert 1.8 * MB < len(text) < config_files.MAX_CONFIG_BYTES
    _write(settings, {"bomb.yml": text})
    error, peak = _refused_with_peak(settings)
    assert "once aliases are expanded" in error.message
    assert peak < 100 * MB


def test_the_issue_s_2_8_mb_file_is_refused_by_the_byte_cap(settings):
    text = factory_conf.aliased_string_yaml(5000, 900_000)
    assert len(text) > config_files.MAX_CONFIG_BYTES
    _write(settings, {"bomb.yml": text})
    error, peak = _refused_with_peak(settings)
    assert error.message.startswith("conf/bomb.yml is refused: larger than 2 MiB of YAML")
    assert peak < 100 * MB


def test_nested_aliases_and_self_reference_and_deep_nesting_are_refused(settings):
    cases = {
        "laughs.yml": (factory_conf.nested_alias_yaml(9, 10), "once aliases are expanded"),
        "self.yml": ("A: &a [x, *a]\n", "an alias refers to a value that contains it"),
        "deep.yml": ("A: " + "[" * 150 + "]" * 150 + "\n", "nested more than"),
    }
    for name, (text, reason) in cases.items():
        conf = _write(settings, {name: text})
        with pytest.raises(DataError) as info:
            exp_config.load_config(settings, "a000")
        assert info.value.message.startswith(f"conf/{name} ") and reason in info.value.message, info.value.message
        (conf / name).unlink()


def test_too_many_values_are_refused_before_they_are_built(settings):
    _write(settings, {"many.yml": factory_conf.many_values_yaml(config_files.MAX_CONFIG_NODES + 10)})
    with pytest.raises(DataError) as info:
        exp_config.load_config(settings, "a000")
    assert info.value.message.startswith(
        f"conf/many.yml is refused: more than {config_files.MAX_CONFIG_NODES} YAML values"
    )


def test_files_within_the_caps_load(settings):
    # Big but honest: many values, long strings, aliases that expand a little.
    many = factory_conf.many_values_yaml(config_files.MAX_CONFIG_NODES // 2)
    _write(
        settings,
        {
            "many.yml": many,
            "shared.yml": factory_conf.aliased_string_yaml(1000, 1000),
            "long.yml": "LONG: " + "y" * (MB // 2) + "\n",
        },
    )
    raw = exp_config.load_config(settings, "a000").raw
    assert len(raw["MANY"]) == config_files.MAX_CONFIG_NODES // 2
    assert len(raw["BOMB"]["COPIES"]) == 1000 and raw["BOMB"]["COPIES"][0] == "x" * 1000
    assert len(raw["LONG"]) == MB // 2


def test_the_budget_is_shared_by_the_files_of_one_configuration(settings):
    half = "A: " + "y" * (MB + MB // 4) + "\n"
    conf = _write(settings, {"one.yml": half, "two.yml": half.replace("A:", "B:")})
    with pytest.raises(DataError) as info:
        exp_config.load_config(settings, "a000")
    assert info.value.message == (
        "conf/two.yml is refused: larger than 2 MiB of YAML (with the configuration's other files)"
    )
    # Not remembered against two.yml itself: once one.yml shrinks, two.yml loads.
    (conf / "one.yml").write_text("A: small\n")
    _bump(conf / "one.yml")
    raw = exp_config.load_config(settings, "a000").raw
    assert raw["A"] == "small" and len(raw["B"]) == MB + MB // 4


def test_a_refused_configuration_is_not_parsed_again(settings):
    conf = _write(settings, {"bomb.yml": factory_conf.aliased_string_yaml(1000, 100_000)})
    with pytest.raises(DataError):
        exp_config.load_config(settings, "a000")
    before = config_files.yaml_parse_count()
    for _ in range(3):
        with pytest.raises(DataError) as info:
            exp_config.load_config(settings, "a000")
        assert "conf/bomb.yml is refused" in info.value.message
    assert config_files.yaml_parse_count() == before
    # A new version of the file is read again.
    (conf / "bomb.yml").write_text("BOMB: defused\n")
    _bump(conf / "bomb.yml")
    assert exp_config.load_config(settings, "a000").raw["BOMB"] == "defused"
    assert config_files.yaml_parse_count() > before


def test_a_refused_file_is_remembered_per_version(settings):
    conf = _write(settings, {"metadata/experiment_data.yml": "A: [unclosed\n"})
    path = conf / "metadata" / "experiment_data.yml"
    with pytest.raises(DataError) as first:
        exp_config.load_metadata_config(settings, "a000")
    before = config_files.yaml_parse_count()
    with pytest.raises(DataError) as again:
        exp_config.load_metadata_config(settings, "a000")
    assert again.value.message == first.value.message
    assert first.value.message.startswith("conf/metadata/experiment_data.yml cannot be parsed")
    assert config_files.yaml_parse_count() == before
    path.write_text("A: [closed]\n")
    _bump(path)
    assert exp_config.load_metadata_config(settings, "a000") == {"A": ["closed"]}
    assert config_files.yaml_parse_count() == before + 1


def test_an_oversized_as3_file_is_refused(settings):
    conf = factory_conf.write_config(_exp(settings), "a000", as3=True)
    with open(conf / "jobs_a000.conf", "a") as handle:
        handle.write("[BIG]\nA = " + "z" * (config_files.MAX_CONFIG_BYTES + 1) + "\n")
    with pytest.raises(DataError) as info:
        exp_config.load_config(settings, "a000")
    assert info.value.message == "conf/jobs_a000.conf is refused: larger than 2 MiB"


def test_expanded_cost_counts_each_alias_without_building_it():
    import yaml

    node = yaml.compose(factory_conf.nested_alias_yaml(9, 10), Loader=config_files._Loader)
    with pytest.raises(config_files.OverBudget):
        config_files.expanded_cost(node)
    small = yaml.compose("A: &a [xy, xy]\nB: [*a, *a]\n", Loader=config_files._Loader)
    n = config_files.NODE_COST
    a = n + 2 * (n + 2)
    assert config_files.expanded_cost(small) == n + (n + 1) + a + (n + 1) + (n + 2 * a)


@pytest.fixture(params=sorted(config_files.LOADERS))
def loader(request):
    return config_files.LOADERS[request.param]


def test_both_parsers_give_the_same_values(loader):
    text = (
        "A: &a {ON_: on, OCT: 012, CLOCK: 1:30, F: 1e3, T: TRUE, N: ~, D: 2000-01-01, Q: '4'}\n"
        "B: [*a, !rrule x, !!python/object:os.system {k: v}]\n<<: {M: merged}\n"
    )
    assert config_files.load_yaml_text(text, loader=loader) == config_files.load_yaml_text(
        text, loader=config_files.LOADERS["python"]
    )
    data = config_files.load_yaml_text(text, loader=loader)
    assert data["A"] == {
        "ON_": "on",
        "OCT": 12,
        "CLOCK": "1:30",
        "F": 1000.0,
        "T": True,
        "N": None,
        "D": data["A"]["D"],
        "Q": "4",
    }
    assert data["B"][1:] == ["x", {"k": "v"}] and data["M"] == "merged"


@pytest.mark.slow
def test_the_pure_python_parser_counts_aliases_as_values():
    text = "A: &a x\nB: [" + "*a," * config_files.MAX_CONFIG_NODES + "*a]"
    with pytest.raises(config_files.OverBudget) as info:
        config_files.load_yaml_text(text, loader=config_files.LOADERS["python"])
    assert str(info.value) == "more than 100000 YAML values"


@pytest.mark.parametrize(
    "text, reason",
    [
        (factory_conf.many_values_yaml(config_files.MAX_CONFIG_NODES), "more than 100000 YAML values"),
        ("T: [" + "!a x," * config_files.MAX_CONFIG_NODES + "x]", "more than 100000 YAML values"),
        (factory_conf.aliased_string_yaml(1000, 50_000), "once aliases are expanded"),
        ("A: " + "[" * 150 + "]" * 150, "nested more than 100 levels deep"),
        ("A: " + "[" * 5000 + "]" * 5000, ""),
        ("A: &a [x, *a]", "an alias refers to a value that contains it"),
    ],
)
@pytest.mark.slow
def test_both_parsers_keep_the_budget(loader, text, reason):
    with pytest.raises(Exception) as info:
        config_files.load_yaml_text(text, loader=loader)
    # A YAMLError (libyaml stops deep flow nesting itself), never a RecursionError or MemoryError.
    assert isinstance(info.value, config_files.yaml.YAMLError), repr(info.value)
    assert reason in str(info.value)


def test_placeholders_that_double_a_value_are_refused(settings):
    _write(settings, {"chain.yml": factory_conf.placeholder_chain_yaml(30)})
    error, peak = _refused_with_peak(settings)
    assert error.message.startswith("The configuration is refused: ")
    assert "%KEY% placeholder" in error.message
    assert peak < 100 * MB
    before = config_files.yaml_parse_count()
    with pytest.raises(DataError):
        exp_config.load_config(settings, "a000")
    assert config_files.yaml_parse_count() == before


def test_a_few_chained_placeholders_still_substitute(settings):
    _write(settings, {"chain.yml": factory_conf.placeholder_chain_yaml(4)})
    assert exp_config.load_config(settings, "a000").raw["CHAIN"]["K0"] == "x" * 16


def test_for_loops_that_copy_a_big_body_thousands_of_times_are_refused(settings):
    text = factory_conf.for_loop_yaml(3000, 3000)
    assert len(text) < 60_000  # its sections would answer 1.2 GB
    _write(settings, {"loop.yml": text})
    error, peak = _refused_with_peak(settings)
    assert error.message == "The configuration is refused: its FOR loops expand to more than 16 MiB"
    assert peak < 100 * MB


def test_small_for_loops_still_expand(settings):
    _write(settings, {"loop.yml": factory_conf.for_loop_yaml(3, 5, copies=2)})
    jobs = exp_config.load_config(settings, "a000").raw["JOBS"]
    assert {"LOOPED_N0", "LOOPED_N1", "LOOPED_N2"} <= set(jobs) and "LOOPED" not in jobs
    assert jobs["LOOPED_N1"]["DATA"] == [["x" * 10] * 5] * 2
