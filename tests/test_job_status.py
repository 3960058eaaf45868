"""docs/data.md A.9: the one table of Autosubmit's status codes and names (autosubmit_api/job_status.py),
which the pickle and 4.2 job-table readers, the views and the factory all use."""

from __future__ import annotations

import pytest

from autosubmit_api.job_status import ALL_STATUS_NAMES, STATUS_CODES, STATUS_NAMES, code_of_name, status_name


def test_thirteen_statuses_both_ways():
    assert len(STATUS_NAMES) == len(STATUS_CODES) == len(ALL_STATUS_NAMES) == 13
    assert all(STATUS_CODES[name] == code for code, name in STATUS_NAMES.items())
    assert (STATUS_NAMES[5], STATUS_NAMES[-1], STATUS_NAMES[9]) == ("COMPLETED", "FAILED", "DELAYED")


@pytest.mark.parametrize(
    "code,name", [(5, "COMPLETED"), (-3, "SUSPENDED"), (42, "UNKNOWN"), ("5", "UNKNOWN"), (None, "UNKNOWN")]
)
def test_status_name(code, name):
    assert status_name(code) == name


@pytest.mark.parametrize(
    "value,code",
    [
        ("COMPLETED", 5),
        (" completed\n", 5),
        ("Delayed", 9),
        ("NOPE", -2),
        ("", -2),
        (7, 7),
        (42, -2),
        (True, -2),  # a bool is not a code
        (None, -2),
        (5.0, -2),
    ],
)
def test_code_of_name(value, code):
    assert code_of_name(value) == code
