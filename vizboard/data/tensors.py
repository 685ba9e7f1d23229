"""TensorProto -> numpy (event-format.md §3.3), as TensorBoard's ``make_ndarray`` decodes it, and the
:class:`DecodeError` every decoder of ``vizboard.data.decode`` raises."""

from __future__ import annotations

import numpy as np

from logger._pb import tensor_pb2

__all__ = ["DecodeError", "make_ndarray", "utf8_strings"]


class DecodeError(ValueError):
    """A value whose bytes cannot be read as its plugin's layout."""


_NUMERIC = {
    1: ("<f4", "float_val"),
    2: ("<f8", "double_val"),
    3: ("<i4", "int_val"),
    4: ("u1", "int_val"),
    5: ("<i2", "int_val"),
    6: ("i1", "int_val"),
    8: ("<c8", "scomplex_val"),
    9: ("<i8", "int64_val"),
    10: ("?", "bool_val"),
    11: ("i1", "int_val"),
    12: ("u1", "int_val"),
    13: ("<i4", "int_val"),
    15: ("<i2", "int_val"),
    16: ("<u2", "int_val"),
    17: ("<u2", "int_val"),
    18: ("<c16", "dcomplex_val"),
    22: ("<u4", "uint32_val"),
    23: ("<u8", "uint64_val"),
}
_DT_STRING, _DT_BFLOAT16, _DT_HALF = 7, 14, 19


def _bf16_to_f32(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def make_ndarray(t: tensor_pb2.TensorProto) -> np.ndarray:
    """Decode a TensorProto like TensorBoard's ``make_ndarray`` (§3.3).

    Strings become an object array of ``bytes``; DT_HALF gives float16 and DT_BFLOAT16
    float32 (exact widening). Raises DecodeError for unknown dtypes or bad sizes.
    """
    shape = tuple(int(d.size) for d in t.tensor_shape.dim)
    if any(s < 0 for s in shape):
        raise DecodeError(f"tensor shape {shape} has an unknown dimension")
    size = int(np.prod(shape)) if shape else 1
    dt = t.dtype % 100  # *_REF variants
    if dt == _DT_STRING:
        vals = list(t.string_val)
        arr = np.empty(len(vals), dtype=object)
        arr[:] = vals
    elif dt in (_DT_HALF, _DT_BFLOAT16):
        if t.tensor_content:
            bits = np.frombuffer(t.tensor_content, dtype="<u2")
        else:
            bits = np.asarray(list(t.half_val), dtype=np.int64).astype(np.uint16)
        arr = bits.view(np.float16) if dt == _DT_HALF else _bf16_to_f32(bits)
    elif dt in _NUMERIC:
        np_dtype, field_name = _NUMERIC[dt]
        if t.tensor_content:
            if len(t.tensor_content) % np.dtype(np_dtype).itemsize:
                raise DecodeError(f"tensor_content of {len(t.tensor_content)} bytes is not a whole number of {np_dtype}")
            arr = np.frombuffer(t.tensor_content, dtype=np_dtype)
        else:
            raw = list(getattr(t, field_name))
            if dt in (8, 18):
                pairs = np.asarray(raw, dtype=np.float64)
                arr = (pairs[0::2] + 1j * pairs[1::2]).astype(np_dtype)
            else:
                arr = np.asarray(raw).astype(np_dtype) if raw else np.zeros(0, dtype=np_dtype)
    else:
        raise DecodeError(f"unsupported tensor dtype {t.dtype}")
    if arr.size == size:
        return arr.reshape(shape)
    if arr.size == 1 and not t.tensor_content:
        return np.broadcast_to(arr, shape).copy() if shape else arr.reshape(())
    raise DecodeError(f"tensor holds {arr.size} elements but shape {shape} needs {size}")


def utf8_strings(arr: np.ndarray) -> np.ndarray:
    """An object array of ``str`` from one of ``bytes`` (UTF-8, bad bytes replaced) or other values (``str()``)."""
    out = np.empty(arr.shape, dtype=object)
    flat = out.reshape(-1)
    for i, b in enumerate(arr.reshape(-1)):
        flat[i] = b.decode("utf-8", errors="replace") if isinstance(b, bytes) else str(b)
    return out
