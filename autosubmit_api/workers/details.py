"""Details worker (reference TASK_POPDET, docs/data.md B.14.2): owner, creation time, model,
branch and platform of every experiment, for the lists and cards.

Reads the `experiment` table, the directory's owner and ctime (readers/exp_files) and the
experiment configuration (readers/exp_config: model, branch, HPCARCH); writes only the
`details` table (autosubmit.db or `public.details`), in one transaction, row by row.

Differences from the reference, on purpose (docs/data.md C):

* the reference deletes every row, VACUUMs and re-inserts; here each experiment's row is
  inserted or updated in place, so the table is never briefly empty, Autosubmit's database
  is never VACUUMed under it, and an experiment whose configuration fails to load keeps the
  row it had;
* an existing `created` is kept: Autosubmit >= 4.1.15 writes the real creation time there,
  which the directory's ctime (changed by any chmod or rename) only approximates. New rows
  get the ctime, formatted as the reference does (`YYYY-MM-DD HH:MM:SS`, local time).
"""

from __future__ import annotations

import logging
from typing import Dict, List, Optional, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError
from autosubmit_api.models import DetailsRow, ExperimentRef
from autosubmit_api.readers import central_store, exp_config, exp_files, paths, storage
from autosubmit_api.services.timefmt import fmt_dt

log = logging.getLogger(__name__)


def _has_job_list(settings: Settings, expid: str) -> bool:
    return storage.locate(settings, expid).job_list is not None


def details_of(settings: Settings, experiment: ExperimentRef) -> Tuple[Optional[DetailsRow], str]:
    """The experiment's details row, or (None, why) when its preconditions (B.0.1) fail."""
    expid = experiment.name
    if not paths.is_valid_expid(expid):
        return None, "not a valid experiment id"
    st = exp_files.exp_dir_facts(settings, expid)
    if st is None:
        return None, "experiment folder not found"
    if not _has_job_list(settings, expid):
        return None, "job list not found"
    if not exp_files.has_tmp_dir(settings, expid):
        return None, "tmp folder not found"
    try:
        config = exp_config.load_config(settings, expid)
    except (APIError, OSError, ValueError) as exc:
        return None, f"configuration cannot be loaded: {getattr(exc, 'message', exc)}"
    created = fmt_dt(st.ctime) or ""
    return DetailsRow(
        experiment.id, st.owner, created, config.model or "NA", config.branch or "NA", config.hpcarch or ""
    ), ""


def collect(settings: Settings, experiments: List[ExperimentRef]) -> Tuple[List[DetailsRow], Dict[str, str]]:
    """(rows, {expid: reason skipped}) without writing anything."""
    rows, skipped = [], {}
    for experiment in experiments:
        try:
            row, why = details_of(settings, experiment)
        except Exception as exc:  # noqa: BLE001 - one experiment must never stop the others
            log.exception("details of %s failed", experiment.name)
            row, why = None, f"{type(exc).__name__}: {exc}"
        if row is None:
            skipped[experiment.name] = why
        else:
            rows.append(row)
    return rows, skipped


def run(settings: Settings) -> None:
    experiments = central_store.experiments(settings)
    rows, skipped = collect(settings, experiments)
    counts = central_store.upsert_details(settings, rows, keep_created=True)
    log.info(
        "details: %d inserted, %d updated, %d unchanged, %d skipped (rows kept)",
        counts["inserted"],
        counts["updated"],
        counts["unchanged"],
        len(skipped),
    )
    for expid, why in sorted(skipped.items()):
        log.debug("details of %s not refreshed: %s", expid, why)
