"""One gzip member assembled from pieces compressed at different times (docs/performance.md,
"Moving bodies").

A body with holes (services/rendered.py) is tens of megabytes of static bytes and a few
hundred values that change every second. Compressing the whole body again each second costs
about 0.15 s on a 61 MB tree; here the static pieces are compressed once per body and only
the bytes around the holes each second:

- A DEFLATE stream (RFC 1951) is a sequence of blocks, and a compressor flushed with
  Z_FULL_FLUSH ends its output on a byte boundary and does not refer to anything before the
  flush afterwards. So a piece compressed alone (ending with such a flush) is a run of
  non-final blocks that can sit anywhere in a stream, and runs can be concatenated. An empty
  final block (the two bytes 03 00) ends the stream.
- The gzip trailer (RFC 1952) holds the CRC-32 and the length of the whole uncompressed body.
  The CRC of a concatenation follows from the CRCs of its parts: crc(A + B) is crc(A)
  multiplied by x^(8 * len(B)) modulo the CRC polynomial, plus crc(B), in GF(2). The factor
  of each static piece is computed once with that piece (as eight 16-entry tables), so a
  second costs eight look-ups per static piece.
- The bytes between two static pieces (hole values and the short pieces around them, a few
  hundred bytes) go as stored blocks (RFC 1951 3.2.4: no compression, five bytes of
  header): compressing them would cost more per second than the whole rest of the
  assembly for 2 to 3 percent fewer bytes (docs/performance.md). Longer runs are deflated.

Decompressors see one ordinary gzip member; its bytes decompress to exactly the joined body.
"""

from __future__ import annotations

import threading
import zlib
from array import array
from typing import List, Sequence, Tuple, Union

# CRC-32 (ISO-HDLC, as gzip and zlib use it), bit-reversed polynomial.
_POLY = 0xEDB88320
# No name, no modification time, no extra flags, operating system "unknown".
HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# BFINAL=1, fixed Huffman codes, end-of-block at once: the last block, empty.
_LAST_BLOCK = b"\x03\x00"


def _multiply(a: int, b: int) -> int:
    """a * b modulo the CRC polynomial; both are bit-reversed (x^0 in the top bit)."""
    product = 0
    mask = 1 << 31
    while True:
        if a & mask:
            product ^= b
            if not a & (mask - 1):
                return product
        mask >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _powers() -> List[int]:
    """x^(2^k) modulo the polynomial for k = 0..31 (x^1 is the bit below the top one)."""
    power = 1 << 30
    table = [power]
    for _ in range(31):
        power = _multiply(power, power)
        table.append(power)
    return table


_X_TO_TWO_TO = _powers()


def shift_of(length: int) -> int:
    """x^(8 * length) modulo the polynomial: what appending `length` bytes multiplies a CRC by."""
    power = 1 << 31  # x^0
    k = 3  # 8 * length = length * 2^3
    while length:
        if length & 1:
            power = _multiply(_X_TO_TWO_TO[k & 31], power)
        length >>= 1
        k += 1
    return power


def _times_x(b: int) -> int:
    return (b >> 1) ^ _POLY if b & 1 else b >> 1


def _nibble_tables(a: int) -> "array[int]":
    """Products a * b for every 4-bit slice of b: 8 tables of 16, flattened (512 bytes as an
    array of 32-bit values). Multiplying by a is linear in b, so a * b is the XOR of the
    products of b's eight slices."""
    columns = [0] * 32  # columns[j] = a * (the polynomial of bit j alone) = a * x^(31 - j)
    column = a
    for j in range(31, -1, -1):
        columns[j] = column
        column = _times_x(column)
    tables = array("I")
    for lane in range(8):
        table = [0] * 16
        for v in range(1, 16):
            low = v & -v
            table[v] = table[v ^ low] ^ columns[4 * lane + low.bit_length() - 1]
        tables.extend(table)
    return tables


def _times(tables: "array[int]", b: int) -> int:
    """a * b with the nibble tables of a."""
    return (
        tables[b & 15]
        ^ tables[16 + (b >> 4 & 15)]
        ^ tables[32 + (b >> 8 & 15)]
        ^ tables[48 + (b >> 12 & 15)]
        ^ tables[64 + (b >> 16 & 15)]
        ^ tables[80 + (b >> 20 & 15)]
        ^ tables[96 + (b >> 24 & 15)]
        ^ tables[112 + (b >> 28)]
    )


