"""The wheel: built from the sources, installed in a fresh virtual environment outside the
checkout, started with no `.autosubmitrc`, it serves the bundled examples (docs/cli.md#the-bundled-examples).

Network-free: `pip wheel --no-build-isolation --no-deps --no-index` builds with the setuptools
and wheel of the running environment (the test extras install them; the test skips without
them), and the fresh environment is given the running one's site-packages for the
dependencies only, by a `.pth` line: the `.pth` files there (the editable install of the
checkout) are not processed, so `autosubmit_api` can only come from the installed wheel.
"""

from __future__ import annotations

import importlib.util
import shutil
import stat
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.test_cli import clean_env, get

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[1]
# What setup.py reads: the sources of the wheel, copied so that no build/ or *.egg-info of the
# checkout (stale files of an earlier build) can end up in it.
SOURCES = ("setup.py", "pyproject.toml", "README.md", "LICENSE", "autosubmit_api")
EXAMPLES = ["a000", "a001", "a002", "a003", "a004", "a005", "t000"]


def _run(*args, cwd, timeout=300, env=None):
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    for module in ("setuptools", "wheel"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed: the wheel cannot be built without the network")
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        if (CHECKOUT / name).is_dir():
            shutil.copytree(CHECKOUT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(CHECKOUT / name, src / name)
    dist = work / "dist"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-build-isolation",
        "--no-deps",
        "--no-index",
        "-q",
        "-w",
        str(dist),
        str(src),
        cwd=work,
    )
    (built,) = dist.glob("autosubmit_api-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A fresh virtual environment with the wheel installed; returns its bin directory."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    _run(sys.executable, "-m", "venv", str(root), cwd=root.parent)
    python = root / "bin" / "python"
    _run(str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel), cwd=root.parent)
    purelib = _run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root.parent)
    ours = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    (Path(purelib.strip()) / "dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(ours)))
    return root / "bin"


def _chmod_tree(root: Path, directories: int, files: int) -> None:
    for path in root.rglob("*"):
        path.chmod(directories if path.is_dir() else files)
    root.chmod(directories)


def _env(home: Path) -> dict:
    env = clean_env(HOME=str(home))
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(name, None)
    return env


def test_the_wheel_holds_the_examples_and_no_test_code(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "autosubmit_api/example_site/a000/pkl/job_list_a000.pkl" in names
    assert "autosubmit_api/example_site/a005/db/job_list.db" in names
    assert "autosubmit_api/example_site/directories.txt" in names
    assert "autosubmit_api/openapi.json" in names
    assert [name for name in names if name.startswith("tests/") or "/factory/" in name] == []


def test_the_installed_wheel_serves_the_examples(venv, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = _env(home)
    # The package comes from the fresh environment, and the test support code is not there.
    where = _run(
        str(venv / "python"),
        "-c",
        "import importlib.util, autosubmit_api; print(autosubmit_api.__file__); "
        "print(importlib.util.find_spec('tests.factory') is None if importlib.util.find_spec('tests') else True)",
        cwd=home,
        env=env,
    ).split()
    assert Path(where[0]).is_relative_to(venv.parent) and where[1] == "True"
    # A read-only installation (a system or image install): the copy must still be the user's.
    shipped = Path(where[0]).parent / "example_site"
    _chmod_tree(shipped, 0o555, 0o444)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(venv / "autosubmit_api"), "start", "-b", f"127.0.0.1:{port}"],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        end = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"the server exited: {proc.communicate()}"
            assert time.monotonic() < end, "the server did not answer"
            try:
                get(base + "/")
                break
            except OSError:
                time.sleep(0.2)

        status, body = get(base + "/v4/experiments?page_size=-1")
        assert status == 200 and [e["name"] for e in body["experiments"]] == EXAMPLES
        assert [e["name"] for e in body["experiments"] if e["status"] == "RUNNING"] == ["a000"]

        status, tree = get(base + "/v3/tree/a000")
        assert status == 200 and tree["error"] is False
        assert len(tree["jobs"]) == tree["total"] > 0 and tree["tree"]

        # The Autosubmit 4.2 example: its job list is read from db/job_list.db.
        status, jobs = get(base + "/v4/experiments/a005/jobs")
        assert status == 200 and len(jobs["jobs"]) == 14
        status, exp = get(base + "/v4/experiments/a005")
        assert status == 200 and exp["name"] == "a005"

        assert get(base + "/v4/health")[1]["examples"] is True
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        _chmod_tree(shipped, 0o755, 0o644)
    assert "serving the bundled example experiments" in err
    served = home / ".local" / "share" / "autosubmit_api" / "examples"
    assert (served / ".autosubmitrc").read_text().startswith(f"[database]\npath = {served}\n")
    assert (served / "metadata" / "graph").is_dir()
    assert [str(path) for path in served.rglob("*") if not path.stat().st_mode & stat.S_IWUSR] == []
