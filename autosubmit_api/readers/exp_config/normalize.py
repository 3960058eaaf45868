"""Autosubmit's per-file key normalisation of an AS4 configuration and its deep merge
(docs/data.md A.8.2 step 2): upper-case keys, dependencies, FILE lists, wallclocks.
"""

from __future__ import annotations

import collections.abc
import re
from typing import Any, Dict, Mapping

_FINAL_STATUSES = ("READY", "DELAYED", "PREPARED", "SKIPPED", "FAILED", "COMPLETED")


def dict_at(data: Mapping[Any, Any], key: Any) -> Dict[Any, Any]:
    """`data[key]` when it is a dict (that very dict), else a new empty one."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _upper_keys(data: Any) -> Dict[str, Any]:
    """Every mapping key upper-cased, recursively, also inside lists; non-mappings -> {}."""
    if not isinstance(data, collections.abc.Mapping):
        return {}
    out: Dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, collections.abc.Mapping):
            value = _upper_keys(value)
        elif isinstance(value, list):
            value = [_upper_keys(v) if isinstance(v, collections.abc.Mapping) else v for v in value]
        out[str(key).upper()] = value
    return out


def _lists_to_strings(value: Any) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list):
                value[key] = ",".join(str(v) for v in item)
            elif isinstance(item, dict):
                _lists_to_strings(item)
    return value


def _normalize_dependencies(deps: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if isinstance(deps, str):
        for dep in deps.upper().split(" "):
            out[dep] = {}
    elif isinstance(deps, dict):
        for dep, data in deps.items():
            out[str(dep).upper()] = data
            if isinstance(data, dict) and isinstance(data.get("STATUS"), str) and data["STATUS"]:
                data["STATUS"] = data["STATUS"].upper()
                if not data.get("ANY_FINAL_STATUS_IS_VALID", False):
                    if data["STATUS"].endswith("?"):
                        data["STATUS"] = data["STATUS"][:-1]
                        data["ANY_FINAL_STATUS_IS_VALID"] = True
                    else:
                        data["ANY_FINAL_STATUS_IS_VALID"] = data["STATUS"] not in _FINAL_STATUSES
    return out


def normalize_data(raw: Any, must_exist: bool) -> Dict[str, Any]:
    """Autosubmit's per-file (and final) normalisation, docs/data.md A.8.2 step 2."""
    data = _upper_keys(raw)
    default = data.get("DEFAULT")
    if isinstance(default, dict):
        if isinstance(default.get("HPCARCH"), str):
            default["HPCARCH"] = default["HPCARCH"].upper()
        if "CUSTOM_CONFIG" in default:
            default["CUSTOM_CONFIG"] = _lists_to_strings(default["CUSTOM_CONFIG"])
    wrappers = data.get("WRAPPERS")
    if isinstance(wrappers, dict):
        for wrapper in wrappers.values():
            if isinstance(wrapper, dict):
                jobs = wrapper.get("JOBS_IN_WRAPPER", "")
                if isinstance(jobs, str):
                    if "[" in jobs:  # a list written as a string
                        jobs = jobs.strip("[]").replace("'", "").replace(" ", "").replace(",", " ")
                    wrapper["JOBS_IN_WRAPPER"] = jobs.upper()
                wrapper["TYPE"] = str(wrapper.get("TYPE", "vertical")).lower()
    jobs = data.get("JOBS")
    if isinstance(jobs, dict):
        for section in jobs.values():
            if not isinstance(section, dict):
                continue
            if "DEPENDENCIES" in section or must_exist:
                section["DEPENDENCIES"] = _normalize_dependencies(section.get("DEPENDENCIES", {}))
            if "CUSTOM_DIRECTIVES" in section and isinstance(section["CUSTOM_DIRECTIVES"], list):
                section["CUSTOM_DIRECTIVES"] = str(section["CUSTOM_DIRECTIVES"])
            if "FILE" in section or must_exist:
                files = section.get("FILE", "")
                if not isinstance(files, list):
                    files = str(files)
                    files = files.split(",") if "," in files else files.split(" ") if " " in files else [files]
                if files:
                    section["FILE"] = str(files[0]).strip(" ")
                    if len(files) > 1:
                        section["ADDITIONAL_FILES"] = [str(f).strip(" ") for f in files[1:]]
            if "ADDITIONAL_FILES" not in section and must_exist:
                section["ADDITIONAL_FILES"] = []
            wallclock = section.get("WALLCLOCK")
            if isinstance(wallclock, str) and re.match(r"^\d{2}:\d{2}:\d{2}$", wallclock):
                section["WALLCLOCK"] = wallclock[:5]
            notify = section.get("NOTIFY_ON")
            if notify:
                if isinstance(notify, str):
                    notify = notify.split(",") if "," in notify else notify.split()
                if isinstance(notify, list):
                    section["NOTIFY_ON"] = [str(s).strip(" ").upper() for s in notify]
    return data


def deep_update(target: Any, new: Mapping[str, Any]) -> Dict[str, Any]:
    """Merge `new` into `target` in place (Autosubmit's deep_update); returns the result."""
    merged: Dict[str, Any] = target if isinstance(target, dict) else {}
    for key, value in new.items():
        if isinstance(value, collections.abc.Mapping):
            merged[key] = deep_update(merged.get(key, {}), value)
        else:
            merged[key] = value
    return merged
