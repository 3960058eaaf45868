"""Log and stat files under `<exp>/tmp/` (data.md A.10, B.10): the only code that opens them.

* `ASLOGS/*run.log` (and, for Autosubmit 3.9-3.12, `tmp/*run.log`): the newest one by
  mtime for `/exprun` and `/logrun`;
* `LOG_<expid>/<job>.<timestamp>.out|.err[.gz|.xz|.bz2]`: job logs for `/joblog` and the
  v4 log route, and the listing that associates jobs with their newest log (B.0.2 step 7);
* `<job>_TOTAL_STATS`: one line per attempt (`SUBMIT START FINISH STATUS`).

Tails are read from the end of the file with a bounded number of bytes, so a 1 GB log
costs the same as a small one; compressed logs are streamed through the decompressor
keeping only the last lines. File names that come from a URL go through
`resolve_log_name`, which refuses separators, NUL bytes, `.`/`..` and symlinks that
leave the directory before anything is opened.
"""
from __future__ import annotations

import bz2
import collections
import gzip
import io
import lzma
import os
from typing import Iterable, List, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, NotFound
from autosubmit_api.models import LogFile, Tail
from autosubmit_api.readers import paths

# The reference's `tail -150` (api.md 7.9, 7.10).
DEFAULT_TAIL = 150
# Largest tail the v4 route answers; larger requests are refused with 400.
MAX_TAIL = 10000
# Bytes read backwards from the end of a plain log at most; a longer final stretch without
# newlines (a sparse or binary file) is cut to this many bytes instead of read whole.
MAX_TAIL_BYTES = 2 * 1024 * 1024
# Decompressed bytes streamed at most from a compressed log (a decompression bomb stops here).
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024
_BLOCK = 64 * 1024

_OPENERS = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}


# --- names and directories -------------------------------------------------------------


def check_log_name(name: str) -> str:
    """The name unchanged if it can only name a file directly inside a directory."""
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.sep in name
        or (os.altsep and os.altsep in name)
    ):
        raise BadRequest("Invalid log file name")
    return name


def resolve_log_name(directory: str, name: str) -> Optional[str]:
    """The path of `name` inside `directory`, None when it does not exist there.

    BadRequest for names that could leave the directory, and for symlinks (or anything
    else) whose real location is outside it. Nothing is opened here.
    """
    check_log_name(name)
    candidate = os.path.join(directory, name)
    if not os.path.lexists(candidate):
        return None
    real_dir = os.path.realpath(directory)
    real = os.path.realpath(candidate)
    if os.path.dirname(real) != real_dir:
        raise BadRequest("Invalid log file name")
    if not os.path.isfile(real):
        return None
    return candidate


def _scan(directory: str, contains: str) -> List[LogFile]:
    found = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if contains not in entry.name:
                    continue
                try:
                    if not entry.is_file():
                        continue
                    st = entry.stat()
                except OSError:
                    continue
                found.append(LogFile(entry.name, entry.path, st.st_mtime, st.st_size))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    return found


def newest(files: Iterable[LogFile]) -> Optional[LogFile]:
    """Newest by mtime; ties go to the smaller name, as `ls -t` orders them."""
    best = None
    for item in files:
        if best is None or item.mtime > best.mtime or (item.mtime == best.mtime and item.name < best.name):
            best = item
    return best


def newest_run_log(settings: Settings, expid: str, pattern: str = paths.RUN_LOG,
                   tmp_first: bool = False) -> Optional[LogFile]:
    """The newest file whose name contains `pattern` in the first of ASLOGS / tmp that has one.

    `/exprun` uses "run.log" with ASLOGS first; `/logrun` uses "_run.log", with tmp first
    for Autosubmit 3.9/3.11/3.12 experiments (Q45).
    """
    dirs = [paths.aslogs_dir(settings, expid), paths.tmp_dir(settings, expid)]
    if tmp_first:
        dirs.reverse()
    for directory in dirs:
        found = newest(_scan(directory, pattern))
        if found is not None:
            return found
    return None


