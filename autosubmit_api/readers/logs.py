"""Log and stat files under `<exp>/tmp/` (docs/data.md A.10, B.10): the only code that opens them.

* `ASLOGS/*run.log` (and, for Autosubmit 3.9-3.12, `tmp/*run.log`): the newest one by
  mtime for `/exprun` and `/logrun`;
* `LOG_<expid>/<job>.<timestamp>.out|.err[.gz|.xz|.bz2]`: job logs for `/joblog` and the
  v4 log route, and the listing that associates jobs with their newest log (B.0.2 step 7);
* `<job>_TOTAL_STATS`: one line per attempt (`SUBMIT START FINISH STATUS`).

Every file is opened through readers/confined.py (inside the site's roots, a regular file,
checked on the opened descriptor). Tails are read from the end of the file with a bounded
number of bytes, so a 1 GB log costs the same as a small one; compressed logs are streamed
through the decompressor keeping only the last lines; both within the site's bounds
(`API_LOG_MAX_DECOMPRESSED_BYTES` read, `API_LOG_MAX_KEPT_BYTES` kept,
`API_LOG_MAX_LINE_BYTES` per line, a longer line cut with a marker; docs/security.md).
File names that come from a URL go through `resolve_log_name`, which refuses separators,
NUL bytes, `.`/`..` and symlinks that leave the directory before anything is opened.
"""

from __future__ import annotations

import bz2
import collections
import gzip
import io
import lzma
import os
from typing import BinaryIO, Callable, Dict, Iterable, List, Literal, NamedTuple, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, NotFound
from autosubmit_api.models import LogFile, Tail
from autosubmit_api.readers import confined, paths

# The reference's `tail -150` (docs/api.md 7.9, 7.10).
DEFAULT_TAIL = 150
# Largest tail the v4 route answers; larger requests are refused with 400.
MAX_TAIL = 10000
_BLOCK = 64 * 1024

