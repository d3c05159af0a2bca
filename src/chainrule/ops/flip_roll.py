"""Reversing and rotating along dims: ``flip``, ``fliplr``, ``flipud`` and ``roll``
(linear; each VJP is the inverse rearrangement)."""

import numpy as np

from .._tensor import _dim
from ._core import NF, TF, defop, public
from ._args import _as_tensor


# --- flip / roll --------------------------------------------------------------------------

FLIP = defop("flip", lambda x, dims: np.flip(x, dims),
             vjps=(lambda F, g, out, x, dims: F.flip(g, dims),),
             jvp=lambda F, t, out, x, dims: F.flip(t[0], dims), save_inputs=False)


def _dims_arg(dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return tuple(int(d) for d in dims)


@public()
def flip(input, *dims_args, dims=None):
    """Reverse the order of elements along ``dims``.

    >>> import chainrule as torch
    >>> torch.flip(torch.tensor([[1., 2.], [3., 4.]]), [1])
    tensor([[2., 1.],
            [4., 3.]])
    """
    x = _as_tensor(input)
    nd = x._data.ndim
    if dims is not None:
        dims_args = (dims,) if isinstance(dims, (tuple, list)) else ((dims,),)
    ds = tuple(_dim(d, nd, "flip") for d in _dims_arg(dims_args))
    for d in ds:
        if ds.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if nd == 0:
        ds = ()
    return FLIP.apply((x,), {"dims": ds})


@public()
def fliplr(input):
    """Flip the columns (dimension 1).

    >>> import chainrule as torch
    >>> torch.fliplr(torch.tensor([[1, 2], [3, 4]]))
    tensor([[2, 1],
            [4, 3]])
    """
    x = _as_tensor(input)
    if x._data.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return flip(x, (1,))


@public()
def flipud(input):
    """Flip the rows (dimension 0).

    >>> import chainrule as torch
    >>> torch.flipud(torch.tensor([[1, 2], [3, 4]]))
    tensor([[3, 4],
            [1, 2]])
    """
    x = _as_tensor(input)
    if x._data.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return flip(x, (0,))


ROLL = defop("roll", lambda x, shifts, dims: np.roll(x, shifts, dims),
             vjps=(lambda F, g, out, x, shifts, dims: F.roll(g, _neg(shifts), dims),),
             jvp=lambda F, t, out, x, shifts, dims: F.roll(t[0], shifts, dims),
             save_inputs=False)


def _neg(shifts):
    return tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts


@public()
def roll(input, shifts, dims=None):
    """Shift elements cyclically by ``shifts`` along ``dims`` (over the flattened tensor
    when ``dims`` is None).

    >>> import chainrule as torch
    >>> torch.roll(torch.tensor([1., 2., 3., 4.]), 1)
    tensor([4., 1., 2., 3.])
    """
    x = _as_tensor(input)
    nd = x._data.ndim
    s = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(int(v) for v in shifts)
    if dims is None:
        if len(s) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(s)}, dims:0")
        return ROLL.apply((x,), {"shifts": s[0], "dims": None})
    ds = (int(dims),) if isinstance(dims, (int, np.integer)) else tuple(int(d) for d in dims)
    if len(s) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(s)}, dims:{len(ds)}")
    ds = tuple(_dim(d, nd, "roll") for d in ds)
    if nd == 0:
        return ROLL.apply((x,), {"shifts": 0, "dims": None})
    return ROLL.apply((x,), {"shifts": s, "dims": ds})


# --- rule namespaces ---------------------------------------------------------------------

NF.flip = lambda x, dims: np.flip(x, dims)
NF.roll = lambda x, shifts, dims: np.roll(x, shifts, dims)
TF.flip = lambda x, dims: FLIP.apply((x,), {"dims": dims})
TF.roll = lambda x, shifts, dims: ROLL.apply((x,), {"shifts": shifts, "dims": dims})
