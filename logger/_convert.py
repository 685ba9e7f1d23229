"""Value and array conversion: cheap validation and snapshotting on the training thread, numpy on the writer thread.

Torch is never imported here: a torch tensor is recognised by its type's module name.
On the training thread, :func:`capture` takes a snapshot that later in-place updates
of the caller's tensor (weights, grads) cannot change: ``detach().clone()`` for tensors
(asynchronous on CUDA: no device sync), ``numpy.array(copy=True)`` for arrays.
:func:`to_numpy` turns the snapshot into a numpy array on the writer thread.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["ArgumentError", "is_tensor", "capture", "to_numpy", "scalar", "check_tag", "check_walltime", "check_step"]


class ArgumentError(ValueError, AssertionError):
    """Bad argument value: a ValueError that ``except AssertionError`` (what torch raises there) also catches."""


def is_tensor(x: Any) -> bool:
    """True for torch tensors (checked by module name, without importing torch)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def check_tag(tag: Any, name: str = "tag") -> str:
    """Return ``tag`` if it is a str (empty allowed, as torch), else raise TypeError naming ``name``."""
    if type(tag) is not str:
        if isinstance(tag, str):
            return str(tag)
        raise TypeError(f"{name} must be a str, got {type(tag).__name__} {tag!r}")
    return tag


def check_walltime(walltime: Any) -> float:
    """Return ``walltime`` as float seconds since the epoch; reject non-numbers and NaN/inf."""
    try:
        w = float(walltime)
    except (TypeError, ValueError):
        raise TypeError(f"walltime must be a number of seconds since the epoch, got {walltime!r}") from None
    if not math.isfinite(w):
        raise ValueError(f"walltime must be finite (seconds since the epoch), got {walltime!r}")
    return w


def check_step(step: Any) -> int:
    """Return ``global_step`` as int (None -> 0); floats must be whole numbers."""
    if step is None:
        return 0
    if type(step) is int:
        return step
    try:
        s = int(step)
    except (TypeError, ValueError):
        raise TypeError(f"global_step must be an int, got {type(step).__name__} {step!r}") from None
    if isinstance(step, float) and s != step:
        raise ValueError(f"global_step must be a whole number, got {step!r}")
    return s


def scalar(value: Any, name: str = "scalar_value") -> Any:
    """Validate a scalar on the training thread.

    Returns a Python float, or (CUDA tensors) a cloned 0-d tensor converted later on the
    writer thread with ``.item()``. Raises TypeError/ValueError naming ``name``.
    """
    t = type(value)
    if t is float or t is int or t is bool:
        return float(value)
    mod = t.__module__
    if mod.startswith("torch") and hasattr(value, "detach"):
        if value.numel() != 1:
            raise ArgumentError(f"{name} must hold exactly one element, got a tensor of shape {tuple(value.shape)}")
        if value.is_complex():
            raise TypeError(f"{name} must be real, got a {value.dtype} tensor")
        if value.device.type == "cpu":
            return float(value.detach().reshape(()).item())
        return value.detach().reshape(()).clone()  # async on CUDA; .item() on the writer thread
    if mod == "numpy":
        if getattr(value, "size", 1) != 1:
            raise ArgumentError(f"{name} must hold exactly one element, got an array of shape {value.shape}")
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a real number, got numpy dtype {value.dtype}")
        return float(value.reshape(()) if hasattr(value, "reshape") else value)
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number (int, float, numpy or torch scalar), got {t.__name__} {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number (int, float, numpy or torch scalar), got {t.__name__}") from None


def capture(x: Any, name: str, *, numeric: bool = True) -> Any:
    """Snapshot an array-like on the training thread (tensor clone or numpy copy); validate cheaply."""
    if is_tensor(x):
        t = x.detach()
        if numeric and (t.is_complex() or str(t.dtype) in ("torch.complex32",)):
            raise TypeError(f"{name} must be real-valued, got a {t.dtype} tensor")
        return t.clone()
    import numpy as np

    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a numpy array, torch tensor or sequence of numbers, got {type(x).__name__}")
    try:
        arr = np.array(x, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like: {exc}") from None
    if numeric and arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def to_numpy(x: Any) -> Any:
    """Convert a captured value to a numpy array (writer thread). bfloat16 becomes float32."""
    import numpy as np

    if is_tensor(x):
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        return x.cpu().numpy()
    return np.asarray(x)


def shape_of(x: Any) -> tuple[int, ...]:
    """Shape of a tensor or array (as a tuple of ints)."""
    return tuple(int(d) for d in x.shape)
