"""Graph layout worker (reference TASK_POPGRPH, docs/data.md B.14.2): precompute the `standard`
graph coordinates of running experiments and store them for the graph view.

Reads the experiments and their `experiment_status`, and each running experiment's job
table (pickle, structure edges, packages: services/jobs/loading.py); writes only
`<graph_dir>/graph_data_<expid>.db` (the API's own file, readers/graph_layout.write_layout,
which replaces it atomically). A stored layout that already has a position for every
current job is reused, as in the reference, so an experiment's layout is only recomputed
when its job list gained jobs.

Coordinates are the layered layout the graph view computes itself (services/layout.py),
because the project does not run GraphViz; they are stored as integers, the way the
reference stores `int(x * 90)`.

The reference serialises runs with `<LOCAL_ROOT_DIR>/calculation_in_progress.lock`; here
the job's lock (workers/lock.py) does that, and nothing is created in the experiments root.
"""

from __future__ import annotations

import logging
from typing import Dict, Optional, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError
from autosubmit_api.readers import central_db, central_store, graph_layout, paths
from autosubmit_api.services import layout
from autosubmit_api.services.jobs import loading

log = logging.getLogger(__name__)


def covers(saved: Dict[str, Tuple[float, float]], names) -> bool:
    return bool(saved) and all(name in saved for name in names)


def positions(table) -> Dict[str, Tuple[int, int]]:
    """job name -> (x, y) of the standard layered layout of a job table."""
    coords = layout.layered_layout(table, layout.levels(table))
    return {name: (int(x), int(y)) for name, (x, y) in zip(table.names, coords)}


def refresh(settings: Settings, expid: str) -> Optional[str]:
    """Store the experiment's layout unless the saved one covers its jobs.

    Returns "stored" or "reused"; None when the experiment cannot be read (logged).
    """
    try:
        # The job names decide; the full table (history, logs, configuration) is built
        # only when the layout must be computed.
        names = [job.name for job in loading.load_jobs(settings, expid).jobs]
        if covers(graph_layout.load_layout(settings, expid), names):
            return "reused"
        table = loading.load_table(settings, expid, need_config=False)
    except APIError as exc:
        log.info("layout of %s not computed: %s", expid, exc.message)
        return None
    graph_layout.write_layout(settings, expid, positions(table))
    return "stored"


def run(settings: Settings) -> None:
    statuses = central_db.statuses(settings)
    counts = {"stored": 0, "reused": 0, "unreadable": 0}
    for experiment in central_store.experiments(settings):
        if statuses.get(experiment.id) != central_db.RUNNING or not paths.is_valid_expid(experiment.name):
            continue
        outcome = refresh(settings, experiment.name)
        counts[outcome or "unreadable"] += 1
    log.info("graph layouts: %(stored)d stored, %(reused)d reused, %(unreadable)d unreadable", counts)
