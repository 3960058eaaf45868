"""The typed `ExperimentConfig` the services use (docs/data.md A.8.3), built from the raw merged
data of either layout: chunk unit and size, HPCARCH, sections, platforms, wrappers, version.
"""

from __future__ import annotations

import collections.abc
import os
from typing import Any, Dict, Mapping, Optional, Tuple

from autosubmit_api.models import ExperimentConfig, PlatformConfig, SectionConfig
from autosubmit_api.readers.exp_config.normalize import dict_at


def _get(data: Any, *keys: str, default: Any = "") -> Any:
    """Nested lookup where None and empty strings/containers count as missing (get_section)."""
    value = data
    for key in keys:
        if not isinstance(value, collections.abc.Mapping):
            return default
        value = value.get(key)
    if value is None or (not isinstance(value, (int, float)) and hasattr(value, "__len__") and len(value) == 0):
        return default
    return value


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as4_model(expid: str, raw: Dict[str, Any], files: Tuple[str, ...]) -> ExperimentConfig:
    hpcarch = str(_get(raw, "DEFAULT", "HPCARCH", default="")).upper()
    platforms_raw = dict_at(raw, "PLATFORMS")
    platforms = {}
    for name, body in platforms_raw.items():
        if not isinstance(body, dict):
            continue
        platforms[name] = PlatformConfig(
            name=name,
            type=str(_get(body, "TYPE")),
            queue=_str_or_none(_get(body, "QUEUE", default=None)),
            serial_queue=_str_or_none(_get(body, "SERIAL_QUEUE", default=None)),
            max_wallclock=str(_get(body, "MAX_WALLCLOCK")),
            processors=str(_get(body, "PROCESSORS")),
            raw=body,
        )
    sections = {}
    jobs = dict_at(raw, "JOBS")
    for name, body in jobs.items():
        if not isinstance(body, dict):
            continue
        platform = str(_get(body, "PLATFORM", default=hpcarch)).upper()
        plat = dict_at(platforms_raw, platform)

        def pick(key: str, default: Any, body: Dict[Any, Any] = body, plat: Dict[Any, Any] = plat) -> Any:
            return body.get(key) or plat.get(key) or default

        exclusive = pick("EXCLUSIVE", False)
        sections[name] = SectionConfig(
            name=name,
            processors=str(pick("PROCESSORS", "1")),
            platform=platform,
            queue=str(_get(body, "QUEUE")),
            wallclock=str(_get(body, "WALLCLOCK")),
            tasks=str(pick("TASKS", "")),
            threads=str(_get(body, "THREADS", default="1")),
            nodes=str(pick("NODES", "")),
            processors_per_node=str(pick("PROCESSORS_PER_NODE", "")),
            exclusive=exclusive if isinstance(exclusive, bool) else False,
        )
    wrappers = dict_at(raw, "WRAPPERS")
    version = _get(raw, "CONFIG", "AUTOSUBMIT_VERSION", default="")
    return ExperimentConfig(
        expid=expid,
        layout="AS4",
        raw=raw,
        files=files,
        autosubmit_version=str(version),
        hpcarch=hpcarch,
        chunk_unit=str(_get(raw, "EXPERIMENT", "CHUNKSIZEUNIT")),
        chunk_size=_as_int(_get(raw, "EXPERIMENT", "CHUNKSIZE", default=1), 1),
        datelist=_get(raw, "EXPERIMENT", "DATELIST"),
        members=_get(raw, "EXPERIMENT", "MEMBERS"),
        num_chunks=_get(raw, "EXPERIMENT", "NUMCHUNKS"),
        calendar=str(_get(raw, "EXPERIMENT", "CALENDAR")),
        project_type=str(_get(raw, "PROJECT", "PROJECT_TYPE")).lower(),
        git_origin=str(_get(raw, "GIT", "PROJECT_ORIGIN")),
        git_branch=str(_get(raw, "GIT", "PROJECT_BRANCH", default="master")),
        git_commit=str(_get(raw, "GIT", "PROJECT_COMMIT")),
        project_destination=project_destination(raw),
        svn_url=str(_get(raw, "SVN", "PROJECT_URL")),
        safety_sleep_time=_as_int(_get(raw, "CONFIG", "SAFETYSLEEPTIME", default=10), 10),
        wrapper_type=None,  # the anchor's getter always yields None for AS4 (docs/data.md A.8)
        wrapper_types=tuple(str(w.get("TYPE", "vertical")).lower() for w in wrappers.values() if isinstance(w, dict)),
        wrapper_queue=str(_get(raw, "WRAPPERS", "QUEUE")),
        sections=sections,
        platforms=platforms,
    )


