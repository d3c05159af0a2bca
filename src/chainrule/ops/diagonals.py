"""Diagonals and triangles: ``diagonal``, ``diag_embed`` (each other's transpose),
``diag``, ``trace``, ``tril`` and ``triu``."""

import numpy as np

from .._backend import as_array, index_on
from .._tensor import _dim, wrap
from ._core import NF, TF, defop, public
from ._args import _tensorize
from .index import embed_op
from .shape import permute


# --- diagonals ----------------------------------------------------------------------------


def _diag_index(n, m, offset):
    """Row and column indices of diagonal ``offset`` of an ``n x m`` matrix."""
    if offset >= 0:
        k = max(0, min(n, m - offset))
        r = np.arange(k)
        return r, r + offset
    k = max(0, min(n + offset, m))
    r = np.arange(k)
    return r - offset, r


def _diagonal_view(x, idx, shape):
    """``x[idx]`` (the diagonal of the last two dimensions) as a view of ``x``, as PyTorch's
    diagonal is: it follows later in-place changes of ``x`` and writes into ``x``."""
    rows, cols = idx[1], idx[2]
    if not len(rows):
        return x[idx]
    r = np.diagonal(x, int(cols[0] - rows[0]), -2, -1)
    if x.__class__ is np.ndarray and x.flags.writeable:
        r.flags.writeable = True        # NumPy's diagonal is a read-only view
    return r


DIAGONAL = defop("diagonal", _diagonal_view,
                 vjps=(lambda F, g, out, x, idx, shape: F.index_scatter(g, idx, shape),),
                 jvp=lambda F, t, out, x, idx, shape: F.index(t[0], idx),
                 save_inputs=False, is_view=True, backward_name="DiagonalBackward0")
DIAG_EMBED = embed_op("diag_embed", "DiagEmbedBackward0")


@public()
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the matrices formed by dimensions ``dim1``, ``dim2``,
    appended as the last dimension.

    >>> import chainrule as torch
    >>> torch.diagonal(torch.arange(9.).reshape(3, 3), 1)
    tensor([1., 5.])
    """
    x = _tensorize(input)
    nd = x._data.ndim
    if nd < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dimensions, but got "
                           f"{nd}. Use diag_embed to build a matrix from a vector.")
    d1, d2 = _dim(dim1, nd, "diagonal"), _dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if (d1, d2) != (nd - 2, nd - 1):
        x = permute(x, [d for d in range(nd) if d not in (d1, d2)] + [d1, d2])
    s = x._data.shape
    rows, cols = _diag_index(s[-2], s[-1], int(offset))
    return DIAGONAL.apply((x,), {"idx": index_on(x._data, (Ellipsis, rows, cols)), "shape": s})


_diagonal = diagonal


@public()
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose diagonal ``offset`` (over ``dim1``, ``dim2`` of the result) holds the
    last dimension of ``input``; zeros elsewhere.

    >>> import chainrule as torch
    >>> torch.diag_embed(torch.tensor([1., 2.]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    x = _tensorize(input)
    if x._data.ndim < 1:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dimension, got a "
                           "0-d tensor. Use x.reshape(1) first.")
    n = x._data.shape[-1]
    big = n + abs(int(offset))
    shape = x._data.shape[:-1] + (big, big)
    rows, cols = _diag_index(big, big, int(offset))
    y = DIAG_EMBED.apply((x,), {"idx": index_on(x._data, (Ellipsis, rows, cols)),
                                "shape": shape})
    nd = len(shape)
    d1, d2 = _dim(dim1, nd, "diag_embed"), _dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if (d1, d2) == (nd - 2, nd - 1):
        return y
    perm, rest = [None] * nd, iter(range(nd - 2))
    perm[d1], perm[d2] = nd - 2, nd - 1
    perm = [p if p is not None else next(rest) for p in perm]
    return permute(y, perm)


@public()
def diag(input, diagonal=0):
    """A vector's square diagonal matrix, or a matrix's diagonal ``diagonal`` as a vector.

    >>> import chainrule as torch
    >>> torch.diag(torch.tensor([1., 2.]))
    tensor([[1., 0.],
            [0., 2.]])
    >>> torch.diag(torch.tensor([[1., 2.], [3., 4.]]))
    tensor([1., 4.])
    """
    x = _tensorize(input)
    nd = x._data.ndim
    if nd == 1:
        return diag_embed(x, diagonal)
    if nd == 2:
        return _diagonal(x, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D. Use torch.diagonal or "
                       f"torch.diag_embed for batches.")


def _trace_vjp(F, g, out, x, idx, shape):
    return F.index_scatter(F.broadcast_to(g, (len(idx[0]),)), idx, shape)


TRACE = defop("trace", lambda x, idx, shape: as_array(np.trace(x)),
              vjps=(_trace_vjp,),
              jvp=lambda F, t, out, x, idx, shape: F.sum(F.index(t[0], idx)),
              save_inputs=False)


@public()
def trace(input):
    """Sum of the main diagonal of a 2-D matrix.

    >>> import chainrule as torch
    >>> torch.trace(torch.tensor([[1., 2.], [3., 4.]]))
    tensor(5.)
    """
    x = _tensorize(input)
    if x._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{x._data.ndim}. Use torch.diagonal(x, dim1=-2, dim2=-1).sum(-1) "
                           f"for a batch.")
    if x._data.dtype.kind in "biu":
        return wrap(as_array(np.trace(x._data)).astype(np.int64))
    n, m = x._data.shape
    rows, cols = _diag_index(n, m, 0)
    return TRACE.apply((x,), {"idx": index_on(x._data, (rows, cols)), "shape": x._data.shape})


# --- triangles ----------------------------------------------------------------------------

TRIL = defop("tril", lambda x, k: np.tril(x, k),
             vjps=(lambda F, g, out, x, k: F.tril(g, k),),
             jvp=lambda F, t, out, x, k: F.tril(t[0], k), save_inputs=False)
TRIU = defop("triu", lambda x, k: np.triu(x, k),
             vjps=(lambda F, g, out, x, k: F.triu(g, k),),
             jvp=lambda F, t, out, x, k: F.triu(t[0], k), save_inputs=False)


def _tri(op, name, input, diagonal):
    x = _tensorize(input)
    if x._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions (got "
                           f"{x._data.ndim}). Reshape a vector into a matrix first.")
    return op.apply((x,), {"k": int(diagonal)})


@public(inplace=True)
def tril(input, diagonal=0):
    """Lower triangle of the last two dimensions (elements on and below diagonal
    ``diagonal``); zeros above.

    >>> import chainrule as torch
    >>> torch.tril(torch.ones(2, 2))
    tensor([[1., 0.],
            [1., 1.]])
    """
    return _tri(TRIL, "tril", input, diagonal)


@public(inplace=True)
def triu(input, diagonal=0):
    """Upper triangle of the last two dimensions; zeros below diagonal ``diagonal``.

    >>> import chainrule as torch
    >>> torch.triu(torch.ones(2, 2), 1)
    tensor([[0., 1.],
            [0., 0.]])
    """
    return _tri(TRIU, "triu", input, diagonal)


# --- rule namespaces ---------------------------------------------------------------------

NF.tril = np.tril
NF.triu = np.triu
TF.tril = lambda x, k: TRIL.apply((x,), {"k": k})
TF.triu = lambda x, k: TRIU.apply((x,), {"k": k})
