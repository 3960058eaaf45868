"""services/spliced_gzip.py: a gzip member assembled from pieces compressed at different
times decodes, with every decoder at hand, to exactly the joined body; the CRC arithmetic
agrees with zlib's."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
import zlib

import pytest

from autosubmit_api.services import spliced_gzip
from autosubmit_api.services.rendered import Live, render
from autosubmit_api.services.spliced_gzip import MIN_DEFLATED_RUN, MIN_STATIC, Plan


def _text(rng: random.Random, n: int) -> bytes:
    """JSON-like ASCII with repetitions, so the compressor has something to find."""
    words = [b'{"name":"a000_SIM","status":"RUNNING"}', b"12345", b'"queue":', b",", b"[]", b"null"]
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words) if rng.random() < 0.8 else bytes([rng.randrange(32, 127)])
    return bytes(out[:n])


def _joined(pieces, values) -> bytes:
    out = [pieces[0]]
    for value, piece in zip(values, pieces[1:]):
        out += [value, piece]
    return b"".join(out)


def _decoders(data: bytes):
    """What each decoder makes of `data`: Python's gzip, zlib fed in 7-byte chunks, and the
    system's gzip program when there is one."""
    yield "gzip.decompress", gzip.decompress(data)
    stream = zlib.decompressobj(wbits=31)
    out = b"".join(stream.decompress(data[i : i + 7]) for i in range(0, len(data), 7)) + stream.flush()
    assert stream.eof and not stream.unused_data
    yield "zlib in chunks", out
    program = shutil.which("gzip")
    if program:
        done = subprocess.run([program, "-dc"], input=data, capture_output=True, check=True)
        yield "gzip -dc", done.stdout


LENGTHS = {
    "empty": 0,
    "tiny": 3,
    "short": 200,
    "below static": MIN_STATIC - 1,
    "static": MIN_STATIC,
    "long": 70_000,
}


@pytest.mark.parametrize("seed", range(12))
def test_a_spliced_body_decodes_to_the_joined_bytes(seed):
    rng = random.Random(seed)
    n = rng.randrange(1, 40)
    pieces = [_text(rng, LENGTHS[rng.choice(list(LENGTHS))]) for _ in range(n + 1)]
    plan = Plan(pieces)
    for second in range(3):  # the static pieces are compressed once, the values each time
        values = [_text(rng, rng.choice((0, 1, 7, 30, MIN_DEFLATED_RUN + 10))) for _ in range(n)]
        body = _joined(pieces, values)
        data = plan.gzip(values, 1)
        assert data[:2] == b"\x1f\x8b"
        for name, decoded in _decoders(data):
            assert decoded == body, (seed, second, name)


def test_edges_of_the_layout():
    big = b"s" * MIN_STATIC
    cases = [
        ([b"", b""], [b"1"]),  # no piece of any length
        ([big, big], [b"2"]),  # two static pieces side by side
        ([big, b"", big, b"x"], [b"", b"3", b""]),  # empty values between them
        ([b"a", big], [b"4"]),  # static last
        ([big, b"b"], [b"5"]),  # static first
        ([b"{", b",", b"}"], [b"6", b"7"]),  # nothing static
    ]
    for pieces, values in cases:
        data = Plan(pieces).gzip(values, 6)
        for name, decoded in _decoders(data):
            assert decoded == _joined(pieces, values), (pieces, values, name)


def test_a_new_level_compresses_the_static_pieces_again():
    rng = random.Random(7)
    pieces = [_text(rng, 200_000), _text(rng, 200_000)]
    plan = Plan(pieces)
    fast, small = plan.gzip([b"1"], 1), plan.gzip([b"1"], 9)
    assert len(small) < len(fast)
    assert gzip.decompress(fast) == gzip.decompress(small) == _joined(pieces, [b"1"])


@pytest.mark.parametrize("length", [0, 1, 3, 4, 255, 4096, 1_000_003])
def test_crc_of_a_concatenation_from_the_parts(length):
    rng = random.Random(length)
    head = rng.randbytes(rng.randrange(0, 500))
    tail = rng.randbytes(length)
    tables = spliced_gzip._nibble_tables(spliced_gzip.shift_of(length))
    combined = spliced_gzip._times(tables, zlib.crc32(head)) ^ zlib.crc32(tail)
    assert combined == zlib.crc32(head + tail)


def test_shift_of_nothing_is_one():
    assert spliced_gzip.shift_of(0) == 1 << 31  # x^0 in the bit-reversed form


def test_the_body_of_a_rendered_view_in_two_seconds():
    """Through services/rendered.py: each second's Version makes its gzip without joining."""
    jobs = [{"name": f"a000_{i}", "log": "x" * 5000, "minutes": Live(("minutes", i))} for i in range(20)]
    view = render({"jobs": jobs, "pkl_timestamp": Live("now")})
    for now in (100, 101):
        version = view.version_at(now, lambda at: lambda keys: {k: at if k == "now" else k[1] * at for k in keys})
        assert version.gzip_of is not None
        data = version.gzip_of(1)
        assert version.joined is None  # the plain bytes were never made
        assert gzip.decompress(data) == version.body
