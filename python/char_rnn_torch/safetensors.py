"""The safetensors container, float32 only, in plain Python and numpy (no `safetensors` package).

Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N bytes of
JSON (padded with spaces so that the data starts on an 8-byte boundary), then the raw little-endian data.
Each header entry is {dtype, shape, data_offsets: [begin, end)} relative to the start of the data; the
optional `__metadata__` maps strings to strings. The JSON is written as JavaScript's JSON.stringify writes
it (no spaces, non-ASCII kept), so a file the engine wrote and this module rewrites is the same bytes.
"""

import json
import struct

import numpy as np

HEADER_ALIGN = 8
MAX_HEADER_BYTES = 100_000_000  # the reference implementation's limit: a longer header is a corrupt file


class SafetensorsError(Exception):
    pass


def read_safetensors(path):
    """Returns (tensors, metadata): tensors maps name -> float32 array in file order."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise SafetensorsError(f"{path}: truncated ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise SafetensorsError(f"{path}: header length {n} does not fit the file of {len(data)} bytes")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    body = memoryview(data)[8 + n :]
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise SafetensorsError(f"{path}: tensor {name} has dtype {entry['dtype']}; only F32 is supported")
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        if end - begin != 4 * int(np.prod(shape, dtype=np.int64)) or end > len(body):
            raise SafetensorsError(f"{path}: tensor {name}: data_offsets [{begin}, {end}) do not hold shape {list(shape)}")
        # A copy, so that the arrays are writable and do not keep the whole file alive.
        tensors[name] = np.frombuffer(body[begin:end], dtype="<f4").reshape(shape).astype(np.float32)
    return tensors, metadata


def encode_safetensors(tensors, metadata):
    """tensors: list of (name, array), written as little-endian F32 in the order given."""
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name, value in tensors:
        a = np.ascontiguousarray(value, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        chunks.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % HEADER_ALIGN)
    return b"".join([struct.pack("<Q", len(text)), text, *chunks])
