"""The formulas every view shares, one home each (issue 16): time formats (services/timefmt.py),
year fractions, SYPD/ASYPD and processors (services/metrics.py). The edge cases pinned here
are the ones the routes need (docs/api.md 1.9, docs/data.md B.0.4, B.9.1, B.9.3); the job
views, the history and the run detail all call these functions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from autosubmit_api.services import metrics, timefmt

CHSY = "CHSY Critical | Autosubmit API could not parse the number of processors for the SIM job."


# --- fmt_dt: local `YYYY-MM-DD HH:MM:SS` (the suite runs with TZ=UTC) ----------------------


@pytest.mark.parametrize(
    "ts,text",
    [
        (1, "1970-01-01 00:00:01"),
        (1_700_000_000, "2023-11-14 22:13:20"),
        (1_700_000_000.9, "2023-11-14 22:13:20"),  # truncated, never rounded up
        (None, None),
        (0, None),
        (0.0, None),
        (-5, None),
        (10**20, None),  # past what the platform's clock can show: no date, not an error
    ],
)
def test_fmt_dt(ts, text):
    assert timefmt.fmt_dt(ts) == text


# --- td: Python's str(timedelta(seconds=s)) ------------------------------------------------


@pytest.mark.parametrize(
    "seconds,text",
    [
        (0, "0:00:00"),
        (5, "0:00:05"),
        (3600, "1:00:00"),
        (86399, "23:59:59"),
        (86400, "1 day, 0:00:00"),
        (2 * 86400 + 61, "2 days, 0:01:01"),
        (148093068, "1714 days, 0:57:48"),
        (5.9, "0:00:05"),
        ("65", "0:01:05"),
        (-1, "-1 day, 23:59:59"),
        (-86401, "-2 days, 23:59:59"),
    ],
)
def test_td(seconds, text):
    assert timefmt.td(seconds) == text


def test_td_is_str_of_timedelta_everywhere():
    for s in list(range(-200_000, 200_000, 997)) + [10**9, 10**9 + 86400]:
        assert timefmt.td(s) == str(timedelta(seconds=s))


# --- years_per_chunk (B.0.4) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "unit,size,years",
    [
        ("year", 2, 2.0),
        ("month", 6, 0.5),
        ("month", "6", 0.5),
        ("day", 73, 0.2),
        ("hour", 876, 0.1),
        ("MONTH", 1, 0.0),
        ("NA", 1, 0.0),
        ("", 1, 0.0),
        (None, 1, 0.0),
        (["month"], 1, 0.0),  # a list from a YAML file: no unit, not an error
        ("month", None, 0.0),
        ("month", "", 0.0),
        ("month", "x", 0.0),
        ("year", 0, 0.0),
    ],
)
def test_years_per_chunk(unit, size, years):
    assert metrics.years_per_chunk(unit, size) == years


# --- SYPD / ASYPD per job (B.9.3) -----------------------------------------------------------


def test_sypd_of_a_completed_month_chunk():
    # 1/12 year in 3600 s: 1/12 * 86400 / 3600 = 2.0
    assert metrics.sypd_job("month", 1, 1, 3600, "COMPLETED") == 2.0
    assert metrics.sypd_job("month", 1, 1, 7000, "COMPLETED") == 1.03


@pytest.mark.parametrize(
    "chunk,run,status",
    [
        (1, 3600, "FAILED"),
        (1, 3600, "RUNNING"),
        (None, 3600, "COMPLETED"),
        (0, 3600, "COMPLETED"),
        (-1, 3600, "COMPLETED"),
        ("1", 3600, "COMPLETED"),
        (True, 3600, "COMPLETED"),  # a bool is not a chunk number
        (1, 0, "COMPLETED"),
        (1, -3, "COMPLETED"),
        (1, None, "COMPLETED"),
    ],
)
def test_sypd_is_null_unless_a_completed_chunk_ran(chunk, run, status):
    assert metrics.sypd_job("month", 1, chunk, run, status) is None


def test_sypd_of_an_unknown_unit_is_zero_not_null():
    assert metrics.sypd_job("MONTH", 1, 1, 3600, "COMPLETED") == 0.0


def test_a_split_job_simulates_its_share_of_the_chunk():
    assert metrics.sypd_job("month", 1, 1, 3600, "COMPLETED", splits=4) == 0.5
    assert metrics.asypd_job("month", 1, 1, 3600, 0.0, "COMPLETED", splits=4) == 0.5
    # splits <= 1, or not a number: the whole chunk
    for splits in (None, -1, 0, 1, "4"):
        assert metrics.sypd_job("month", 1, 1, 3600, "COMPLETED", splits=splits) == 2.0


def test_asypd_divides_by_queue_run_and_the_post_average():
    assert metrics.asypd_job("month", 1, 1, 3000, 600.0, "COMPLETED") == 2.0
    assert metrics.asypd_job("month", 1, 1, None, 3600.0, "COMPLETED") == 2.0
    assert metrics.asypd_job("month", 1, 1, 3600, None, "COMPLETED") == 2.0


@pytest.mark.parametrize(
    "chunk,queue_run,post_avg,status",
    [
        (1, 3600, 0.0, "FAILED"),
        (None, 3600, 0.0, "COMPLETED"),
        (0, 3600, 0.0, "COMPLETED"),
        (True, 3600, 0.0, "COMPLETED"),
        (1, 0, 0.0, "COMPLETED"),
        (1, 0, None, "COMPLETED"),
        (1, 100, -100.0, "COMPLETED"),
    ],
)
def test_asypd_is_null_without_a_completed_chunk_or_time(chunk, queue_run, post_avg, status):
    assert metrics.asypd_job("month", 1, chunk, queue_run, post_avg, status) is None


# --- processors (B.9.1) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("48", (48, None)),
        (48, (48, None)),
        (" 48 ", (48, None)),
        ("0", (0, None)),
        # Not set: one processor, no warning (B.0.2 step 5 "else 1"; the SIM section alike).
        (None, (1, None)),
        ("", (1, None)),
        ("   ", (1, None)),
        # Heterogeneous `a:b`: whole 36-core nodes per part.
        ("36:10", (72, "Parallelization parsing | 36:10 was interpreted as 72 cores.")),
        ("10:40", (108, "Parallelization parsing | 10:40 was interpreted as 108 cores.")),
        ("36:", (0, CHSY)),
        ("a:b", (0, CHSY)),
        ("x", (0, CHSY)),
        ("4.0", (0, CHSY)),  # int(raw), as B.9.1 says: a decimal is not a processor count
        (4.0, (0, CHSY)),
    ],
)
def test_parse_processors(raw, expected):
    assert metrics.parse_processors(raw) == expected


# --- CHSY per job (core hours per simulated year) ------------------------------------------


def test_chsy_of_a_job():
    # 48 cores for 3600 s on 1/12 year: 48 core hours per 1/12 year = 576
    assert metrics.chsy_job(48, 3600, 1 / 12) == 576.0
    assert metrics.chsy_job(1, 1, 1.0) == 0.0  # rounded to 2 decimals
    assert metrics.chsy_job(None, 3600, 1.0) == 0.0  # no core count: no core hours
    assert metrics.chsy_job(0, 3600, 1.0) == 0.0