def stat_log(path: str) -> LogFile:
    st = os.stat(path)
    return LogFile(os.path.basename(path), path, st.st_mtime, st.st_size)


def job_log_path(settings: Settings, expid: str, name: str) -> Tuple[str, Optional[str]]:
    """(`<exp>/tmp/LOG_<expid>/<name>`, that path if the file exists there else None)."""
    directory = paths.job_logs_dir(settings, expid)
    shown = os.path.join(directory, check_log_name(name))
    return shown, resolve_log_name(directory, name)


def find_experiment_log(settings: Settings, expid: str, name: str) -> Optional[str]:
    """`name` in LOG_<expid>, else in ASLOGS (the v4 log route); None when in neither."""
    for directory in (paths.job_logs_dir(settings, expid), paths.aslogs_dir(settings, expid)):
        found = resolve_log_name(directory, name)
        if found is not None:
            return found
    return None


def newest_job_logs(settings: Settings, expid: str) -> Tuple[dict, dict]:
    """B.0.2 step 7: per job name, the newest plain `.out` and `.err` log name.

    Compressed logs are ignored (as the reference does). Missing directory -> NotFound.
    """
    directory = paths.job_logs_dir(settings, expid)
    outs: dict = {}
    errs: dict = {}
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(".out"):
                    target = outs
                elif name.endswith(".err"):
                    target = errs
                else:
                    continue
                key = name.split(".", 1)[0]
                if key not in target or name > target[key]:
                    target[key] = name
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound("The experiment's log directory was not found") from None
    return outs, errs


# --- tails -------------------------------------------------------------------------------


