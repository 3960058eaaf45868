"""The one way to open an experiment's file: inside the site's roots, a regular file, no window.

An experiment directory is writable by its owner, and the API reads it as a service account
that can read much more (docs/security.md). So every log, stats file, configuration, pickle
and database an experiment names is opened here, and is read only when

* its real location (every symlink of every path component resolved) is inside one of the
  roots the site configures: the experiments root (`[local] path`), the `.autosubmitrc`
  database, history, structures, graph, log and status directories, and the extra roots of
  `API_EXTRA_ROOTS` (a scratch filesystem that `LOG_<expid>` links to);
* a file named inside one experiment's directory (`<[local] path>/<expid>/...`) that resolves
  into the experiments root resolves into that same experiment's directory: an owner cannot
  link their experiment to another experiment's logs, configuration or job list;
* it is a regular file (not a directory, FIFO or device);
* and those facts hold for the file actually opened: the file is opened first (with
  `O_NONBLOCK`, so a FIFO cannot block the open) and the *opened descriptor* is checked
  (`fstat`, and its real path read back from `/proc/self/fd`). A symlink swapped in between
  a check and the open cannot redirect the read: there is no check before the open.

A file outside the roots raises `Refused` (a 403 without any path in its message).

SQLite files cannot be handed an open descriptor: `real_path` resolves and checks the path
and the caller opens the real path it returns (read-only URI). What remains is documented
in docs/security.md.
"""

from __future__ import annotations

import functools
import os
import stat
from typing import BinaryIO, Callable, List, Optional, TextIO, Tuple

from autosubmit_api import cache_registry
from autosubmit_api.config import Settings
from autosubmit_api.errors import Forbidden

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_PROC_FD = "/proc/self/fd"
_READ_BLOCK = 1 << 20


class Refused(Forbidden):
    """The file resolves outside the site's roots, or is not a regular file."""

    default_message = "This file is outside the experiment's directories"


class NotRegular(Refused):
    """The file is a FIFO, a device or a socket: never read (it could block or never end)."""

    default_message = "This file is not a regular file"


def site_roots(settings: Settings) -> Tuple[str, ...]:
    """The real paths of every directory the site lets the API read, longest first."""
    return _real_roots(
        (
            settings.local_root_dir,
            settings.db_dir,
            settings.jobdata_dir,
            settings.structures_dir,
            settings.graph_dir,
            settings.historical_log_dir,
            settings.global_log_dir,
            settings.statusdb_path,
        )
        + tuple(settings.extra_roots)
    )


@functools.lru_cache(maxsize=16)
def _real_roots(dirs: Tuple[str, ...]) -> Tuple[str, ...]:
    found = {os.path.realpath(os.path.expanduser(d)) for d in dirs if d}
    return tuple(sorted(found, key=len, reverse=True))


cache_registry.register_lru_cache("readers.confined.real_roots", _real_roots)


def is_inside(real: str, roots: Tuple[str, ...]) -> bool:
    """`real` (an absolute path without symlinks) is one of `roots` or below one of them."""
    for root in roots:
        if real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep):
            return True
    return False


def _experiment_home(settings: Settings, path: str) -> Optional[str]:
    """The real path of the experiment directory `path` is named under (its first component
    below `[local] path`, symlinks not followed), None when `path` is not named under it."""
    if not settings.local_root_dir:
        return None
    root = os.path.abspath(os.path.expanduser(settings.local_root_dir))
    named = os.path.abspath(path)
    if not named.startswith(root + os.sep):
        return None
    owner = named[len(root) + 1 :].split(os.sep, 1)[0]
    return os.path.realpath(os.path.join(root, owner))


def allowed(settings: Settings, path: str, real: str) -> bool:
    """`real` (where `path` really is) may be read: inside the roots, and inside the directory
    of the experiment `path` is named under when it lands in the experiments root."""
    if not is_inside(real, site_roots(settings)):
        return False
    home = _experiment_home(settings, path)
    if home is None:
        return True
    experiments = _real_roots((settings.local_root_dir,))
    return not is_inside(real, experiments) or is_inside(real, (home,))


def _fd_real_path(fd: int, path: str) -> Optional[str]:
    """Where the opened file really is; None when it cannot be told (no /proc)."""
    try:
        real = os.readlink(f"{_PROC_FD}/{fd}")
    except OSError:
        return None
    if not real.startswith(os.sep):  # "anon_inode:...", "pipe:[...]": no path at all
        return None
    # A file removed after the open reads back as "<path> (deleted)": still where it was.
    if real.endswith(" (deleted)") and not os.path.exists(real):
        real = real[: -len(" (deleted)")]
    return real


