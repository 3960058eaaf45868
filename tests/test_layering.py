"""`readers/` is the only code that touches Autosubmit's files and databases; dependencies point
one way, routes -> services -> readers (design.md).

The test reads the source of routes/, services/ and workers/ and fails, naming file and line,
on any call that opens, stats, lists or connects to something, and on any import of a route
module from a service or reader, or of a service from a reader.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, List, Tuple

PACKAGE = Path(__file__).resolve().parents[1] / "autosubmit_api"

# Calls that reach the file system or a database, by their dotted name as written.
FORBIDDEN_CALLS = {
    "open", "os.open", "os.stat", "os.lstat", "os.listdir", "os.scandir", "os.walk",
    "os.path.isfile", "os.path.isdir", "os.path.exists", "os.path.getmtime", "os.path.getsize",
    "os.path.islink", "os.path.realpath", "glob.glob", "sqlite3.connect", "pickle.load",
    "pickle.loads", "shutil.copyfile", "shutil.copytree",
}
FORBIDDEN_METHODS = {"read_text", "read_bytes", "iterdir", "glob", "rglob", "is_file", "is_dir",
                     "exists", "stat"}
FORBIDDEN_IMPORTS = {"sqlite3", "pickle", "glob"}

# (file, call) pairs that touch only the API's own files, never Autosubmit's.
OWN_FILES = {
    # The scheduler publishes its metrics to a JSON file of its own in the temp directory.
    ("workers/__init__.py", "os.fdopen"),
    ("workers/__init__.py", "open"),
    # Per-site lock files of the worker lock, in the temp directory.
    ("workers/lock.py", "os.open"),
    # The package's own openapi.json, through importlib.resources.
    ("routes/root.py", "read_text"),
}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def file_accesses(rel: str, tree: ast.Module) -> List[str]:
    """`file:line: what` for each call or import of `tree` that reaches files or databases."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if (rel, name) in OWN_FILES:
                continue
            if name in FORBIDDEN_CALLS or (method in FORBIDDEN_METHODS and not name.startswith("self.")):
                found.append(f"{rel}:{node.lineno}: {name}()")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{rel}:{node.lineno}: import {n}" for n in names if n.split(".")[0] in FORBIDDEN_IMPORTS]
    return found


def _modules(*layers: str) -> Iterator[Tuple[str, ast.Module]]:
    for layer in layers:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            rel = path.relative_to(PACKAGE).as_posix()
            yield rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)


def test_only_readers_touch_files():
    problems = [line for rel, tree in _modules("routes", "services", "workers")
                for line in file_accesses(rel, tree)]
    assert not problems, "file access outside readers/ (move it into a reader):\n" + "\n".join(problems)


def test_dependencies_point_one_way():
    problems = []
    below = {"services": ("autosubmit_api.routes",),
             "readers": ("autosubmit_api.routes", "autosubmit_api.services")}
    for layer, banned in below.items():
        for rel, tree in _modules(layer):
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                else:
                    continue
                for target in targets:
                    if target.startswith(banned):
                        problems.append(f"{rel}:{node.lineno}: imports {target}")
    assert not problems, "\n".join(problems)


def test_the_checks_see_a_file_access():
    # The walker must flag what it is meant to flag, or the tests above prove nothing.
    source = ("import os\nimport sqlite3\nos.stat(p)\nPath(p).read_text()\nwith open(p) as f:\n    pass\n"
              "self.exists()\n")
    found = file_accesses("services/example.py", ast.parse(source))
    assert found == ["services/example.py:2: import sqlite3", "services/example.py:3: os.stat()",
                     "services/example.py:4: read_text()", "services/example.py:5: open()"]
    own = 'resources.files("autosubmit_api").joinpath("openapi.json").read_text()'
    assert file_accesses("routes/root.py", ast.parse(own)) == []  # listed in OWN_FILES
    assert file_accesses("routes/other.py", ast.parse(own)) == ["routes/other.py:1: read_text()"]


def _imports(tree: ast.Module) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
        elif isinstance(node, ast.ImportFrom) and node.level:
            yield node.lineno, "." * node.level + (node.module or "")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def test_the_client_imports_nothing_of_the_server():
    # The command-line client (docs/client.md) is an HTTP client like any other: it runs with
    # the package installed and no site, and a server change cannot reach it except over HTTP.
    problems = []
    for rel, tree in _modules("client"):
        for line, target in _imports(tree):
            if target.startswith(".") or (target.split(".")[0] == "autosubmit_api"
                                          and not target.startswith("autosubmit_api.client")):
                problems.append(f"{rel}:{line}: imports {target}")
    assert not problems, "\n".join(problems)


def test_the_server_imports_nothing_of_the_client():
    problems = [f"{rel}:{line}: imports {target}"
                for rel, tree in _modules("routes", "services", "readers", "workers")
                for line, target in _imports(tree) if target.startswith("autosubmit_api.client")]
    assert not problems, "\n".join(problems)
