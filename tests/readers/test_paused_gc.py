"""readers.job_list.paused_gc: no collection inside the block, and what it built goes
straight to the oldest generation (no traversal of it by the next young collection)."""

from __future__ import annotations

import gc

from autosubmit_api.readers.job_list import paused_gc


def _in_generation(generation: int, marker: object) -> int:
    return sum(1 for obj in gc.get_objects(generation=generation) if type(obj) is dict and obj.get("marker") is marker)


def test_objects_built_while_paused_land_in_the_oldest_generation():
    marker = object()
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        built = [{"marker": marker, "value": [i]} for i in range(20_000)]
    assert gc.isenabled()
    assert _in_generation(2, marker) == len(built)
    assert _in_generation(0, marker) == 0 and _in_generation(1, marker) == 0


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
