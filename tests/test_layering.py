"""`readers/` is the only code that touches Autosubmit's files and databases; dependencies point
one way, routes -> services -> readers (docs/architecture.md).

The test reads the source of routes/, services/ and workers/ and fails, naming file and line,
on any call that opens, stats, lists or connects to something; it reads every module's imports
(inside functions too) and fails on an import against the layers (BANNED below) and on any
import cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, List, Tuple

PACKAGE = Path(__file__).resolve().parents[1] / "autosubmit_api"

# Calls that reach the file system or a database, by their dotted name as written.
FORBIDDEN_CALLS = {
    "open",
    "os.open",
    "os.stat",
    "os.lstat",
    "os.listdir",
    "os.scandir",
    "os.walk",
    "os.path.isfile",
    "os.path.isdir",
    "os.path.exists",
    "os.path.getmtime",
    "os.path.getsize",
    "os.path.islink",
    "os.path.realpath",
    "glob.glob",
    "sqlite3.connect",
    "pickle.load",
    "pickle.loads",
    "shutil.copyfile",
    "shutil.copytree",
}
FORBIDDEN_METHODS = {"read_text", "read_bytes", "iterdir", "glob", "rglob", "is_file", "is_dir", "exists", "stat"}
FORBIDDEN_IMPORTS = {"sqlite3", "pickle", "glob"}

# (file, call) pairs that touch only the API's own files, never Autosubmit's.
OWN_FILES = {
    # The scheduler publishes its metrics to a JSON file of its own in the temp directory
    # (readers/worker_state.py reads it).
    ("workers/__init__.py", "os.fdopen"),
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
    problems = [line for rel, tree in _modules("routes", "services", "workers") for line in file_accesses(rel, tree)]
    assert not problems, "file access outside readers/ (move it into a reader):\n" + "\n".join(problems)


# Who may import whom. routes -> services -> readers; the background jobs (workers/) sit at
# the routes' level: like a route, a job calls services and readers, and nothing below
# imports a job (the health route reads the jobs' state through readers/worker_state.py).
# cache_registry.py is the bottom layer every cache registers with: it imports nothing of
# the package. Imports inside functions count as much as those at the top of a module.
BANNED = {
    "autosubmit_api.readers": ("autosubmit_api.routes", "autosubmit_api.services", "autosubmit_api.workers"),
    "autosubmit_api.services": ("autosubmit_api.routes", "autosubmit_api.workers"),
    "autosubmit_api.workers": ("autosubmit_api.routes",),
    "autosubmit_api.cache_registry": ("autosubmit_api.",),
}


def layer_violations(graph: dict) -> List[str]:
    problems = []
    for src, edges in sorted(graph.items()):
        for layer, banned in BANNED.items():
            if src == layer or src.startswith(layer + "."):
                problems += [
                    f"{src}:{line}: imports {target}" for target, line in sorted(edges) if target.startswith(banned)
                ]
    return problems


def test_dependencies_point_one_way():
    problems = layer_violations(import_graph())
    assert not problems, "imports against the layers (tests/test_layering.py BANNED):\n" + "\n".join(problems)


def test_the_layer_check_sees_a_function_level_import(tmp_path):
    pkg = tmp_path / "autosubmit_api"
    for layer in ("readers", "services", "workers"):
        (pkg / layer).mkdir(parents=True)
        (pkg / layer / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "workers" / "job.py").write_text("from autosubmit_api.services import state\n")
    (pkg / "services" / "state.py").write_text("def f():\n    from autosubmit_api.workers import job\n")
    (pkg / "readers" / "r.py").write_text("from ..services import state\n")
    assert layer_violations(import_graph(pkg)) == [
        "autosubmit_api.readers.r:1: imports autosubmit_api.services.state",
        "autosubmit_api.services.state:2: imports autosubmit_api.workers.job",
    ]


def test_the_checks_see_a_file_access():
    # The walker must flag what it is meant to flag, or the tests above prove nothing.
    source = "import os\nimport sqlite3\nos.stat(p)\nPath(p).read_text()\nwith open(p) as f:\n    pass\nself.exists()\n"
    found = file_accesses("services/example.py", ast.parse(source))
    assert found == [
        "services/example.py:2: import sqlite3",
        "services/example.py:3: os.stat()",
        "services/example.py:4: read_text()",
        "services/example.py:5: open()",
    ]
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


def test_the_walk_reaches_subpackages():
    # The layers have packages of their own (services/jobs/, readers/exp_config/): the rules
    # above must read their modules too, however deep.
    nested = {rel.rsplit("/", 1)[0] for rel, _ in _modules("services", "readers") if rel.count("/") >= 2}
    assert {"services/jobs", "readers/exp_config"} <= nested


def test_the_client_imports_nothing_of_the_server():
    # The command-line client (docs/client.md) is an HTTP client like any other: it runs with
    # the package installed and no site, and a server change cannot reach it except over HTTP.
    problems = []
    for rel, tree in _modules("client"):
        for line, target in _imports(tree):
            if target.startswith(".") or (
                target.split(".")[0] == "autosubmit_api" and not target.startswith("autosubmit_api.client")
            ):
                problems.append(f"{rel}:{line}: imports {target}")
    assert not problems, "\n".join(problems)


def test_the_server_imports_nothing_of_the_client():
    problems = [
        f"{rel}:{line}: imports {target}"
        for rel, tree in _modules("routes", "services", "readers", "workers")
        for line, target in _imports(tree)
        if target.startswith("autosubmit_api.client")
    ]
    assert not problems, "\n".join(problems)


# --- import cycles ------------------------------------------------------------------------


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path = PACKAGE) -> dict:
    """module -> {(imported module, line)} for every import of a package module, at module
    level or inside a function (an import moved into a function to dodge a cycle is still
    an edge). `from package import name` points at `package.name` when that is a module,
    else at the package."""
    modules = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        edges = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in modules else base)
            for target in targets:
                if target in modules and target != name:
                    edges.add((target, node.lineno))
        graph[name] = edges
    return graph


def cycles(graph: dict) -> list:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target, _ in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    lines = []
    for component in found:
        members = set(component)
        for src in component:
            lines += [f"{src} -> {t} (line {line})" for t, line in sorted(graph[src]) if t in members]
    assert not found, "import cycles among autosubmit_api modules:\n" + "\n".join(lines)


def test_the_cycle_check_sees_a_cycle_dodged_in_a_function(tmp_path):
    pkg = tmp_path / "autosubmit_api"
    (pkg / "readers").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "readers" / "__init__.py").write_text("")
    (pkg / "readers" / "a.py").write_text("from autosubmit_api.readers import b\n")
    (pkg / "readers" / "b.py").write_text("def f():\n    from autosubmit_api.readers import a\n")
    (pkg / "readers" / "c.py").write_text("from . import b\n")
    graph = import_graph(pkg)
    assert ("autosubmit_api.readers.b", 1) in graph["autosubmit_api.readers.c"]
    assert cycles(graph) == [["autosubmit_api.readers.a", "autosubmit_api.readers.b"]]
