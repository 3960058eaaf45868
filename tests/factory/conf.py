"""Writes an experiment's `conf/` directory (docs/data.md A.8) as Autosubmit 4 YAML or 3 INI.

AS4 (default): the files `autosubmit create` leaves, as in fixtures a007/a6zj:
`autosubmit_<expid>.yml` (CONFIG, MAIL, STORAGE, WRAPPERS), `expdef_<expid>.yml` (DEFAULT,
EXPERIMENT, PROJECT, GIT, SVN, LOCAL, PROJECT_FILES, RERUN), `jobs_<expid>.yml` (JOBS),
`platforms_<expid>.yml` (PLATFORMS) and `proj_<expid>.yml` for any other top-level key.
`config` is deep-merged over a realistic default; a value `DELETE` removes a default key.
`files={name: text}` writes extra raw files (e.g. a `minimal.yml` with a custom tag or a
`metadata/experiment_data.yml`), relative to `conf/`.

AS3 (`as3=True`): `autosubmit_`, `expdef_`, `jobs_`, `platforms_`, `proj_<expid>.conf`
INI files, as in fixture a3tb. `config` then uses the keys of the "full config" shape
(`conf`, `exp`, `jobs`, `platforms`, `proj`), each `{section: {option: value}}`, merged
over the defaults; a file key set to `None` leaves that file out.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import yaml


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()

AS4_FILES = {
    "autosubmit": ("CONFIG", "MAIL", "STORAGE", "WRAPPERS"),
    "expdef": ("DEFAULT", "EXPERIMENT", "PROJECT", "GIT", "SVN", "LOCAL", "PROJECT_FILES", "RERUN"),
    "jobs": ("JOBS",),
    "platforms": ("PLATFORMS",),
}


def default_as4_config(expid: str) -> Dict[str, Any]:
    return {
        "CONFIG": {
            "AUTOSUBMIT_VERSION": "4.1.12",
            "MAXWAITINGJOBS": 20,
            "TOTALJOBS": 20,
            "SAFETYSLEEPTIME": 10,
            "RETRIALS": 0,
        },
        "MAIL": {"NOTIFICATIONS": False, "TO": None},
        "STORAGE": {"TYPE": "pkl", "COPY_REMOTE_LOGS": True},
        "DEFAULT": {"EXPID": expid, "HPCARCH": "MARENOSTRUM4"},
        "EXPERIMENT": {
            "DATELIST": "20000101",
            "MEMBERS": "fc0",
            "CHUNKSIZEUNIT": "month",
            "CHUNKSIZE": 1,
            "NUMCHUNKS": 2,
            "CHUNKINI": "",
            "CALENDAR": "standard",
        },
        "PROJECT": {"PROJECT_TYPE": "git", "PROJECT_DESTINATION": "git_project"},
        "GIT": {
            "PROJECT_ORIGIN": "https://earth.bsc.es/gitlab/es/auto-example.git",
            "PROJECT_BRANCH": "main",
            "PROJECT_COMMIT": "",
            "PROJECT_SUBMODULES": "",
            "FETCH_SINGLE_BRANCH": True,
        },
        "SVN": {"PROJECT_URL": "", "PROJECT_REVISION": ""},
        "LOCAL": {"PROJECT_PATH": ""},
        "PROJECT_FILES": {"FILE_PROJECT_CONF": "", "FILE_JOBS_CONF": "", "JOB_SCRIPTS_TYPE": ""},
        "RERUN": {"RERUN": False, "RERUN_JOBLIST": ""},
        "PLATFORMS": {
            "MARENOSTRUM4": {
                "TYPE": "slurm",
                "HOST": "mn1.bsc.es",
                "PROJECT": "bsc32",
                "USER": "tester",
                "QUEUE": "debug",
                "SCRATCH_DIR": "/gpfs/scratch",
                "ADD_PROJECT_TO_HOST": False,
                "MAX_WALLCLOCK": "48:00",
                "PROCESSORS_PER_NODE": 48,
            },
        },
        # The sections and settings of factory.workflow.SECTIONS, so the default config
        # describes the default job list.
        "JOBS": {
            "LOCAL_SETUP": {"FILE": "LOCAL_SETUP.sh", "PLATFORM": "LOCAL", "RUNNING": "once", "WALLCLOCK": "00:05"},
            "REMOTE_SETUP": {
                "FILE": "REMOTE_SETUP.sh",
                "DEPENDENCIES": "LOCAL_SETUP",
                "WALLCLOCK": "00:10",
                "RUNNING": "once",
            },
            "INI": {"FILE": "INI.sh", "DEPENDENCIES": "REMOTE_SETUP", "RUNNING": "member", "WALLCLOCK": "00:30"},
            "SIM": {
                "FILE": "SIM.sh",
                "DEPENDENCIES": "INI SIM-1",
                "RUNNING": "chunk",
                "WALLCLOCK": "02:00",
                "PROCESSORS": 48,
                "QUEUE": "bsc_es",
                "THREADS": 1,
                "TASKS": 48,
                "NODES": 1,
            },
            "POST": {
                "FILE": "POST.sh",
                "DEPENDENCIES": "SIM",
                "RUNNING": "chunk",
                "WALLCLOCK": "00:20",
                "PROCESSORS": 1,
            },
            "CLEAN": {
                "FILE": "CLEAN.sh",
                "DEPENDENCIES": "POST",
                "RUNNING": "member",
                "PLATFORM": "LOCAL",
                "WALLCLOCK": "00:05",
            },
        },
    }


def default_as3_config(expid: str) -> Dict[str, Optional[Dict[str, Dict[str, str]]]]:
    return {
        "conf": {
            "config": {
                "EXPID": expid,
                "AUTOSUBMIT_VERSION": "3.13.0",
                "MAXWAITINGJOBS": "20",
                "TOTALJOBS": "20",
                "SAFETYSLEEPTIME": "10",
                "RETRIALS": "0",
            },
            "mail": {"NOTIFICATIONS": "False", "TO": ""},
        },
        "exp": {
            "DEFAULT": {"EXPID": expid, "HPCARCH": "marenostrum4"},
            "experiment": {
                "DATELIST": "19930101 19930501",
                "MEMBERS": "fc01",
                "CHUNKSIZEUNIT": "month",
                "CHUNKSIZE": "1",
                "NUMCHUNKS": "3",
                "CALENDAR": "standard",
            },
            "rerun": {"RERUN": "FALSE", "CHUNKLIST": ""},
            "project": {"PROJECT_TYPE": "git", "PROJECT_DESTINATION": "auto-ecearth3"},
            "git": {
                "PROJECT_ORIGIN": "https://earth.bsc.es/gitlab/es/auto-ecearth3.git",
                "PROJECT_BRANCH": "trunk",
                "PROJECT_COMMIT": "",
            },
            "svn": {"PROJECT_URL": "", "PROJECT_REVISION": ""},
            "local": {"PROJECT_PATH": ""},
            "project_files": {"FILE_PROJECT_CONF": "templates/proj.conf", "FILE_JOBS_CONF": ""},
        },
        "jobs": {
            "LOCAL_SETUP": {"FILE": "templates/localsetup.tmpl.sh", "PLATFORM": "LOCAL"},
            "REMOTE_SETUP": {
                "FILE": "templates/compilation.sh",
                "DEPENDENCIES": "LOCAL_SETUP",
                "WALLCLOCK": "2:00",
                "PROCESSORS": "4",
            },
            "INI": {
                "FILE": "templates/ini.tmpl.sh",
                "DEPENDENCIES": "REMOTE_SETUP",
                "RUNNING": "member",
                "WALLCLOCK": "00:30",
                "QUEUE": "debug",
            },
            "SIM": {
                "FILE": "templates/sim.sh",
                "DEPENDENCIES": "INI SIM-1",
                "RUNNING": "chunk",
                "WALLCLOCK": "1:30",
                "PROCESSORS": "768",
                "TASKS": "48",
                "THREADS": "1",
                "QUEUE": "debug",
            },
            "POST": {
                "FILE": "templates/post.sh",
                "DEPENDENCIES": "SIM",
                "RUNNING": "chunk",
                "WALLCLOCK": "00:30",
                "PROCESSORS": "1",
            },
        },
        "platforms": {
            "marenostrum4": {
                "TYPE": "slurm",
                "HOST": "mn1.bsc.es",
                "PROJECT": "bsc32",
                "USER": "tester",
                "QUEUE": "bsc_es",
                "SCRATCH_DIR": "/gpfs/scratch",
                "ADD_PROJECT_TO_HOST": "false",
                "MAX_WALLCLOCK": "48:00",
            },
            "transfer_node": {
                "TYPE": "ps",
                "HOST": "dt01.bsc.es",
                "PROJECT": "bsc32",
                "USER": "tester",
                "SCRATCH_DIR": "/gpfs/scratch",
            },
        },
        "proj": {"common": {"MODEL": "ecearth", "VERSION": "trunk"}},
    }


def deep_merge(base: Dict[str, Any], overlay: Mapping[str, Any]) -> Dict[str, Any]:
    """Mappings merge recursively, anything else replaces; DELETE removes the key."""
    result = copy.deepcopy(base)
    for key, value in overlay.items():
        if value is DELETE:
            result.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(dict(value)) if isinstance(value, Mapping) else copy.deepcopy(value)
    return result


def _write_as4(conf: Path, expid: str, config: Dict[str, Any]) -> None:
    placed = set()
    for stem, keys in AS4_FILES.items():
        part = {k: config[k] for k in keys if k in config}
        placed.update(part)
        if part:
            (conf / f"{stem}_{expid}.yml").write_text(yaml.safe_dump(part, sort_keys=False, default_flow_style=False))
    rest = {k: v for k, v in config.items() if k not in placed}
    if rest:
        (conf / f"proj_{expid}.yml").write_text(yaml.safe_dump(rest, sort_keys=False, default_flow_style=False))


def _ini_text(sections: Mapping[str, Mapping[str, Any]]) -> str:
    lines = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        for option, value in options.items():
            lines.append(f"{option} = {value}")
        lines.append("")
    return "\n".join(lines)


AS3_FILES = {"conf": "autosubmit", "exp": "expdef", "jobs": "jobs", "platforms": "platforms", "proj": "proj"}


def write_config(
    exp_dir: Union[str, os.PathLike],
    expid: str,
    config: Optional[Mapping[str, Any]] = None,
    as3: bool = False,
    *,
    files: Optional[Mapping[str, str]] = None,
    defaults: bool = True,
) -> Path:
    """Write `<exp_dir>/conf/`; returns that directory. See the module docstring."""
    conf = Path(exp_dir) / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    if as3:
        base: Dict[str, Any] = default_as3_config(expid) if defaults else {}
        merged = deep_merge(base, config or {})
        for key, stem in AS3_FILES.items():
            sections = merged.get(key)
            if sections is not None:
                (conf / f"{stem}_{expid}.conf").write_text(_ini_text(sections))
    else:
        merged = deep_merge(default_as4_config(expid) if defaults else {}, config or {})
        if merged:
            _write_as4(conf, expid, merged)
    for name, text in (files or {}).items():
        target = conf / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return conf


# --- Hostile configuration files (issue 14: what an experiment's owner could write) ---------


def aliased_string_yaml(length: int, copies: int) -> str:
    """One `length`-character string anchored once and aliased `copies` times: a small file
    whose value, once expanded, is `length * copies` characters (5,000 x 900,000 is the
    2.8 MB file that took a worker to 4.8 GB; 1,000 x 100,000 a 301 KB, 100 MB answer)."""
    return "BOMB:\n  TEXT: &s " + "x" * length + "\n  COPIES: [" + ",".join(["*s"] * copies) + "]\n"


def nested_alias_yaml(levels: int = 9, width: int = 10) -> str:
    """The "billion laughs": each level a list of `width` aliases of the level below."""
    lines = ["  l0: &l0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "LAUGHS:\n" + "\n".join(lines) + "\n"


def many_values_yaml(count: int) -> str:
    """`count` tiny values in one flow list: the cheapest bytes per value YAML allows, so
    the slowest text to parse per byte."""
    return "MANY: [" + ",".join(["a"] * count) + "]\n"


def placeholder_chain_yaml(levels: int = 30) -> str:
    """`%KEY%` placeholders that double a value at each level (2**levels characters once
    substituted): the merge's own expansion, no alias needed."""
    lines = [f"  K{i}: '%CHAIN.K{i + 1}%%CHAIN.K{i + 1}%'" for i in range(levels)]
    return "CHAIN:\n" + "\n".join(lines) + f"\n  K{levels}: x\n"


def for_loop_yaml(names: int, body_values: int, copies: int = 10) -> str:
    """A job section with a `FOR:` over `names` names whose body holds `copies` aliases of
    a list of `body_values` strings: every name copies the whole body."""
    values = ",".join(["x" * 10] * body_values)
    aliases = ", ".join(["*b"] * copies)
    name_list = ",".join(f"n{i}" for i in range(names))
    return f"BIG: &b [{values}]\nJOBS:\n  LOOPED:\n    FOR:\n      NAME: [{name_list}]\n    DATA: [{aliases}]\n"