# extension -> opener of a compressed file object, read as "rb"
_OPENERS: Dict[str, Callable[[BinaryIO, Literal["rb"]], io.BufferedIOBase]] = {
    ".gz": gzip.open,
    ".xz": lzma.open,
    ".bz2": bz2.open,
}


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
    else) whose real location is outside it. Nothing is opened here: this is the early,
    friendly refusal; the guarantee is readers/confined.py's check of the opened file.
    """
    check_log_name(name)
    candidate = os.path.join(directory, name)
    if not os.path.lexists(candidate):
        return None
    try:
        real_dir = os.path.realpath(directory)
        real = os.path.realpath(candidate)
    except OSError:
        # A link changed while it was being resolved (EINVAL, ELOOP): the name is handed
        # on and the open (readers/confined.py) checks the file it actually gets.
        return candidate
    if os.path.dirname(real) != real_dir:
        raise BadRequest("Invalid log file name")
    if not os.path.isfile(real):
        return None
    return candidate


def _scan(settings: Settings, directory: str, contains: str) -> List[LogFile]:
    return [
        LogFile(name, os.path.join(directory, name), st.st_mtime, st.st_size)
        for name, st in confined.list_files(settings, directory, lambda name: contains in name)
    ]


def newest(files: Iterable[LogFile]) -> Optional[LogFile]:
    """Newest by mtime; ties go to the smaller name, as `ls -t` orders them."""
    best = None
    for item in files:
        if best is None or item.mtime > best.mtime or (item.mtime == best.mtime and item.name < best.name):
            best = item
    return best


def newest_run_log(
    settings: Settings, expid: str, pattern: str = paths.RUN_LOG, tmp_first: bool = False
) -> Optional[LogFile]:
    """The newest file whose name contains `pattern` in the first of ASLOGS / tmp that has one.

    `/exprun` uses "run.log" with ASLOGS first; `/logrun` uses "_run.log", with tmp first
    for Autosubmit 3.9/3.11/3.12 experiments (Q45).
    """
    dirs = [paths.aslogs_dir(settings, expid), paths.tmp_dir(settings, expid)]
    if tmp_first:
        dirs.reverse()
    for directory in dirs:
        found = newest(_scan(settings, directory, pattern))
        if found is not None:
            return found
    return None


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


def newest_job_logs(settings: Settings, expid: str) -> Tuple[Dict[str, str], Dict[str, str]]:
    """B.0.2 step 7: per job name, the newest plain `.out` and `.err` log name.

    Compressed logs are ignored (as the reference does). Missing directory -> NotFound.
    """
    directory = paths.job_logs_dir(settings, expid)
    outs: Dict[str, str] = {}
    errs: Dict[str, str] = {}
    try:
        names = confined.list_names(settings, directory)
    except FileNotFoundError:
        raise NotFound("The experiment's log directory was not found") from None
    for name in names:
        if name.endswith(".out"):
            target = outs
        elif name.endswith(".err"):
            target = errs
        else:
            continue
        key = name.split(".", 1)[0]
        if key not in target or name > target[key]:
            target[key] = name
    return outs, errs


# --- tails ---------------------------------------------------------------------------------


class Limits(NamedTuple):
    """The bounds of one log read (Settings: API_LOG_MAX_*; docs/security.md)."""

    read: int  # bytes read (decompressed) at most
    kept: int  # bytes of lines kept at most (and read backwards from a plain log's end)
    line: int  # bytes of one line kept at most; a longer one is cut and marked

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(settings.log_max_decompressed_bytes, settings.log_max_kept_bytes, settings.log_max_line_bytes)


def cut_marker(limit: int) -> bytes:
    """What ends a line cut at `limit` bytes (so a reader sees that it was cut)."""
    return f" [... line cut by the API: longer than {limit} bytes]".encode()


def _cap(line: bytes, limit: int) -> bytes:
    """`line` (with or without its newline) cut to `limit` bytes plus the marker."""
    body = line[:-1] if line.endswith(b"\n") else line
    if len(body) <= limit:
        return line
    # A cut line always ends with its newline, so callers that drop a final character
    # (the v3 `/joblog` habit) drop that, not the marker's.
    return body[:limit] + cut_marker(limit) + b"\n"


def _tail_plain(handle: BinaryIO, size: int, n: int, limits: Limits) -> Tuple[bytes, bool]:
    """The bytes of the last `n` lines (a final line without newline counts as a line),
    reading backwards at most `limits.kept` bytes."""
    max_bytes = limits.kept
    end = size
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
        data = data[cut + 1 :]
    return data, truncated


def _tail_stream(stream: io.BufferedIOBase, n: int, limits: Limits) -> Tuple[List[bytes], bool]:
    """The last `n` lines of a stream read front to back, in bounded memory: at most
    `limits.read` bytes are read, lines are cut at `limits.line` bytes as they arrive (the
    rest of a long line is never kept) and the kept lines never exceed `limits.kept` bytes
    (older ones are dropped first). Lines are whole and capped; truncated when the read
    stopped early or lines were dropped for their size."""
    lines: "collections.deque[bytes]" = collections.deque()
    kept = 0
    current = bytearray()  # the line being read, at most limits.line bytes of it
    current_len = 0  # its real length
    total = 0
    truncated = False
    n = max(n, 1)
    while True:
        want = min(_BLOCK, limits.read - total)
        if want <= 0:
            truncated = True
            break
        chunk = stream.read(want)
        if not chunk:
            break
        total += len(chunk)
        parts = chunk.split(b"\n")
        last = parts.pop()
        if not parts:  # no newline in this chunk: the current line only grows
            if len(current) < limits.line:
                current += last[: limits.line - len(current)]
            current_len += len(last)
            continue
        first = parts[0]
        if len(current) < limits.line:
            current += first[: limits.line - len(current)]
        current_len += len(first)
        done = [_finish(current, current_len, limits.line)]
        done += [part + b"\n" if len(part) <= limits.line else _cap(part + b"\n", limits.line) for part in parts[1:]]
        current = bytearray(last[: limits.line])
        current_len = len(last)
        if len(done) >= n:
            lines.clear()
            kept = 0
            done = done[-n:]
        lines.extend(done)
        kept += sum(map(len, done))
        while len(lines) > n:
            kept -= len(lines.popleft())
        while kept > limits.kept and len(lines) > 1:
            kept -= len(lines.popleft())
            truncated = True
    if current_len:
        line = bytes(current)
        if current_len > limits.line:
            line += cut_marker(limits.line) + b"\n"
        lines.append(line)
        if len(lines) > n:
            lines.popleft()
    return list(lines), truncated


def _finish(current: bytearray, real_len: int, limit: int) -> bytes:
    line = bytes(current)
    if real_len > limit:
        line += cut_marker(limit)
    return line + b"\n"


def _split_lines(text: str) -> List[str]:
    # Universal newlines, as the reference's text-mode read of `tail` output splits them.
    return io.StringIO(text, newline=None).readlines()


def _decode(data: bytes) -> List[str]:
    return _split_lines(data.decode("utf-8", errors="replace"))


def _tail_handle(handle: BinaryIO, size: int, name: str, n: int, limits: Limits) -> Tail:
    opener = _OPENERS.get(os.path.splitext(name)[1].lower())
    if opener is not None:
        try:
            with opener(handle, "rb") as stream:
                raw, truncated = _tail_stream(stream, n, limits)
            lines = _decode(b"".join(raw))
            return Tail(tuple(lines[-n:] if n > 0 else ()), truncated)
        except (OSError, EOFError, lzma.LZMAError):
            # Not actually compressed (or damaged): fall back to the raw bytes.
            pass
    data, truncated = _tail_plain(handle, size, n, limits)
    data = b"".join(_cap(line, limits.line) for line in data.splitlines(keepends=True))
    lines = _decode(data)
    if truncated and len(lines) > 1:
        # The first line was cut by the byte bound: it is not a line of the file.
        lines = lines[1:]
    if len(lines) > n:
        lines = lines[-n:]
    return Tail(tuple(lines), truncated)


def read_tail(settings: Settings, path: str, n: int = DEFAULT_TAIL) -> Tuple[LogFile, Tail]:
    """(the log as opened, its last `n` lines), decompressing `.gz`/`.xz`/`.bz2` logs.

    The file is opened through readers/confined.py (Refused outside the site's roots) and
    read within the site's log bounds; the LogFile's times and size are those of the file
    actually read. Lines keep their terminator (callers shape them); bytes that are not
    UTF-8 are replaced. OSError when the file cannot be opened or read.
    """
    with confined.open_binary(settings, path) as handle:
        st = os.fstat(handle.fileno())
        found = LogFile(os.path.basename(path), path, st.st_mtime, st.st_size)
        return found, _tail_handle(handle, st.st_size, path, n, Limits.of(settings))


def tail(settings: Settings, path: str, n: int = DEFAULT_TAIL) -> Tail:
    """The last `n` lines of `path` (`read_tail` without the file facts)."""
    return read_tail(settings, path, n)[1]


# --- TOTAL_STATS -------------------------------------------------------------------------


def total_stats_path(settings: Settings, expid: str, job_name: str) -> str:
    name = check_log_name(paths.total_stats_name(job_name))
    return os.path.join(paths.tmp_dir(settings, expid), name)


def read_total_stats(settings: Settings, expid: str, job_name: str) -> List[List[str]]:
    """Every line of `<job>_TOTAL_STATS` split on whitespace (empty lines dropped).

    A missing or unreadable file gives [], and so does one resolving outside the site's
    roots; the last line may be partial (A.10).
    """
    return _total_stats_lines(settings, total_stats_path(settings, expid, job_name))


def read_total_stats_of(settings: Settings, expid: str, job_names: Iterable[str]) -> List[List[List[str]]]:
    """`read_total_stats` of many jobs, in order: the tmp dir is resolved once (a big
    experiment has tens of thousands of stats files)."""
    where = paths.tmp_dir(settings, expid)
    return [
        _total_stats_lines(settings, os.path.join(where, check_log_name(paths.total_stats_name(name))))
        for name in job_names
    ]


def _total_stats_lines(settings: Settings, path: str) -> List[List[str]]:
    try:
        data, _ = confined.read_bytes(settings, path, settings.log_max_kept_bytes)
    except (OSError, confined.Refused):
        return []
    text = data.decode("utf-8", errors="replace")
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
