"""Padding (``nn.functional.pad``): constant pads are one op (``constant_pad_nd``);
reflect, replicate and circular pads read at computed integer positions (index ops whose
transpose scatter-adds)."""

import numpy as np

from .._backend import copy_array, index_on
from ._core import NF, TF, defop
from ._args import _as_tensor
from .index import gather_op


# --- padding (nn.functional.pad) ------------------------------------------------------------

def _cpad_np(x, widths, value):
    # negative widths crop (PyTorch's semantics), positive ones pad with ``value``
    crop = tuple(slice(-lo if lo < 0 else 0, n + hi if hi < 0 else n)
                 for (lo, hi), n in zip(widths, x.shape))
    x = x[crop]
    pos = [(lo if lo > 0 else 0, hi if hi > 0 else 0) for lo, hi in widths]
    if not any(lo or hi for lo, hi in pos):
        return copy_array(x)
    return np.pad(x, pos, mode="constant", constant_values=value)


def _neg_widths(widths):
    return tuple((-lo, -hi) for lo, hi in widths)


CONSTANT_PAD = defop(
    "constant_pad_nd", lambda x, widths, value: _cpad_np(x, widths, value),
    vjps=(lambda F, g, out, x, widths, value: F.pad_constant(g, _neg_widths(widths)),),
    jvp=lambda F, t, out, x, widths, value: F.pad_constant(t[0], widths),
    save_inputs=False, backward_name="ConstantPadNdBackward0")

# reflect / replicate / circular: reads at computed integer positions
_INDEX_PADS = {(mode, k): gather_op(f"{mode}_pad{k}d", f"{bname}Pad{k}DBackward0")
               for mode, bname in (("reflect", "Reflection"), ("replicate", "Replication"))
               for k in (1, 2, 3)}
_INDEX_PADS["circular"] = gather_op("circular_pad", "CopySlices")


def _pad_positions(mode, n, lo, hi):
    p = np.arange(-lo, n + hi)
    if mode == "reflect":
        p = np.abs(p)
        p = np.where(p > n - 1, 2 * (n - 1) - p, p)
    elif mode == "replicate":
        p = np.clip(p, 0, n - 1)
    else:
        p = np.mod(p, n)
    return p


def pad(input, pad, mode="constant", value=None):
    """Pad the last dimensions: ``pad = (left, right)`` for the last dimension, then
    ``(top, bottom)`` for the one before, and so on (negative values crop).  ``mode``:
    ``'constant'`` (with ``value``, default 0), ``'reflect'``, ``'replicate'`` or
    ``'circular'``.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.pad(torch.tensor([[1., 2.]]), (1, 0), value=9.)
    tensor([[9., 1., 2.]])
    >>> F.pad(torch.tensor([[1., 2., 3.]]), (2, 1), mode='reflect')
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    x = _as_tensor(input)
    pads = [int(p) for p in pad]
    nd = x._data.ndim
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pads) // 2
    if k > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pads)} and input of "
                           f"dimension {nd}")
    shape = x._data.shape
    widths = [(0, 0)] * (nd - k) + [(pads[2 * (k - 1 - j)], pads[2 * (k - 1 - j) + 1])
                                    for j in range(k)]
    if mode == "constant":
        for d, ((lo, hi), n) in enumerate(zip(widths, shape)):
            if n + lo + hi < 0:
                raise RuntimeError(f"The input size {n}, plus negative padding {lo} and {hi} "
                                   f"resulted in a negative output size, which is invalid. "
                                   f"Check dimension {d} of your input.")
        return CONSTANT_PAD.apply((x,), {"widths": tuple(widths),
                                          "value": 0 if value is None else value})
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unknown padding mode {mode!r}; use 'constant', "
                                  f"'reflect', 'replicate' or 'circular'")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {nd}D input tensor.\nSupported "
            f"combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 "
            f"(pads last dimension)\n  - 3D or 4D input: padding size = 4 (pads last 2 "
            f"dimensions)\n  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    arrays = []
    for j, d in enumerate(range(nd - k, nd)):
        lo, hi = widths[d]
        n = shape[d]
        if lo < 0 or hi < 0:
            raise RuntimeError(f"pad: negative padding is only supported in 'constant' mode "
                               f"(got {lo}, {hi} at dimension {d} in mode {mode!r})")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {d} of input {list(shape)}")
        if mode == "replicate" and n == 0:
            raise RuntimeError(f"pad: cannot replicate-pad an empty dimension {d}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        p = _pad_positions(mode, n, lo, hi)
        arrays.append(p.reshape((1,) * j + (-1,) + (1,) * (k - 1 - j)))
    op = _INDEX_PADS["circular"] if mode == "circular" else _INDEX_PADS[(mode, k)]
    return op.apply((x,), {"idx": index_on(x._data, (Ellipsis,) + tuple(arrays)),
                           "shape": shape})


# --- rule namespaces ---------------------------------------------------------------------

NF.pad_constant = lambda x, widths: _cpad_np(x, widths, 0)
TF.pad_constant = lambda x, widths: CONSTANT_PAD.apply((x,), {"widths": widths, "value": 0})
