"""The TOTAL_STATS stamp fast path equals `strptime(...).timestamp()` in every time zone,
including across DST changes and in half-hour DST zones (Australia/Lord_Howe)."""

import os
import time
from datetime import datetime, timedelta

import pytest

from autosubmit_api.services import statistics
from autosubmit_api.services.jobs.times import parse_stamp


@pytest.fixture
def local_zone():
    previous = os.environ.get("TZ")

    def use(zone):
        os.environ["TZ"] = zone
        time.tzset()
        statistics._hour_epochs.clear()

    yield use
    os.environ["TZ"] = previous or "UTC"
    time.tzset()
    statistics._hour_epochs.clear()


def _stamps_around(start: datetime, hours: int, step_seconds: int):
    moment = start
    end = start + timedelta(hours=hours)
    while moment < end:
        yield moment.strftime("%Y%m%d%H%M%S")
        moment += timedelta(seconds=step_seconds)


@pytest.mark.parametrize(
    "zone, change",
    [
        ("Europe/Madrid", datetime(2024, 3, 31, 0)),  # spring forward at 02:00
        ("Europe/Madrid", datetime(2024, 10, 27, 0)),  # fall back at 03:00
        ("Australia/Lord_Howe", datetime(2024, 4, 7, 0)),  # half-hour fall back at 02:00
        ("Australia/Lord_Howe", datetime(2024, 10, 6, 0)),  # half-hour spring forward at 02:00
        ("UTC", datetime(2024, 1, 1, 0)),
    ],
)
def test_fast_stamps_equal_strptime_across_offset_changes(local_zone, zone, change):
    if not os.path.exists(f"/usr/share/zoneinfo/{zone}"):
        pytest.skip(f"time zone {zone} is not installed")
    local_zone(zone)
    mismatches = [s for s in _stamps_around(change, 6, 97) if statistics._stamp(s) != parse_stamp(s)]
    assert mismatches == []


def test_malformed_stamps_take_the_slow_path(local_zone):
    local_zone("Europe/Madrid")
    for text in ("20241301000000", "20240230120000", "20240101246000", "2024010112", "abcdefghijklmn"):
        assert statistics._stamp(text) == parse_stamp(text)