def _verify_fd(settings: Settings, fd: int, path: str) -> os.stat_result:
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegular()
    real = _fd_real_path(fd, path)
    if real is None:
        # No /proc: resolve the name and make sure it names the very file that was opened.
        try:
            real = os.path.realpath(path)
            named = os.stat(real)
        except OSError:
            raise Refused() from None
        if (named.st_dev, named.st_ino) != (st.st_dev, st.st_ino):
            raise Refused()
    if not allowed(settings, path, real):
        raise Refused()
    return st


def open_fd(settings: Settings, path: str) -> Tuple[int, os.stat_result]:
    """(descriptor, its fstat) of `path` opened read-only after the checks above.

    FileNotFoundError / NotADirectoryError / IsADirectoryError / PermissionError as `open`
    raises them; Refused when the opened file is outside the roots or not a regular file.
    The caller closes the descriptor.
    """
    fd = os.open(path, _FLAGS)
    try:
        st = _verify_fd(settings, fd, path)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def open_binary(settings: Settings, path: str) -> BinaryIO:
    """`open_fd` as a buffered binary file object (a context manager)."""
    fd, _ = open_fd(settings, path)
    return os.fdopen(fd, "rb")


def open_text(settings: Settings, path: str, encoding: str = "utf-8") -> TextIO:
    """`open_fd` as a text file object (a context manager)."""
    fd, _ = open_fd(settings, path)
    return os.fdopen(fd, "r", encoding=encoding)


def read_bytes(settings: Settings, path: str, limit: Optional[int] = None) -> Tuple[bytes, os.stat_result]:
    """(content, fstat) of `path`: at most `limit` bytes when a limit is given."""
    fd, st = open_fd(settings, path)
    try:
        chunks = []
        read = 0
        while limit is None or read < limit:
            want = _READ_BLOCK if limit is None else min(_READ_BLOCK, limit - read)
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            read += len(chunk)
        return b"".join(chunks), st
    finally:
        os.close(fd)


def real_path(settings: Settings, path: str) -> str:
    """The real path of an existing regular file inside the roots, for openers that take a
    name (SQLite). FileNotFoundError when missing or not a regular file; Refused outside."""
    try:
        real = os.path.realpath(path)
    except OSError:  # a link changed while it was being resolved
        raise FileNotFoundError(path) from None
    if not allowed(settings, path, real):
        if not os.path.exists(real):
            raise FileNotFoundError(path)
        raise Refused()
    st = os.stat(real)
    if not stat.S_ISREG(st.st_mode):
        raise FileNotFoundError(path)
    return real


def _dir_real_path(dir_fd: int, directory: str) -> Optional[str]:
    """Where an opened directory really is (without /proc: resolved by name and compared
    with the descriptor's device and inode); None when that cannot be told."""
    real = _fd_real_path(dir_fd, directory)
    if real is not None:
        return real
    try:
        real = os.path.realpath(directory)
        named, opened = os.stat(real), os.fstat(dir_fd)
    except OSError:
        return None
    return real if (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino) else None


def list_files(
    settings: Settings, directory: str, accept: Optional[Callable[[str], object]] = None
) -> List[Tuple[str, os.stat_result]]:
    """[(name, stat)] of the regular files directly in `directory` whose name `accept`s.

    The directory is opened and checked like a file (its real location inside the roots),
    then listed and stat'ed through that descriptor, so swapping it for a symlink after the
    check changes nothing. An entry that is a symlink resolving outside the roots is left
    out, as if it were not there. A missing directory, or one outside the roots, lists [].
    """
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return []
    try:
        real_dir = _dir_real_path(dir_fd, directory)
        if real_dir is None or not allowed(settings, directory, real_dir):
            return []
        found = []
        with os.scandir(dir_fd) as entries:
            for entry in entries:
                name = entry.name
                if accept is not None and not accept(name):
                    continue
                try:
                    if entry.is_symlink() and not allowed(
                        settings, os.path.join(directory, name), os.path.realpath(os.path.join(real_dir, name))
                    ):
                        continue
                    st = os.stat(name, dir_fd=dir_fd)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    found.append((name, st))
        return found
    finally:
        os.close(dir_fd)


def list_names(settings: Settings, directory: str) -> List[str]:
    """Every name in `directory` (nothing stat'ed); FileNotFoundError when it is missing or
    is not a directory inside the roots."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except (NotADirectoryError, PermissionError):
        raise FileNotFoundError(directory) from None
    try:
        real_dir = _dir_real_path(dir_fd, directory)
        if real_dir is None or not allowed(settings, directory, real_dir):
            raise FileNotFoundError(directory)
        return os.listdir(dir_fd)
    finally:
        os.close(dir_fd)
