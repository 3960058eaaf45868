"""The AS4 merge (docs/data.md A.8.2): every `conf/*.yml|*.yaml`, `minimal.yml` only filling
gaps, DEFAULT.CUSTOM_CONFIG PRE/POST files and directories, placeholders and loops, the
synthetic ROOTDIR/PROJDIR/site/HPC* keys; the result matches the anchor's
`filesystem-config`.
"""

from __future__ import annotations

import collections.abc
import copy
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError
from autosubmit_api.readers import confined
from autosubmit_api.readers.exp_config.config_files import Budget, read_config_text, read_yaml_file
from autosubmit_api.readers.exp_config.expansion import expand_loops, substitute, substitute_text
from autosubmit_api.readers.exp_config.model import project_destination
from autosubmit_api.readers.exp_config.normalize import deep_update, dict_at, normalize_data
from autosubmit_api.readers.exp_config.site_keys import site_keys


def _split_paths(text: str) -> List[str]:
    return text.split(",") if "," in text else text.split(" ")


def _custom_directive(directive: Any) -> Dict[str, List[str]]:
    files: Dict[str, List[str]] = {"PRE": [], "POST": []}
    if isinstance(directive, str):
        if directive:
            files["PRE"] = _split_paths(directive)
    elif isinstance(directive, dict):
        for part in ("PRE", "POST"):
            value = directive.get(part, "")
            if isinstance(value, str) and value:
                files[part] = _split_paths(value)
    return files


def _yaml_files(folder: Path, ignore_minimal: bool = False) -> List[Path]:
    try:
        entries = [p.resolve() for p in folder.iterdir()]
    except OSError:
        return []
    return sorted(
        p
        for p in entries
        if p.suffix in (".yml", ".yaml")
        and p.is_file()
        and not (ignore_minimal and p.name.endswith(("minimal.yml", "minimal.yaml")))
    )