def _str_or_none(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def as3_model(expid: str, raw: Dict[str, Any], files: Tuple[str, ...]) -> ExperimentConfig:
    conf, exp = raw.get("conf") or {}, raw.get("exp") or {}

    def opt(data: Mapping[str, Any], section: str, option: str, default: Any) -> Any:
        body = data.get(section)
        return body[option] if isinstance(body, dict) and option in body else default

    hpcarch = str(opt(exp, "experiment", "HPCARCH", opt(exp, "DEFAULT", "HPCARCH", "")))
    platforms = {}
    for name, body in (raw.get("platforms") or {}).items():
        platforms[name] = PlatformConfig(
            name=name,
            type=body.get("TYPE", ""),
            queue=body.get("QUEUE", ""),
            serial_queue=body.get("SERIAL_QUEUE", ""),
            max_wallclock=body.get("MAX_WALLCLOCK", ""),
            processors=body.get("PROCESSORS", ""),
            raw=body,
        )
    sections = {}
    for name, body in (raw.get("jobs") or {}).items():
        sections[name] = SectionConfig(
            name=name,
            processors=body.get("PROCESSORS", "1"),
            platform=body.get("PLATFORM", "") or hpcarch,
            queue=body.get("QUEUE", ""),
            wallclock=body.get("WALLCLOCK", ""),
            tasks=body.get("TASKS", ""),
            threads=body.get("THREADS", "1"),
            nodes=body.get("NODES", ""),
            processors_per_node=body.get("PROCESSORS_PER_NODE", ""),
            exclusive=str(body.get("EXCLUSIVE", "")).lower() == "true",
        )
    wrapper_type = str(opt(conf, "wrapper", "TYPE", "none")).lower()
    return ExperimentConfig(
        expid=expid,
        layout="AS3",
        raw=raw,
        files=files,
        autosubmit_version=str(opt(conf, "config", "AUTOSUBMIT_VERSION", "None")),
        hpcarch=hpcarch,
        chunk_unit=str(opt(exp, "experiment", "CHUNKSIZEUNIT", "")).lower(),
        chunk_size=_as_int(opt(exp, "experiment", "CHUNKSIZE", 1) or 1, 1),
        datelist=opt(exp, "experiment", "DATELIST", ""),
        members=opt(exp, "experiment", "MEMBERS", ""),
        num_chunks=opt(exp, "experiment", "NUMCHUNKS", ""),
        calendar=str(opt(exp, "experiment", "CALENDAR", "")),
        project_type=str(opt(exp, "project", "PROJECT_TYPE", "na")).lower(),
        git_origin=str(opt(exp, "git", "PROJECT_ORIGIN", "")),
        git_branch=str(opt(exp, "git", "PROJECT_BRANCH", "master")),
        git_commit=str(opt(exp, "git", "PROJECT_COMMIT", "")),
        project_destination=str(opt(exp, "project", "PROJECT_DESTINATION", "")),
        svn_url=str(opt(exp, "svn", "PROJECT_URL", "NA")),
        safety_sleep_time=_as_int(opt(conf, "config", "SAFETYSLEEPTIME", 10), 10),
        wrapper_type=wrapper_type,
        wrapper_types=(wrapper_type,) if wrapper_type != "none" else (),
        wrapper_queue=str(opt(conf, "wrapper", "QUEUE", "")),
        sections=sections,
        platforms=platforms,
    )


def project_destination(data: Mapping[str, Any]) -> str:
    project = dict_at(data, "PROJECT")
    value = project.get("PROJECT_DESTINATION", "project_files")
    if not value:
        kind = str(project.get("PROJECT_TYPE", "")).lower()
        if kind == "local":
            value = os.path.split(str(_get(data, "LOCAL", "PROJECT_PATH", default="")))[-1]
        elif kind == "svn":
            value = str(_get(data, "SVN", "PROJECT_URL", default="")).split("/")[-1]
        elif kind == "git":
            value = str(_get(data, "GIT", "PROJECT_ORIGIN", default="")).split("/")[-1]
            if "." in value:
                value = value.split(".")[-2]
    return str(value or "")
