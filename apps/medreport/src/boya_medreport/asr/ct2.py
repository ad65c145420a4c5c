"""Read a CTranslate2 ``model.bin`` (binary format version 6) into NumPy arrays.

CTranslate2 is the format faster-whisper uses; we read it ourselves so the embedded
Whisper runs on the monorepo's own transformers + torch, without ctranslate2's
~150 MB of native libraries. Layout (little-endian): ``u32 version``, the spec
name and ``u32 revision``, ``u32 n`` variables each ``name, u8 rank, u32 dims[rank],
u8 dtype, u32 nbytes, data``, then ``u32 m`` aliases ``(alias, target)``.
Strings are ``u16 length`` + bytes ending in NUL.
"""

import struct
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

# CTranslate2's DataType enum
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: None}  # 5 = bfloat16
SUPPORTED_VERSIONS = (5, 6)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.offset = data, 0

    def unpack(self, fmt: str):
        values = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += struct.calcsize(fmt)
        return values

    def string(self) -> str:
        (length,) = self.unpack("<H")
        raw = self.data[self.offset : self.offset + length]
        self.offset += length
        return raw.rstrip(b"\0").decode("utf-8")


def read_ct2(path) -> tuple[str, dict[str, np.ndarray]]:
    """Return ``(spec_name, {variable_name: array})``; aliases appear under both names."""
    path = Path(path)
    data = path.read_bytes()
    reader = _Reader(data)
    try:
        (version,) = reader.unpack("<I")
        if version not in SUPPORTED_VERSIONS:
            raise BoyaError(f"{path}: CTranslate2 binary version {version} is not supported (need 5 or 6)")
        spec = reader.string()
        reader.unpack("<I")  # spec revision
        (count,) = reader.unpack("<I")
        variables = {}
        for _ in range(count):
            name = reader.string()
            (rank,) = reader.unpack("<B")
            shape = reader.unpack(f"<{rank}I")
            dtype_id, nbytes = reader.unpack("<BI")
            dtype = _DTYPES.get(dtype_id)
            if dtype is None:
                raise BoyaError(f"{path}: variable {name} has unsupported CTranslate2 dtype {dtype_id}")
            if reader.offset + nbytes > len(data):
                raise struct.error(f"variable {name} runs past the end of the file")
            array = np.frombuffer(
                data, dtype=dtype, count=nbytes // np.dtype(dtype).itemsize, offset=reader.offset
            )
            reader.offset += nbytes
            variables[name] = array.reshape(shape)
        (aliases,) = reader.unpack("<I")
        for _ in range(aliases):
            alias, target = reader.string(), reader.string()
            variables[alias] = variables[target]
    except struct.error as e:
        raise BoyaError(f"{path} is truncated or not a CTranslate2 model ({e})") from None
    return spec, variables