class Static:
    """A piece compressed once: its DEFLATE blocks, its CRC-32, its length, and the tables that
    multiply a CRC by its shift (x^(8 * length)) in eight look-ups."""

    __slots__ = ("deflated", "crc", "length", "tables")

    def __init__(self, deflated: bytes, crc: int, length: int):
        self.deflated = deflated
        self.crc = crc
        self.length = length
        self.tables = _nibble_tables(shift_of(length))


# A piece at least this long is compressed once with its body; shorter ones (the few
# hundred bytes between two values of one job) go with the values each second.
MIN_STATIC = 4096
# A run of bytes between static pieces shorter than this is sent as a stored block.
MIN_DEFLATED_RUN = 2048
_MAX_STORED = 65535  # the length field of a stored block is 16 bits


def compress_static(pieces: Sequence[bytes], level: int) -> List[Static]:
    """Each piece as a run of blocks independent of what precedes it in the stream."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    out = []
    for piece in pieces:
        deflated = compressor.compress(piece) + compressor.flush(zlib.Z_FULL_FLUSH)
        out.append(Static(deflated, zlib.crc32(piece), len(piece)))
    return out


def _stored(run: bytes) -> bytes:
    """`run` (at most _MAX_STORED bytes) as one non-final stored block, from a byte boundary:
    BFINAL 0 and BTYPE 00 padded to a byte, then LEN and its complement NLEN."""
    n = len(run)
    return b"\x00" + n.to_bytes(2, "little") + (n ^ 0xFFFF).to_bytes(2, "little") + run


# A body to splice, in order: static pieces compressed once, and the runs of raw bytes
# between them.
Part = Union[Static, bytes]


def assemble(parts: Sequence[Part], level: int) -> bytes:
    """The gzip member of the concatenation of `parts`."""
    compressor = None
    out = [HEADER]
    crc = 0
    size = 0
    for part in parts:
        if isinstance(part, Static):
            out.append(part.deflated)
            crc = _times(part.tables, crc) ^ part.crc
            size += part.length
            continue
        if not part:
            continue
        if len(part) < MIN_DEFLATED_RUN:
            out.append(_stored(part))
        else:
            if compressor is None:
                compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
            out.append(compressor.compress(part))
            out.append(compressor.flush(zlib.Z_FULL_FLUSH))
        crc = zlib.crc32(part, crc)
        size += len(part)
    out.append(_LAST_BLOCK)
    out.append(crc.to_bytes(4, "little"))
    out.append((size & 0xFFFFFFFF).to_bytes(4, "little"))
    return b"".join(out)


class Plan:
    """How the body pieces[0] + values[0] + pieces[1] + ... + pieces[-1] is spliced: the long
    pieces compressed once (on first use, under a lock, at one level), and the bytes between
    two of them joined each time with the values."""

    __slots__ = ("_pieces", "_level", "_layout", "_lock")

    def __init__(self, pieces: Sequence[bytes]):
        self._pieces = pieces
        self._level = -1
        # In order: Static pieces, and (i, j) for the bytes between static pieces i and j
        # (i = -1: the start of the body; j = len(pieces): its end).
        self._layout: List[Union[Static, Tuple[int, int]]] = []
        self._lock = threading.Lock()

    def _layout_at(self, level: int) -> List[Union[Static, Tuple[int, int]]]:
        with self._lock:
            if self._level != level:
                pieces = self._pieces
                big = [i for i, piece in enumerate(pieces) if len(piece) >= MIN_STATIC]
                statics = dict(zip(big, compress_static([pieces[i] for i in big], level)))
                bounds = [-1] + big + [len(pieces)]
                layout: List[Union[Static, Tuple[int, int]]] = []
                for i, j in zip(bounds, bounds[1:]):
                    if 0 <= i < len(pieces) - 1 or j - i > 1:  # a value or a piece between
                        layout.append((i, j))
                    if j < len(pieces):
                        layout.append(statics[j])
                self._layout = layout
                self._level = level
            return self._layout

    def gzip(self, values: Sequence[bytes], level: int) -> bytes:
        """The gzip member of the body with these hole values (len(pieces) - 1 of them)."""
        pieces = self._pieces
        last = len(values)
        parts: List[Part] = []
        for entry in self._layout_at(level):
            if isinstance(entry, Static):
                parts.append(entry)
                continue
            i, j = entry
            # values[i], then pieces[k] and values[k] for k between i and j (no value after
            # the body's last piece)
            run = [values[i]] if 0 <= i < last else []
            for k in range(i + 1, j):
                run.append(pieces[k])
                if k < last:
                    run.append(values[k])
            parts.append(b"".join(run))
        return assemble(parts, level)
