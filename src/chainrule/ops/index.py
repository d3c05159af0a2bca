"""Indexing: ``x[idx]``, item/slice assignment, and gather / scatter-add along a dim.

Reading ``x[idx]`` is linear; its VJP scatters the gradient into zeros (adding at repeated
integer indices), and that scatter's VJP is the read again, so any order works.
"""
import numpy as np

from .._tensor import Tensor, _dim, wrap
from ._core import NF, TF, apply, defop
from ._numpy_names import numpy_names

# --- index normalisation ------------------------------------------------------------------

_INTP = np.dtype(np.intp)


def _is_basic(idx):
    for i in idx:           # (a loop: all() over a generator costs ~0.5 us more)
        if i is not None and i is not Ellipsis and not isinstance(i, (int, slice)):
            return False
    return True


def normalize_index(idx, ndim=None):
    """An index as a tuple NumPy understands: Tensors/lists/ranges become int64 arrays,
    boolean masks become their ``nonzero()`` arrays (so scatter-add handles them)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tensor):
            i = i._data
            if i.ndim == 0 and i.dtype.kind in "iu":
                out.append(int(i))
                continue
        elif isinstance(i, (list, range)):
            i = np.asarray(list(i))
            if i.dtype == np.float64 and i.size == 0:
                i = i.astype(np.int64)
        elif isinstance(i, np.integer):
            out.append(int(i))
            continue
        elif isinstance(i, bool):
            i = np.asarray(i)
        if isinstance(i, np.ndarray):
            if i.dtype == np.bool_:
                out.extend(i.nonzero() if i.ndim else (i,))
                continue
            if i.dtype.kind not in "iu":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            # a copy: the backward scatters at the forward's positions even if the index
            # tensor/array is changed in place afterwards
            out.append(i.astype(np.intp))
            continue
        if not (i is None or i is Ellipsis or isinstance(i, (int, slice))):
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long "
                             f"or byte Variables are valid indices (got {type(i).__name__})")
        out.append(i)
    return tuple(out)


def _check_bounds(shape, idx):
    # NumPy's IndexError text differs from PyTorch's; give PyTorch's for plain ints
    d = 0
    for i in idx:
        if i is None:
            continue
        if i is Ellipsis:
            d = len(shape) - sum(1 for j in idx if j is not None and j is not Ellipsis) + d
            continue
        if isinstance(i, int):
            if d >= len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            if not -shape[d] <= i < shape[d]:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size "
                                 f"{shape[d]}")
        d += 1


def _scatter_zeros(g, idx, shape):
    z = np.zeros(shape, dtype=g.dtype)
    if _is_basic(idx):
        z[idx] = g
    else:
        np.add.at(z, idx, g)          # repeated indices accumulate
    return z


def _zero_at(g, idx):
    r = np.array(g, copy=True)
    r[idx] = 0
    return r


def _get(x, idx, shape):
    r = x[idx]
    if r.__class__ is not np.ndarray and Ellipsis not in idx:
        # an index of ints only: NumPy returns a scalar (a copy), PyTorch a 0-d view that
        # follows later in-place changes of x (and writes into x when changed itself)
        r = x[idx + (Ellipsis,)]
    return r


def _getitem_op(name, bname):
    return defop(name, _get,
                 vjps=(lambda F, g, out, x, idx, shape: F.index_scatter(g, idx, shape),),
                 jvp=lambda F, t, out, x, idx, shape: F.index(t[0], idx),
                 save_inputs=False, is_view=True, backward_name=bname)


# one rule set; PyTorch names the node by the kind of index
GETITEM = _getitem_op("getitem", "IndexBackward0")          # integer arrays / masks
SELECT = _getitem_op("select", "SelectBackward0")           # x[i]
SLICE = _getitem_op("slice", "SliceBackward0")              # x[a:b], x[:, None] ...
INDEX_SCATTER = defop("index_scatter", lambda g, idx, shape: _scatter_zeros(g, idx, shape),
                      vjps=(lambda F, g, out, x, idx, shape: F.index(g, idx),),
                      jvp=lambda F, t, out, x, idx, shape: F.index_scatter(t[0], idx, shape),
                      save_inputs=False, backward_name="IndexPutBackward0")
# a view re-read out of its base after an in-place change (``autograd/views.py``); the
# output is a copy, only its node is kept
AS_STRIDED = defop("as_strided", lambda x, idx, shape: x[idx],
                   vjps=(lambda F, g, out, x, idx, shape: F.index_scatter(g, idx, shape),),
                   jvp=lambda F, t, out, x, idx, shape: F.index(t[0], idx),
                   save_inputs=False, backward_name="AsStridedBackward0")
ZERO_AT = defop("zero_at", lambda g, idx: _zero_at(g, idx),
                vjps=(lambda F, g, out, x, idx: F.zero_at(g, idx),),
                jvp=lambda F, t, out, x, idx: F.zero_at(t[0], idx), save_inputs=False,
                backward_name="MaskedFillBackward0")


def getitem(x, idx):
    """``x[idx]`` with ints, slices, None, ``...``, integer tensors/lists/ranges and boolean
    masks (gradients of repeated indices add up)."""
    if idx.__class__ is tuple and idx:
        # fast path: a tuple of integer index tensors (x[rows, cols]); anything else (ints,
        # slices, masks, 0-d tensors, other dtypes) takes the general route below
        arrays = []
        for i in idx:
            if i.__class__ is not Tensor:
                break
            a = i._data
            if a.dtype is not _INTP or not a.ndim:
                break
            arrays.append(a.copy())         # (kept for backward: see normalize_index)
        else:
            try:
                return apply(GETITEM, (x,), {"idx": tuple(arrays), "shape": x._data.shape})
            except IndexError as e:
                raise IndexError(f"index: {e}") from None
    idx = normalize_index(idx)
    _check_bounds(x._data.shape, idx)
    if not _is_basic(idx):
        op = GETITEM
    elif len(idx) == 1 and isinstance(idx[0], int):
        op = SELECT
    else:
        op = SLICE
    try:
        return apply(op, (x,), {"idx": idx, "shape": x._data.shape})
    except IndexError as e:
        raise IndexError(f"index: {e}") from None


def index_scatter(g, idx, shape):
    return apply(INDEX_SCATTER, (g,), {"idx": idx, "shape": shape})


def zero_at(g, idx):
    return apply(ZERO_AT, (g,), {"idx": idx})


def _setitem_fwd(x, v, idx, vshape):
    out = np.array(x, copy=True)
    out[idx] = v
    return out


def _setitem_op(name, bname):
    return defop(name, _setitem_fwd,
                 vjps=(lambda F, g, out, x, v, idx, vshape: F.zero_at(g, idx),
                       lambda F, g, out, x, v, idx, vshape: F.sum_to(F.index(g, idx), vshape)),
                 jvp=lambda F, t, out, x, v, idx, vshape: _setitem_jvp(F, t, x, v, idx),
                 save_inputs=False, backward_name=bname)


# one rule set; PyTorch names the node by the kind of index
SETITEM = _setitem_op("setitem", "CopySlices")             # x[i] = v, x[a:b] = v
INDEX_PUT = _setitem_op("index_put", "IndexPutBackward0")  # x[mask] = v, x[[0, 2]] = v


def _setitem_jvp(F, t, x, v, idx):
    tx, tv = t
    base = F.zeros_like(x) if tx is None else tx
    base = F.zero_at(base, idx)
    if tv is None:
        return base
    return base + F.index_scatter(F.broadcast_to(tv, x._data[idx].shape), idx, x._data.shape)


# --- gather / scatter_add along one dim ---------------------------------------------------


def _along(idx, dim):
    """Full fancy index that addresses ``idx`` along ``dim`` (take_along_axis style)."""
    nd = idx.ndim
    if nd == 2:                             # the common case, written out
        if dim == 1 or dim == -1:
            return (np.arange(idx.shape[0])[:, None], idx)
        if dim == 0 or dim == -2:
            return (idx, np.arange(idx.shape[1]))
    if not nd:
        grids = list(np.ogrid[()])
        grids[dim] = idx
        return tuple(grids)
    dim = dim % nd
    grids = []
    for i, n in enumerate(idx.shape):       # open grids, as np.ogrid (which is much slower)
        if i == dim:
            grids.append(idx)
        else:
            shape = [1] * nd
            shape[i] = n
            grids.append(np.arange(n).reshape(shape))
    return tuple(grids)


def _scatter_add_zeros_np(g, idx, dim, shape):
    z = np.zeros(shape, dtype=g.dtype)
    np.add.at(z, _along(idx, dim), g)
    return z


# x[_along(idx, dim)] rather than take_along_axis: index may be smaller than x in other dims
GATHER = defop("gather", lambda x, dim, idx: x[_along(idx, dim)],
               vjps=(lambda F, g, out, x, dim, idx: F.scatter_add_zeros(g, idx, dim, x.shape),),
               jvp=lambda F, t, out, x, dim, idx: F.gather(t[0], dim, idx))
SCATTER_ADD_ZEROS = defop(
    "scatter_add_zeros", lambda g, idx, dim, shape: _scatter_add_zeros_np(g, idx, dim, shape),
    vjps=(lambda F, g, out, x, idx, dim, shape: F.gather(g, dim, idx),),
    jvp=lambda F, t, out, x, idx, dim, shape: F.scatter_add_zeros(t[0], idx, dim, shape),
    save_inputs=False, backward_name="ScatterAddBackward0")


@numpy_names
def gather(input, dim, index):
    """Values of ``input`` at ``index`` along ``dim`` (``out[i][j] = input[i][index[i][j]]``
    for dim=1).

    >>> import chainrule as torch
    >>> torch.gather(torch.tensor([[1., 2.], [3., 4.]]), 1, torch.tensor([[1], [0]]))
    tensor([[2.],
            [3.]])
    """
    d = _dim(dim, input._data.ndim, "gather")
    # a copy (np.array): the backward must scatter at the forward's positions even if the
    # index is changed in place afterwards
    idx = np.array(index._data if isinstance(index, Tensor) else index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"gather(): Expected dtype int64 for index, got {idx.dtype}")
    if idx.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    return apply(GATHER, (input,), {"dim": d, "idx": idx})


def scatter_add_zeros(g, idx, dim, shape):
    return apply(SCATTER_ADD_ZEROS, (g,), {"idx": idx, "dim": dim, "shape": tuple(shape)})


def nonzero(input, *, as_tuple=False):
    """Indices of non-zero elements: an ``(n, ndim)`` int64 tensor, or a tuple of 1-D index
    tensors with ``as_tuple=True``.

    >>> import chainrule as torch
    >>> torch.nonzero(torch.tensor([[0, 1], [2, 0]]))
    tensor([[0, 1],
            [1, 0]])
    """
    nz = np.nonzero(input._data)
    if as_tuple:
        return tuple(wrap(a.astype(np.int64)) for a in nz)
    return wrap(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64))


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (the gradient flows
    back to those positions).

    >>> import chainrule as torch
    >>> x = torch.tensor([[1., 2.], [3., 4.]])
    >>> torch.masked_select(x, x > 2)
    tensor([3., 4.])
    """
    return getitem(input, mask)


NF.index = lambda x, idx: x[idx]
NF.index_scatter = _scatter_zeros
NF.zero_at = _zero_at
NF.gather = lambda x, dim, idx: x[_along(idx, dim)]
NF.scatter_add_zeros = _scatter_add_zeros_np
TF.index = lambda x, idx: apply(GETITEM, (x,), {"idx": idx, "shape": x._data.shape})
TF.index_scatter = index_scatter
TF.zero_at = zero_at
TF.gather = lambda x, dim, idx: apply(GATHER, (x,), {"dim": dim, "idx": idx})
TF.scatter_add_zeros = scatter_add_zeros
