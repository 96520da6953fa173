"""The do-not-call registry extract (DND/NCPR, or any do-not-call file the war room holds), stored
compactly and checked in O(1).

Storage: a sorted array of 32-bit offsets (the 10-digit mobile number minus 6,000,000,000: every Indian
mobile fits in 32 bits) with a bucket index over the top bits (one 32-bit start position per 4,096
numbers). A check reads two index entries and bisects the bucket between them, about 10 numbers at 1
crore entries: constant time whatever the file's size. 1 crore numbers take 40 MB plus the 3.9 MB index;
the file is mapped, not read, so opening it costs nothing. Only 10-digit mobile numbers are kept (the
registry extract lists mobiles); other lines are counted as skipped.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from core.errors import Invalid

BASE = 6_000_000_000          # the smallest Indian mobile number (10 digits, starting 6-9)
SPAN = 4_000_000_000          # 6000000000 .. 9999999999
SHIFT = 12                    # 4,096 numbers per bucket
BUCKETS = (SPAN >> SHIFT) + 1
MAGIC = b"WRDND01\n"
HEADER = struct.Struct("<8sQ")  # magic, count
CHUNK = 4 << 20
_KEEP = bytes(range(48, 58)) + b"\n"
_DELETE = bytes(b for b in range(256) if b not in _KEEP)


def offset_of(phone: str) -> int | None:
    """The stored offset of a phone (E.164 or as written), or None when it is not a 10-digit mobile."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] not in "6789":
        return None
    return int(digits) - BASE


def _offsets(line: bytes) -> int | None:
    """``offset_of`` for a line already reduced to its digits (the loader's hot path)."""
    n = len(line)
    if n == 12 and line[:2] == b"91":
        line = line[2:]
    elif n == 11 and line[:1] == b"0":
        line = line[1:]
    elif n != 10:
        return None
    return int(line) - BASE if line[0] >= 54 else None  # b"6"


@dataclass(frozen=True)
class LoadSummary:
    lines: int
    numbers: int       # distinct mobile numbers stored
    skipped: int       # lines that are not a 10-digit mobile number
    seconds: float

    def as_dict(self) -> dict[str, float | int]:
        return {"lines": self.lines, "numbers": self.numbers, "skipped": self.skipped,
                "seconds": round(self.seconds, 2)}


def _read_offsets(source: Path, progress: Callable[[int], None] | None) -> tuple[list[Any], int, int]:
    import numpy as np

    parts: list[Any] = []
    lines = skipped = 0
    carry = b""
    with open(source, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk and not carry:
                break
            data = carry + chunk
            if chunk:
                cut = data.rfind(b"\n") + 1
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            raw = data.replace(b"\r", b"").split(b"\n")
            digits = data.translate(None, _DELETE).split(b"\n")
            if len(digits) != len(raw):  # pragma: no cover - translate keeps every newline
                raise Invalid(f"{source.name}: could not split the file into lines")
            found = [o for o in map(_offsets, digits) if o is not None]
            counted = sum(1 for r in raw if r.strip())
            lines += counted
            skipped += counted - len(found)
            parts.append(np.array(found, dtype=np.uint32))
            if progress:
                progress(len(chunk))
            if not chunk:
                break
    return parts, lines, skipped


def build(source: Path, dest: Path, progress: Callable[[int], None] | None = None) -> LoadSummary:
    """Read a plain list of numbers (one a line, written any usual way) into the store at ``dest``
    (written beside it, then moved in place: a check never sees half a file)."""
    import numpy as np

    if not source.is_file():
        raise Invalid(f"{source}: no such file")
    started = time.monotonic()
    parts, lines, skipped = _read_offsets(source, progress)
    data = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint32)
    del parts
    starts = np.searchsorted(data, np.arange(BUCKETS + 1, dtype=np.uint64) << SHIFT).astype(np.uint32)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    with open(partial, "wb") as fh:
        fh.write(HEADER.pack(MAGIC, len(data)))
        fh.write(starts.astype("<u4").tobytes())
        fh.write(data.astype("<u4").tobytes())
    os.replace(partial, dest)
    return LoadSummary(lines, int(len(data)), skipped, time.monotonic() - started)


class DndList:
    """The store, mapped read-only: ``phone in dnd`` in O(1). An absent file is an empty list."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._map: mmap.mmap | None = None
        self._index: memoryview | None = None
        self._data: memoryview | None = None
        if path.exists() and path.stat().st_size > 0:
            with open(path, "rb") as fh:
                self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            magic, self.count = HEADER.unpack_from(self._map, 0)
            if magic != MAGIC:
                self.close()
                raise Invalid(f"{path}: not a do-not-call store (load the list again)")
            view = memoryview(self._map)[HEADER.size:]
            self._index = view[:(BUCKETS + 1) * 4].cast("I")
            self._data = view[(BUCKETS + 1) * 4:].cast("I")

    def __contains__(self, phone: object) -> bool:
        if not isinstance(phone, str) or self._data is None or self._index is None:
            return False
        offset = offset_of(phone)
        if offset is None:
            return False
        bucket = offset >> SHIFT
        lo, hi = self._index[bucket], self._index[bucket + 1]
        i = bisect_left(self._data, offset, lo, hi)
        return i < hi and self._data[i] == offset

    def __len__(self) -> int:
        return self.count

    def scrub(self, phones: Iterable[str]) -> list[bool]:
        """Whether each phone is on the list."""
        return [phone in self for phone in phones]

    def close(self) -> None:
        for view in (self._index, self._data):
            if view is not None:
                view.release()
        self._index = self._data = None
        if self._map is not None:
            self._map.close()
            self._map = None

    def __enter__(self) -> DndList:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
