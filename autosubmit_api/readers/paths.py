"""Every file-name pattern of an experiment and of the site, in one place (docs/data.md A.1).

Functions take Settings and an expid that `check_expid` accepted, so no path built here
can leave the directories the site configuration names.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest

if TYPE_CHECKING:  # typing.TypeGuard is Python 3.10+; annotations are not evaluated at run time
    from typing_extensions import TypeGuard

EXPID_RE = re.compile(r"^[A-Za-z0-9]{1,16}$")

# Names inside an experiment's tmp/ directory (docs/data.md A.10).
TOTAL_STATS_SUFFIX = "_TOTAL_STATS"  # tmp/<job>_TOTAL_STATS: one line per attempt
RUN_LOG = "run.log"  # a name containing it is a run log (`/exprun`)
AS_RUN_LOG = "_run.log"  # Autosubmit's own `<date>_<time>_run.log` (`/logrun`, status worker)
RECOVERY_LOG_RE = re.compile(r"^(\d{8})_(\d{6})_(.*?)_log_recovery\.log(\.xz|\.gz)?$")


def check_expid(expid: object) -> str:
    """The expid unchanged, or BadRequest when it could not name an experiment directory."""
    if not isinstance(expid, str) or not EXPID_RE.match(expid):
        raise BadRequest("Malformed experiment id")
    return expid


def is_valid_expid(expid: object) -> TypeGuard[str]:
    return isinstance(expid, str) and bool(EXPID_RE.match(expid))


def exp_dir(settings: Settings, expid: str) -> str:
    return os.path.join(settings.local_root_dir, check_expid(expid))


def pkl_dir(settings: Settings, expid: str) -> str:
    return os.path.join(exp_dir(settings, expid), "pkl")


def job_list_pkl(settings: Settings, expid: str) -> str:
    return os.path.join(pkl_dir(settings, expid), f"job_list_{expid}.pkl")


def job_list_db(settings: Settings, expid: str) -> str:
    """`db/job_list.db`: the job list, edges, sections and wrappers of Autosubmit >= 4.2
    (docs/data.md A.13); when it exists it wins over a pickle left by an upgrade."""
    return os.path.join(exp_dir(settings, expid), "db", "job_list.db")


def packages_db(settings: Settings, expid: str) -> str:
    return os.path.join(pkl_dir(settings, expid), f"job_packages_{expid}.db")


def conf_dir(settings: Settings, expid: str) -> str:
    return os.path.join(exp_dir(settings, expid), "conf")


def as3_expdef(settings: Settings, expid: str) -> str:
    """`conf/expdef_<expid>.conf`: its presence marks an Autosubmit 3 experiment (A.8)."""
    return os.path.join(conf_dir(settings, expid), f"expdef_{expid}.conf")


def conf_metadata_dir(settings: Settings, expid: str) -> str:
    return os.path.join(conf_dir(settings, expid), "metadata")


def proj_dir(settings: Settings, expid: str) -> str:
    return os.path.join(exp_dir(settings, expid), "proj")


def tmp_dir(settings: Settings, expid: str) -> str:
    return os.path.join(exp_dir(settings, expid), "tmp")


def aslogs_dir(settings: Settings, expid: str) -> str:
    return os.path.join(tmp_dir(settings, expid), "ASLOGS")


def job_logs_dir(settings: Settings, expid: str) -> str:
    return os.path.join(tmp_dir(settings, expid), f"LOG_{expid}")


def total_stats_name(job_name: str) -> str:
    return job_name + TOTAL_STATS_SUFFIX


def experiment_data_yml(settings: Settings, expid: str) -> str:
    """`conf/metadata/experiment_data.yml`: the merged configuration Autosubmit >= 4.1 saves."""
    return os.path.join(conf_metadata_dir(settings, expid), "experiment_data.yml")


def user_metrics_db(settings: Settings, expid: str) -> str:
    return os.path.join(tmp_dir(settings, expid), f"metrics_{expid}.db")


def status_dir(settings: Settings, expid: str) -> str:
    return os.path.join(exp_dir(settings, expid), "status")


def job_data_db(settings: Settings, expid: str) -> str:
    return os.path.join(settings.jobdata_dir, f"job_data_{check_expid(expid)}.db")


def structure_db(settings: Settings, expid: str) -> str:
    return os.path.join(settings.structures_dir, f"structure_{check_expid(expid)}.db")


def graph_db(settings: Settings, expid: str) -> str:
    return os.path.join(settings.graph_dir, f"graph_data_{check_expid(expid)}.db")


def central_db(settings: Settings) -> str:
    return settings.db_path


def as_times_db(settings: Settings) -> str:
    return settings.as_times_db_path


def file_status_db(settings: Settings) -> str:
    # The reference ignores [statusdb] path (Q22): keep its location, honour the key as well.
    legacy = os.path.join(settings.local_root_dir, "as_metadata", "test", settings.statusdb_filename)
    if os.path.isfile(legacy):
        return legacy
    return os.path.join(settings.statusdb_path, settings.statusdb_filename)
