"""Argument normalisation shared by the op front ends (not an op module): Python numbers
and array-likes to tensors (``_tensorize``, ``_as_tensor``), PyTorch's dtype promotion and
broadcast check for two operands (``binary_args``), integer tensors to the default float
dtype for float ops (``_floating``, ``_unary``), and int arguments (``_int``).
"""

import numpy as np

from .._dtypes import DEFAULTS, result_np_dtype
from .._tensor import Tensor
from .._creation import tensor


# --- argument normalisation -------------------------------------------------------------

_SCALARS = (int, float, bool)
# the common float dtypes, for identity tests on the hot paths: ``(dt := x.dtype) is F64 or
# dt is F32 or dt.kind == "f"`` asks ``.kind`` (a second attribute lookup, ~25 ns) only of
# the rare ones
F64 = np.dtype(np.float64)
F32 = np.dtype(np.float32)


def _tensorize(x, like=None):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.generic):
        return x.item()           # np.float64(2) acts like the Python number 2.0 (weak dtype)
    if isinstance(x, _SCALARS):
        return x
    return tensor(x)


def _broadcast_error(opname, sa, sb):
    # find the first mismatching dim from the right, as PyTorch reports it
    for i in range(1, min(len(sa), len(sb)) + 1):
        x, y = sa[-i], sb[-i]
        if x != y and x != 1 and y != 1:
            dim = max(len(sa), len(sb)) - i
            return RuntimeError(
                f"{opname}: The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                f"non-singleton dimension {dim} (shapes {list(sa)} and {list(sb)} don't "
                f"broadcast). Reshape or unsqueeze one operand so the shapes line up.")
    return RuntimeError(f"{opname}: shapes {list(sa)} and {list(sb)} don't broadcast")


def binary_args(opname, a, b, floating=False):
    """Promote two operands to PyTorch's common dtype; Tensors of that dtype pass through.

    ``floating``: integer results become the default float dtype (true division)."""
    # fast paths: same-dtype, same-shape Tensors; a float Tensor with a Python number
    ca, cb = a.__class__, b.__class__
    if ca is Tensor:
        da = a._data
        if cb is Tensor:
            db = b._data
            if da.dtype is db.dtype and da.shape == db.shape and \
                    (not floating or da.dtype.kind == "f"):
                return a, b
        elif (cb is float or cb is int and _PYINT_MIN <= b <= _PYINT_MAX) and \
                ((dt := da.dtype) is F64 or dt is F32 or dt.kind == "f"):
            return a, b
    elif (ca is float or ca is int and _PYINT_MIN <= a <= _PYINT_MAX) and cb is Tensor and \
            ((dt := b._data.dtype) is F64 or dt is F32 or dt.kind == "f"):
        return a, b
    ta = a.__class__ is Tensor or isinstance(a, Tensor)
    tb = b.__class__ is Tensor or isinstance(b, Tensor)
    if not ta:
        a = _tensorize(a)
        ta = isinstance(a, Tensor)
    if not tb:
        b = _tensorize(b)
        tb = isinstance(b, Tensor)
    da = a._data if ta else a
    db = b._data if tb else b
    if ta and tb:
        sa, sb = da.shape, db.shape
        if sa != sb:
            # (np.broadcast_shapes would do, at ~10x the cost of this loop)
            for x, y in zip(sa[::-1], sb[::-1]):
                if x != y and x != 1 and y != 1:
                    raise _broadcast_error(opname, sa, sb)
        if da.dtype is db.dtype and (not floating or da.dtype.kind == "f"):
            return a, b
    dt = result_np_dtype((da, db))
    if floating and dt.kind != "f":
        dt = DEFAULTS.float.np
    if not ta and a.__class__ is int:
        a = _int_operand(opname, a, dt)
    if not tb and b.__class__ is int:
        b = _int_operand(opname, b, dt)
    if ta and da.dtype != dt:
        a = a.to(dt)
    if tb and db.dtype != dt:
        b = b.to(dt)
    return a, b


# the Python ints PyTorch takes as an operand (int64 or uint64); beyond them it raises
# OverflowError, so the fast paths of add, sub, mul and div (arithmetic.py) leave such ints
# to binary_args' check
_PYINT_MIN, _PYINT_MAX = -0x8000000000000000, 0xFFFFFFFFFFFFFFFF


def _int_operand(opname, v, dt):
    """A Python int operand as PyTorch takes it: beyond the 64-bit range it raises; in an
    integer op it wraps to the result dtype (``int8_tensor + 300`` adds 44, as PyTorch)."""
    if not -0x8000000000000000 <= v <= 0xFFFFFFFFFFFFFFFF:
        raise OverflowError(f"{opname}: int too big to convert: the Python int {v} fits "
                            f"neither int64 nor uint64. Use a float ({float(v):.4g}) or a "
                            f"smaller number.")
    if dt.kind in "iu":
        if v > 0x7FFFFFFFFFFFFFFF:
            v -= 0x10000000000000000      # (PyTorch reads it as uint64 bits, as an int64)
        info = np.iinfo(dt)
        if not info.min <= v <= info.max:
            v = int(np.array(v, dtype=np.int64).astype(dt))
    return v


def _unary(op, x):
    """Run an elementwise float op (sin, exp ...): integer tensors become the default float
    dtype first."""
    if x.__class__ is Tensor and ((dt := x._data.dtype) is F64 or dt is F32 or dt.kind == "f"):
        return op.apply((x,))
    return op.apply((_floating(x),))


def _floating(x):
    """Integer/bool tensors become the default float dtype before float ops (like sin)."""
    if not isinstance(x, Tensor):
        x = _tensorize(x)
        if not isinstance(x, Tensor):
            x = tensor(x)
    if x._data.dtype.kind != "f":
        return x.to(DEFAULTS.float.np)
    return x


def _as_tensor(x):
    x = _tensorize(x)
    if not isinstance(x, Tensor):
        x = tensor(x)
    return x


def _int(v, opname, what):
    if isinstance(v, Tensor):
        if v._data.ndim != 0 or v._data.dtype.kind not in "iu":
            raise TypeError(f"{opname}(): argument '{what}' must be an int or a 0-d integer "
                            f"tensor, got a tensor of shape {list(v._data.shape)} and dtype "
                            f"{v.dtype}")
        return int(v._data)
    if isinstance(v, (bool, float)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{opname}(): argument '{what}' must be int, not {type(v).__name__}")
    return int(v)
