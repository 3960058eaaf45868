"""Configuration views (docs/api.md 7.11, 7.12; docs/data.md B.13): the experiment's configuration as
parsed from `<exp>/conf` now (readers/exp_config/) and, for `/cconfig`, compared with the
configuration saved in the newest run of the history DB (`experiment_run.metadata`).
"""

from __future__ import annotations

import copy
import posixpath
from typing import Any, Dict, List, Mapping, Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError
from autosubmit_api.readers import central_db, exp_config, exp_files, job_data
from autosubmit_api.services.runs import MIN_RUN_VERSION, contains_nones, parse_metadata, require_experiment

# For Autosubmit 3 experiments only these top-level keys are shown (both sides).
AS3_KEYS = ("conf", "exp", "jobs", "platforms", "proj")


def is_as3(settings: Settings, expid: str) -> bool:
    """The reference's layout rule: `conf/expdef_<expid>.conf` exists (A.8)."""
    return exp_files.is_as3_layout(settings, expid)


def _filtered(config: Mapping[str, Any], as3: bool) -> Dict[str, Any]:
    return {key: value for key, value in config.items() if not as3 or key.lower() in AS3_KEYS}


def _text(value: Any) -> Optional[str]:
    return None if value is None or value == "" else str(value)


def hpc_root_dir(expid: str, config: Mapping[str, Any]) -> Optional[str]:
    """The experiment's directory on its HPCARCH platform, as Autosubmit places it: under
    `LOCAL_ROOT_DIR/<expid>/LOCAL_TMP_DIR` on the local platform, else
    `SCRATCH_DIR/PROJECT_DIR (or PROJECT)/USER/<expid>`; None when the platform lacks those."""
    arch = config.get("HPCARCH")
    platforms = config.get("PLATFORMS")
    platforms = platforms if isinstance(platforms, dict) else {}
    platform = platforms.get(arch) if isinstance(arch, str) else None
    platform = platform if isinstance(platform, dict) else {}
    if arch == "LOCAL" or str(platform.get("TYPE", "")).lower() == "local":
        root, tmp = _text(config.get("LOCAL_ROOT_DIR")), _text(config.get("LOCAL_TMP_DIR"))
        return posixpath.join(root, expid, tmp) if root and tmp else None
    scratch = _text(platform.get("SCRATCH_DIR"))
    project = _text(platform.get("PROJECT_DIR")) or _text(platform.get("PROJECT"))
    user = _text(platform.get("USER"))
    return posixpath.join(scratch, project, user, expid) if scratch and project and user else None


def add_computed_keys(settings: Settings, expid: str, config: Dict[str, Any]) -> None:
    """The keys upstream 4.2.0 computes into an Autosubmit 4 configuration it shows:
    `HPCROOTDIR` and `HPCLOGDIR` (the experiment's directory and logs on HPCARCH) and
    `DEFAULT.DESCRIPTION` (the central database's description)."""
    root = hpc_root_dir(expid, config)
    if root is not None:
        config["HPCROOTDIR"] = root
        config["HPCLOGDIR"] = posixpath.join(root, f"LOG_{expid}")
    row = central_db.get_experiment(settings, expid)
    if row is not None and isinstance(config.get("DEFAULT"), dict):
        config["DEFAULT"]["DESCRIPTION"] = row.description


def filesystem_config(settings: Settings, expid: str) -> Dict[str, Any]:
    """`/v4/experiments/<expid>/filesystem-config`: `{"config": {..., "contains_nones"}}`."""
    require_experiment(settings, expid)
    raw = exp_config.load_config(settings, expid).raw
    as3 = is_as3(settings, expid)
    config = _filtered(copy.deepcopy(dict(raw)), as3)
    if not as3:
        add_computed_keys(settings, expid, config)
    config["contains_nones"] = contains_nones(raw)
    return {"config": config}


def _drop_expid_duplicates(config: Dict[str, Any]) -> None:
    """AS3 `[DEFAULT]` repeats EXPID in every expdef section: keep it only in `experiment`."""
    exp = config.get("exp")
    if isinstance(exp, dict):
        for name, section in exp.items():
            if name != "experiment" and isinstance(section, dict):
                section.pop("EXPID", None)


def differences(base: Mapping[str, Any], other: Mapping[str, Any]) -> List[str]:
    """Keys of `base` whose values differ in `other` (one-sided), nested keys dotted.

    A str/int pair is compared as text (`"1"` equals `1`); keys only in `other` are not
    reported. Sorted, where the reference's order came from a set (Q40).
    """
    found = set()
    for key, value in base.items():
        theirs = other.get(key)
        if isinstance(value, dict) and isinstance(theirs, dict):
            nested = differences(value, theirs)
            if nested:
                found.add(key)
            found.update(f"{key}.{sub}" for sub in nested)
        elif (isinstance(value, str) and isinstance(theirs, int)) or (
            isinstance(value, int) and isinstance(theirs, str)
        ):
            if str(value) != str(theirs):
                found.add(key)
        elif value != theirs:
            found.add(key)
    return sorted(found)


def current_config(settings: Settings, expid: str) -> Dict[str, Any]:
    """`/cconfig/<expid>`: newest run's saved configuration against the files on disk."""
    answer = {"error": False, "error_message": "", "warning": False, "warning_message": ""}
    run_config: Dict[str, Any] = {}
    fs_config: Dict[str, Any] = {}
    try:
        require_experiment(settings, expid)
        as3 = is_as3(settings, expid)
        history = job_data.load_history(settings, expid, optional=True)
        run = history.max_run if history is not None and history.user_version >= MIN_RUN_VERSION else None
        metadata = parse_metadata(run.metadata) if run is not None else {}
        if metadata:
            run_config = _filtered(metadata, as3)
        run_config["contains_nones"] = contains_nones(metadata)
        try:
            raw = copy.deepcopy(dict(exp_config.load_config(settings, expid).raw))
        except APIError as exc:
            answer["warning"] = True
            answer["warning_message"] = (
                f"The filesystem system configuration can't be retrieved because '{exc.message}'"
            )
            fs_config["contains_nones"] = True
        else:
            if raw:
                fs_config = _filtered(raw, as3)
            fs_config["contains_nones"] = contains_nones(raw)
        _drop_expid_duplicates(run_config)
        _drop_expid_duplicates(fs_config)
    except APIError as exc:
        answer["error"] = True
        answer["error_message"] = exc.message
        run_config = {"contains_nones": True}
        fs_config = {"contains_nones": True}
    # Compared before the computed keys are added: a run's saved configuration never has
    # them, and `differences` keeps 4.0.1's values.
    diffs = differences(fs_config, run_config)
    if not answer["error"] and not answer["warning"] and not as3 and len(fs_config) > 1:
        add_computed_keys(settings, expid, fs_config)
    answer.update(
        {
            "configuration_current_run": run_config,
            "configuration_filesystem": fs_config,
            "are_equal": not diffs,
            "differences": diffs,
        }
    )
    return answer