def _tail_plain(path: str, n: int, max_bytes: int) -> Tuple[bytes, bool]:
    """The bytes of the last `n` lines (a final line without newline counts as a line)."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        if end == 0 or n <= 0:
            return b"", False
        pos = end
        chunks: List[bytes] = []
        newlines = 0
        # A trailing newline terminates the last line; it does not start another one.
        handle.seek(end - 1)
        needed = n + (1 if handle.read(1) == b"\n" else 0)
        read = 0
        while pos > 0 and read < max_bytes:
            size = min(_BLOCK, pos, max_bytes - read)
            pos -= size
            handle.seek(pos)
            chunk = handle.read(size)
            read += size
            chunks.append(chunk)
            newlines += chunk.count(b"\n")
            if newlines >= needed:
                break
        data = b"".join(reversed(chunks))
        truncated = pos > 0 and newlines < needed
    if newlines >= needed:
        # Keep exactly the bytes after the needed-th newline from the end.
        cut = len(data)
        for _ in range(needed):
            cut = data.rfind(b"\n", 0, cut)
        data = data[cut + 1:]
    return data, truncated


def _tail_stream(stream: io.BufferedIOBase, n: int, max_bytes: int) -> Tuple[bytes, bool]:
    """The last `n` lines of a stream read front to back, keeping only those lines."""
    lines: "collections.deque[bytes]" = collections.deque(maxlen=max(n, 1))
    pending = b""
    total = 0
    truncated = False
    while True:
        chunk = stream.read(_BLOCK)
        if not chunk:
            break
        total += len(chunk)
        parts = (pending + chunk).split(b"\n")
        pending = parts.pop()
        lines.extend(part + b"\n" for part in parts)
        if len(pending) > MAX_TAIL_BYTES:
            pending = pending[-MAX_TAIL_BYTES:]
        if total >= max_bytes:
            truncated = True
            break
    if pending:
        lines.append(pending)
    if n <= 0:
        return b"", truncated
    return b"".join(list(lines)[-n:]), truncated


def _split_lines(text: str) -> List[str]:
    # Universal newlines, as the reference's text-mode read of `tail` output splits them.
    return io.StringIO(text, newline=None).readlines()


def tail(path: str, n: int = DEFAULT_TAIL, *, max_bytes: int = MAX_TAIL_BYTES) -> Tail:
    """The last `n` lines of `path`, decompressing `.gz`/`.xz`/`.bz2` logs.

    Lines keep their terminator (callers shape them); bytes that are not UTF-8 are replaced
    rather than failing the whole answer. OSError when the file cannot be read.
    """
    opener = _OPENERS.get(os.path.splitext(path)[1].lower())
    if opener is None:
        data, truncated = _tail_plain(path, n, max_bytes)
    else:
        try:
            with opener(path, "rb") as stream:
                data, truncated = _tail_stream(stream, n, MAX_DECOMPRESSED_BYTES)
        except (OSError, EOFError, lzma.LZMAError) as exc:
            # Not actually compressed (or damaged): fall back to the raw bytes.
            if isinstance(exc, FileNotFoundError):
                raise
            data, truncated = _tail_plain(path, n, max_bytes)
    lines = _split_lines(data.decode("utf-8", errors="replace"))
    if truncated and len(lines) > 1:
        # The first line was cut by the byte bound: it is not a line of the file.
        lines = lines[1:]
    if len(lines) > n:
        lines = lines[-n:]
    return Tail(tuple(lines), truncated)


# --- TOTAL_STATS -------------------------------------------------------------------------


def total_stats_path(settings: Settings, expid: str, job_name: str) -> str:
    name = check_log_name(paths.total_stats_name(job_name))
    return os.path.join(paths.tmp_dir(settings, expid), name)


def read_total_stats(settings: Settings, expid: str, job_name: str) -> List[List[str]]:
    """Every line of `<job>_TOTAL_STATS` split on whitespace (empty lines dropped).

    A missing or unreadable file gives []; the last line may be partial (A.10).
    """
    return _total_stats_lines(total_stats_path(settings, expid, job_name))


def read_total_stats_of(settings: Settings, expid: str, job_names: Iterable[str]
                        ) -> List[List[List[str]]]:
    """`read_total_stats` of many jobs, in order: the tmp dir is resolved once (a big
    experiment has tens of thousands of stats files)."""
    where = paths.tmp_dir(settings, expid)
    return [_total_stats_lines(os.path.join(where, check_log_name(paths.total_stats_name(name))))
            for name in job_names]


def _total_stats_lines(path: str) -> List[List[str]]:
    # os.open/os.read: a third of the cost of open() on small files, same bytes read.
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        return []
    try:
        chunks = []
        left = MAX_TAIL_BYTES
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except IsADirectoryError:
        return []
    finally:
        os.close(fd)
    text = b"".join(chunks).decode("utf-8", errors="replace")
    # A line is dropped when it has no field (line.split() is empty iff line.strip() is).
    return [fields for fields in map(str.split, text.splitlines()) if fields]


def last_total_stats_line(settings: Settings, expid: str, job_name: str) -> Sequence[str]:
    """Fields of the last line of `<job>_TOTAL_STATS`; () when missing or empty."""
    lines = read_total_stats(settings, expid, job_name)
    return tuple(lines[-1]) if lines else ()


def total_stats_snapshot(settings: Settings, expid: str) -> Tuple[Tuple[str, int, int], ...]:
    """(job name, mtime_ns, size) of every `<job>_TOTAL_STATS` in `<exp>/tmp`, by name.

    One directory listing plus one stat per stats file: the identity of the whole set, so
    a changed (appended) file gives a new snapshot.
    """
    suffix = paths.TOTAL_STATS_SUFFIX
    found = []
    try:
        with os.scandir(paths.tmp_dir(settings, expid)) as entries:
            for entry in entries:
                name = entry.name
                if not name.endswith(suffix):
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                found.append((name[: -len(suffix)], st.st_mtime_ns, st.st_size))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return ()
    found.sort()
    return tuple(found)


def total_stats_key(settings: Settings, expid: str, job_name: str) -> Optional[Tuple[str, int, int]]:
    """(job name, mtime_ns, size) of one job's `_TOTAL_STATS` file, None when it is absent."""
    try:
        st = os.stat(total_stats_path(settings, expid, job_name))
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (job_name, st.st_mtime_ns, st.st_size)
