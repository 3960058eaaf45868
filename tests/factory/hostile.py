"""A hostile site: what an experiment's owner can put in their own directory to make the API
read a file that is not the experiment's, or exhaust the server (docs/security.md).

* `symlink_dir`      `tmp/LOG_<expid>`, `tmp/ASLOGS` or `tmp` itself replaced by a symlink;
* `symlink_file`     one file (a run log, a job log, a pickle...) that is a symlink;
* `gzip_long_lines`  a small `.gz` whose lines are megabytes long;
* `zeros_archive`    a `.gz`, `.xz` or `.bz2` of a gigabyte (or more) of zeros, written in
                     milliseconds as repeated compressed members of a small block;
* `Swapper`          a process that swaps a regular file with a symlink in a loop, for the
                     check-then-open race.

Only tests and benchmarks use this; nothing here runs in the server.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Union

PathLike = Union[str, Path]

_COMPRESSORS = {".gz": gzip.compress, ".xz": lzma.compress, ".bz2": bz2.compress}


def symlink_dir(exp_dir: PathLike, which: str, target: PathLike) -> Path:
    """Replace `<exp>/tmp/<which>` (`LOG_<expid>`, `ASLOGS`, or "" for tmp itself) by a
    symlink to `target`; returns the link."""
    link = Path(exp_dir) / "tmp" / which if which else Path(exp_dir) / "tmp"
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)
    return link


def symlink_file(path: PathLike, target: PathLike) -> Path:
    """`path` as a symlink to `target` (replacing what was there)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(target)
    return path


def gzip_long_lines(path: PathLike, line_bytes: int = 2 * 1024 * 1024, lines: int = 150, byte: bytes = b"A") -> Path:
    """A `.gz` of `lines` lines of `line_bytes` bytes each (about 1 MB compressed for the
    defaults: 300 MB decompressed)."""
    path = Path(path)
    line = byte * line_bytes + b"\n"
    member = gzip.compress(line, compresslevel=9)
    with open(path, "wb") as handle:
        for _ in range(lines):
            handle.write(member)
    return path


def zeros_archive(path: PathLike, total_bytes: int = 1 << 30, block_bytes: int = 16 << 20) -> Path:
    """A compressed file (kind from the suffix: .gz, .xz, .bz2) that decompresses to
    `total_bytes` zero bytes: `total_bytes // block_bytes` concatenated members (streams)
    of one compressed block, which every decompressor reads as one file."""
    path = Path(path)
    compress = _COMPRESSORS[path.suffix]
    member = compress(bytes(block_bytes))
    with open(path, "wb") as handle:
        for _ in range(max(1, total_bytes // block_bytes)):
            handle.write(member)
    return path


def _swap_loop(path: str, real: str, target: str, stop, count) -> None:
    """Alternate `path` between a hard link of `real` and a symlink to `target`, each change
    an atomic rename, until `stop` is set; `count` counts the symlinks put in place."""
    tmp = path + ".swap"
    while not stop.is_set():
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(target, tmp)
        os.replace(tmp, path)
        with count.get_lock():
            count.value += 1
        os.link(real, tmp)
        os.replace(tmp, path)


class Swapper:
    """A helper process that swaps the regular file `path` with a symlink to `target` in a
    loop (atomic renames, so the name never vanishes). The file's content is kept as a
    hidden hard link beside it. Use as a context manager; `swaps` counts symlinks placed."""

    def __init__(self, path: PathLike, target: PathLike):
        self.path = str(path)
        self.target = str(target)
        directory, name = os.path.split(self.path)
        self.real = os.path.join(directory, "." + name + ".real")
        if not os.path.lexists(self.real):
            os.link(self.path, self.real)
        ctx = multiprocessing.get_context("spawn")
        self._stop = ctx.Event()
        self._count = ctx.Value("q", 0)
        self._proc = ctx.Process(
            target=_swap_loop, daemon=True, args=(self.path, self.real, self.target, self._stop, self._count)
        )

    @property
    def swaps(self) -> int:
        return self._count.value

    def start(self) -> "Swapper":
        self._proc.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        # Leave the regular file in place.
        if os.path.lexists(self.path + ".swap"):
            os.unlink(self.path + ".swap")
        if os.path.islink(self.path):
            os.unlink(self.path)
            os.link(self.real, self.path)

    def __enter__(self) -> "Swapper":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
