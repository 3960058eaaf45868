"""Loading an experiment's configuration: the layout chosen (AS3 INI or AS4 YAML), parsed once
and cached by the identity (path, mtime, size) of every file and directory that went into it.
Errors: no `conf/` directory -> NotFound; a file that cannot be read or parsed -> DataError
naming the file (relative to the experiment directory).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from autosubmit_api import cache_registry
from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError, NotFound
from autosubmit_api.models import ExperimentConfig
from autosubmit_api.readers import cache, exp_files, paths
from autosubmit_api.readers.exp_config.as3_ini import load_as3
from autosubmit_api.readers.exp_config.as4_merge import AS4Merge
from autosubmit_api.readers.exp_config.config_files import ConfigRefused, read_yaml_file
from autosubmit_api.readers.exp_config.model import as3_model, as4_model


_deps_lock = threading.Lock()
_last_deps: Dict[str, Tuple[str, ...]] = {}  # conf dir -> files read by its last parse


def _clear_deps() -> None:
    with _deps_lock:
        _last_deps.clear()


cache_registry.register(
    "readers.exp_config.last_deps", bound="one per experiment", entries=lambda: len(_last_deps), clear=_clear_deps
)


def _identity(paths_: Any) -> Tuple[Any, ...]:
    return tuple((p, cache.file_key(p)) for p in paths_)


class _Refused:
    """A configuration refused for its content, kept in the cache like a result so that
    asking again does not parse its files again until one of them changes."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


def _parse(settings: Settings, expid: str, exp_dir: Path) -> Union[ExperimentConfig, _Refused]:
    conf = exp_dir / "conf"
    if exp_files.is_as3_layout(settings, expid):
        raw, read = load_as3(settings, exp_dir, expid)
        model = as3_model(expid, raw, tuple(os.path.relpath(p, exp_dir) for p in read))
    else:
        merge = AS4Merge(exp_dir, expid, settings)
        try:
            raw = merge.run()
        except ConfigRefused as exc:
            # Remembered under the identity of the files read so far, like a result.
            with _deps_lock:
                _last_deps[str(conf)] = tuple(merge.read)
            return _Refused(exc.message)
        read = list(merge.read)
        names = []
        for p in read:
            rel = os.path.relpath(p, exp_dir)
            names.append(os.path.basename(p) if rel.startswith("..") else rel)
        model = as4_model(expid, raw, tuple(names))
    with _deps_lock:
        _last_deps[str(conf)] = tuple(read)
    return model


def load_config(settings: Settings, expid: str) -> ExperimentConfig:
    """The experiment's configuration (AS3 or AS4), cached by the files it was read from."""
    exp_dir = Path(paths.exp_dir(settings, expid))
    conf = exp_dir / "conf"
    if not conf.is_dir():
        raise NotFound(f"Experiment {expid} has no conf directory")
    try:
        listing = sorted(str(p) for p in conf.iterdir())
    except OSError as exc:
        raise DataError(f"conf directory of {expid} cannot be listed: {type(exc).__name__}") from None
    with _deps_lock:
        deps = _last_deps.get(str(conf), ())
    site = (
        settings.local_root_dir,
        settings.db_dir,
        settings.db_file,
        settings.jobdata_dir,
        settings.structures_dir,
        settings.historical_log_dir,
        settings.global_log_dir,
        settings.db_backend,
        settings.db_connection_url,
        settings.rc_path,
    )
    base = (str(conf), cache.file_key(str(conf)), _identity(listing))
    result = cache.cached("exp_config", base + (_identity(deps), site), lambda: _parse(settings, expid, exp_dir))
    with _deps_lock:
        read = _last_deps.get(str(conf), ())
    if read != deps:
        # First parse (or the set of custom files changed): file the result under the
        # identity of the files it actually read, which is what the next call will ask for.
        cache.cached("exp_config", base + (_identity(read), site), lambda: result)
    if isinstance(result, _Refused):
        raise ConfigRefused(result.message)
    return result


def load_metadata_config(settings: Settings, expid: str) -> Optional[Dict[str, Any]]:
    """`conf/metadata/experiment_data.yml`: the merged configuration Autosubmit >= 4.1 saved
    at its last run/create (docs/data.md A.8.2), None when absent. Not part of `load_config`,
    which, like the anchor, ignores subdirectories of conf/."""
    path = paths.experiment_data_yml(settings, expid)

    def parse(p: str) -> Dict[str, Any]:
        data = read_yaml_file(settings, p, "conf/metadata/experiment_data.yml")
        return data if isinstance(data, dict) else {}

    try:
        return cache.cached_file("exp_config_metadata", path, parse)
    except FileNotFoundError:
        return None