class AS4Merge:
    """One run of the merge; keeps the files read (for the cache) and the loader state."""

    def __init__(self, exp_dir: Path, expid: str, settings: Settings):
        self.exp_dir = exp_dir
        self.expid = expid
        self.settings = settings
        self.loaded: Dict[str, bool] = {}  # custom-config paths already loaded
        self.read: Dict[str, None] = {}  # every file or directory read, in order
        self.misc: List[Path] = []
        self.starter: Dict[str, Any] = {}
        self.budget = Budget()  # shared by every YAML file of this configuration
        self.parsed: Dict[str, Any] = {}

    def _name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.exp_dir))
        except ValueError:
            return path.name

    def parse_file(self, path: Path) -> Dict[str, Any]:
        """The file's YAML, parsed once per merge (the merge reads conf/ twice) and charged
        to the configuration's budget; a copy, because the merge changes what it is given."""
        self.read[str(path)] = None
        if str(path) not in self.parsed:
            self.parsed[str(path)] = read_yaml_file(self.settings, str(path), self._name(path), self.budget)
        return copy.deepcopy(self.parsed[str(path)])

    def unify(self, current: Any, new: Mapping[str, Any], special: bool = False) -> Dict[str, Any]:
        current = deep_update(current, new)
        current = substitute(current, special)
        return expand_loops(current)

    def load_file(self, current: Dict[str, Any], path: Path, load_misc: bool = False) -> Dict[str, Any]:
        data = normalize_data(self.parse_file(path), must_exist=False)
        if data.get("AS_MISC", False) and not load_misc:
            self.misc.append(path)
            data = {}
        return self.unify(current, data)

    def common(self, data: Dict[str, Any]) -> Dict[str, Any]:
        data["ROOTDIR"] = str(self.exp_dir)
        project = dict_at(data, "PROJECT")
        data["PROJDIR"] = os.path.join(
            str(self.exp_dir), "proj", str(project.get("PROJECT_DESTINATION", "project_files"))
        )
        return data

    def load_custom(self, current: Dict[str, Any], names: List[str]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        pre: Dict[str, Any] = {}
        post: Dict[str, Any] = {}
        for name in names:
            name = name.strip(", ")
            if name.startswith("~"):
                name = os.path.expanduser(name)
            # As in Autosubmit, the starter set is updated in place here: this is how
            # AS_TEMP.FILENAME_TO_LOAD ends up in the result (an observable anchor quirk).
            aux = self.unify(self.starter, current)
            self.starter = aux
            aux["AS_TEMP"] = {"FILENAME_TO_LOAD": name}
            resolved = substitute_text(name, aux, special=False)
            aux["AS_TEMP"]["FILENAME_TO_LOAD"] = resolved
            path = Path(resolved)
            if not path.is_absolute():
                # Relative custom paths are relative to the experiment directory, never to
                # the server's working directory.
                path = self.exp_dir / path
            if not (path.is_dir() or path.is_file()) or str(path) in self.loaded:
                continue
            self.loaded[str(path)] = True
            self.read[str(path)] = None
            if path.is_dir():
                pre, post = self.load_custom(copy.deepcopy(current), [str(p) for p in _yaml_files(path)])
                current = self.unify(pre, current)
                current = self.unify(current, post)
            else:
                current = self.unify(current, self.load_file(current, path))
                default = dict_at(current, "DEFAULT")
                level = _custom_directive(default.get("CUSTOM_CONFIG"))
                if default.get("CUSTOM_CONFIG") is not None:
                    del default["CUSTOM_CONFIG"]
                level = {k: [n for n in v if n not in self.loaded] for k, v in level.items()}
                if level["PRE"]:
                    pre = self.unify(pre, self.load_section(copy.deepcopy(current), level["PRE"]))
                else:
                    pre = current
                current = self.unify(pre, current)
                if level["POST"]:
                    post = self.unify(post, self.unify(current, self.load_section(current, level["POST"])))
                else:
                    post = current
        return pre, post

    def load_section(self, current: Dict[str, Any], names: List[str]) -> Dict[str, Any]:
        pre, post = self.load_custom(current, names)
        return self.unify(self.unify(pre, current), post)

    def run(self) -> Dict[str, Any]:
        conf = self.exp_dir / "conf"
        starter: Dict[str, Any] = {}
        for path in _yaml_files(conf):
            starter = self.unify(starter, self.load_file(starter, path))
        for key, value in os.environ.items():
            if key.startswith("AS_ENV"):
                starter[key] = value
        starter["AS_ENV_CURRENT_USER"] = os.environ.get("SUDO_USER", os.environ.get("USER"))
        self.starter = self.common(starter)

        non_minimal: Dict[str, Any] = {}
        for path in _yaml_files(conf, ignore_minimal=True):
            non_minimal = self.unify(non_minimal, self.load_file(non_minimal, path))
        non_minimal = self.common(non_minimal)

        default = dict_at(self.starter, "DEFAULT")
        names = _custom_directive(default.get("CUSTOM_CONFIG"))
        pre = self.load_section({}, names["PRE"])
        data = self.load_section(self.unify(pre, non_minimal), names["POST"])
        data.pop("AS_TEMP", None)
        _add_missing(data, self.starter)
        data["ROOTDIR"] = str(self.exp_dir)
        data["PROJDIR"] = os.path.join(str(self.exp_dir), "proj", project_destination(data))
        data.update(site_keys(self.settings))
        data = normalize_data(data, must_exist=True)
        data = substitute(data, special=True)
        data = expand_loops(data)
        data.setdefault("AUTOSUBMIT", {})
        default = dict_at(data, "DEFAULT")
        hpcarch = default.get("HPCARCH", "LOCAL")
        platforms = dict_at(data, "PLATFORMS")
        platform = platforms.get(hpcarch) if isinstance(hpcarch, str) else None
        if isinstance(platform, dict):
            for name, value in platform.items():
                data[f"HPC{name}"] = value
        data["HPCARCH"] = hpcarch
        commit = self._workflow_commit(data)
        if commit and isinstance(data["AUTOSUBMIT"], dict):
            data["AUTOSUBMIT"]["WORKFLOW_COMMIT"] = commit
        return data

    def _workflow_commit(self, data: Dict[str, Any]) -> Optional[str]:
        """HEAD of proj/<dest>/.git when the server user owns the experiment, as Autosubmit
        adds it; read from the files (no `git` subprocess)."""
        try:
            if self.exp_dir.owner() != os.environ.get("USER"):
                return None
        except (KeyError, OSError):
            return None
        project = dict_at(data, "PROJECT")
        git = self.exp_dir / "proj" / str(project.get("PROJECT_DESTINATION", "git_project")) / ".git"

        def read(path: Path) -> str:
            return read_config_text(self.settings, path, path.name)

        try:
            head = read(git / "HEAD").strip()
            if head.startswith("ref: "):
                ref = head[5:].strip()
                ref_file = git / ref
                if ref_file.is_file():
                    return read(ref_file).strip()
                for line in read(git / "packed-refs").splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[1] == ref:
                        return parts[0]
                return None
            return head or None
        except (OSError, UnicodeDecodeError, DataError, confined.Refused):
            return None


def _add_missing(data: Dict[str, Any], starter: Mapping[str, Any]) -> Dict[str, Any]:
    for key, value in starter.items():
        if key not in data:
            data[key] = value
        elif isinstance(value, collections.abc.Mapping) and isinstance(data[key], dict):
            _add_missing(data[key], value)
    return data
