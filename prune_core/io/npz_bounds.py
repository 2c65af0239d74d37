"""Bounds on an uploaded .npz after decompression, checked before any array is read: from the zip directory
(members, declared sizes, compression ratios) and each member's .npy header (shape, dtype), so a 1 MB archive
that inflates to gigabytes, or a header that declares 10¹¹ rows, is refused by what it declares — never by
running out of memory while reading it.

>>> import io, numpy as np
>>> buffer = io.BytesIO()
>>> np.savez_compressed(buffer, x_train=np.zeros((4, 3), np.uint8), y_train=np.arange(4))
>>> [(m.name, m.shape, str(m.dtype)) for m in inspect_npz(buffer.getvalue(), memory_limit=10**6)]
[('x_train', (4, 3), 'uint8'), ('y_train', (4,), 'int64')]
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass

import numpy as np
from numpy.lib import format as npy_format



def _mb(n: int) -> str:
    """A size as the uploader counts it (1 KB = 1024 bytes), large ones in GB.

    >>> _mb(0), _mb(1536), _mb(15 * 1024 ** 2), _mb(4 * 10 ** 11)
    ('0 bytes', '1.5 KB', '15.0 MB', '372.5 GB')
    """
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} bytes"

MAX_MEMBERS = 16            # four arrays are needed; a few extra are tolerated, not thousands
MAX_EXPANSION = 200         # decompressed : compressed, for members over EXPANSION_FLOOR bytes (real images: 2–10)
EXPANSION_FLOOR = 1 << 20   # small members may compress as well as they like
FLOAT_KEYS = ("x_train", "x_test")  # cast to float32 after loading: their float32 copies count too


class NpzBoundsError(ValueError):
    """What is wrong with the archive, in words, with the limit and what to do."""


@dataclass(frozen=True)
class Member:
    """One array of the archive as its header declares it."""

    name: str
    shape: tuple
    dtype: np.dtype
    file_size: int       # decompressed bytes of the .npy member (header included)
    compress_size: int

    @property
    def declared_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def float32_bytes(self) -> int:
        return math.prod(self.shape) * 4


def _describe(member: Member) -> str:
    rows = f"{member.shape[0]:,} rows × " if member.shape else ""
    rest = "×".join(str(d) for d in member.shape[1:]) or "1"
    return f"{rows}{rest} {member.dtype} values"


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple, np.dtype, int]:
    """(shape, dtype, header bytes) from the member's .npy header, reading nothing past it."""
    with archive.open(info) as stream:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unknown .npy version {version}")
        return tuple(int(d) for d in shape), dtype, stream.tell()


def inspect_npz(data: bytes, *, memory_limit: int) -> list[Member]:
    """The archive's arrays as declared, after checking that loading them (and the float32 copies of the images)
    stays within ``memory_limit`` bytes and that every header is honest; NpzBoundsError otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise NpzBoundsError("This file is not an .npz archive (or it is truncated). Save the arrays with "
                             "np.savez('data.npz', x_train=..., y_train=..., x_test=..., y_test=...) "
                             "and upload that file.") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise NpzBoundsError(f"The .npz holds {len(infos):,} files; at most {MAX_MEMBERS} are read. Save only "
                                 "x_train, y_train, x_test and y_test.")
        members = []
        for info in infos:
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED and info.file_size > EXPANSION_FLOOR \
                    and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
                raise NpzBoundsError(
                    f"{name} in the .npz expands from {_mb(info.compress_size)} to {_mb(info.file_size)} "
                    f"(over {MAX_EXPANSION}:1, where real data compresses about 2–10:1): refused as a decompression "
                    "bomb. Upload the arrays as np.savez wrote them.")
            try:
                shape, dtype, offset = _header(archive, info)
            except Exception as exc:  # noqa: BLE001 - any unreadable header is a damaged member
                raise NpzBoundsError(f"{name} in the .npz has no readable NumPy header ({type(exc).__name__}). Save "
                                     "it again with np.savez and upload it.") from None
            if dtype.hasobject:
                raise NpzBoundsError(f"{name} in the .npz holds Python objects (pickled arrays), which are never "
                                     "loaded here. Save plain numeric arrays (e.g. float32 images, int64 labels).")
            member = Member(name, shape, dtype, info.file_size, info.compress_size)
            if member.declared_bytes != info.file_size - offset:
                raise NpzBoundsError(
                    f"{name}'s header declares {_describe(member)} ({_mb(member.declared_bytes)}), but the member "
                    f"holds {_mb(max(info.file_size - offset, 0))} of data: the file is damaged or crafted. Save it "
                    "again with np.savez and upload it.")
            members.append(member)
    needed = sum(m.declared_bytes for m in members) + sum(m.float32_bytes for m in members if m.name in FLOAT_KEYS)
    if needed > memory_limit:
        largest = max(members, key=lambda m: m.declared_bytes)
        raise NpzBoundsError(
            f"The .npz is too large once decompressed: it declares {_mb(sum(m.declared_bytes for m in members))} "
            f"(the largest, {largest.name}, {_describe(largest)}), {_mb(needed)} in memory with the float32 copy of "
            f"the images; the limit is {_mb(memory_limit)}. Upload a smaller subset.")
    return members
