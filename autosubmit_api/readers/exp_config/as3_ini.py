"""The Autosubmit 3 layout (docs/data.md A.8.1): the INI files `autosubmit_`, `expdef_`,
`platforms_`, `jobs_` (required) and `proj_` (optional) of `conf/`.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any, Dict, List, Tuple

from autosubmit_api.config import KeepCaseParser, Settings
from autosubmit_api.errors import DataError
from autosubmit_api.readers.exp_config.config_files import read_config_text


AS3_FILES = (
    ("conf", "autosubmit", True),
    ("exp", "expdef", True),
    ("platforms", "platforms", True),
    ("jobs", "jobs", True),
    ("proj", "proj", False),
)


def _read_ini(settings: Settings, path: Path, name: str) -> configparser.ConfigParser:
    parser = KeepCaseParser(strict=False)  # Autosubmit keeps option case
    try:
        parser.read_string(read_config_text(settings, path, name), source=name)
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        # configparser messages quote the full path; keep only the name (Q39).
        raise DataError(f"{name} cannot be parsed: {first.replace(str(path), name)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{name} cannot be read: {type(exc).__name__}") from None
    return parser


def _ini_get(parser: configparser.ConfigParser, section: str, option: str) -> str:
    try:
        return parser.get(section, option)
    except configparser.InterpolationError:
        # A lone `%` breaks the anchor's lookup; we give the raw text instead.
        return parser.get(section, option, raw=True)


def _ini_dict(parser: configparser.ConfigParser) -> Dict[str, Dict[str, str]]:
    return {s: {o: _ini_get(parser, s, o) for o in parser.options(s)} for s in parser.sections()}


def load_as3(settings: Settings, exp_dir: Path, expid: str) -> Tuple[Dict[str, Any], List[str]]:
    conf = exp_dir / "conf"
    raw: Dict[str, Any] = {}
    read: List[str] = []
    for key, stem, required in AS3_FILES:
        path = conf / f"{stem}_{expid}.conf"
        name = f"conf/{stem}_{expid}.conf"
        read.append(str(path))
        if not path.is_file():
            if required:
                raise DataError(f"Required file not found: {name}")
            raw[key] = None
            continue
        raw[key] = _ini_dict(_read_ini(settings, path, name))
    return raw, read
