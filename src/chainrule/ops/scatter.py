"""Indexing writes: ``scatter``, ``scatter_add``, ``index_add``, ``index_copy``,
``index_fill``, ``masked_fill`` and ``masked_scatter``.

The written positions of the gradient are zeroed for the input and read for the source;
the index is a param (a private copy), never a differentiable input.
"""
import math

import numpy as np

from .._backend import copy_array, zeros_as
from .._tensor import Tensor, _dim
from ._core import defop, public
from ._args import _as_tensor
from .index import (_TORCH_TYPE, _along, _in_bounds, _index_array, _index_of, _same_dtype, _slot,
                    getitem)
from ._numpy_names import numpy_names
from .shape import reshape
from .reduce import broadcast_to


# --- scatter_add ----------------------------------------------------------------------------

def _scatter_add_np(x, src, idx, dim):
    out = copy_array(x)
    np.add.at(out, _along(idx, dim), src)
    return out


def _scatter_add_jvp(F, t, out, x, src, idx, dim):
    tx, ts = t
    r = tx
    if ts is not None:
        s = F.scatter_add_zeros(ts, idx, dim, out.shape)
        r = s if r is None else r + s
    return r


SCATTER_ADD = defop("scatter_add", _scatter_add_np,
                    vjps=(lambda F, g, out, x, src, idx, dim: g,
                          lambda F, g, out, x, src, idx, dim: F.gather(g, dim, idx)),
                    jvp=_scatter_add_jvp, save_inputs=False,
                    backward_name="ScatterAddBackward0")


@public(inplace=True)
@numpy_names
def scatter_add(input, dim, index, src):
    """``input`` plus ``src`` added at ``index`` along ``dim`` (for dim=0:
    ``out[index[i][j]][j] += src[i][j]``).  Repeated indices accumulate.

    >>> import chainrule as torch
    >>> torch.scatter_add(torch.zeros(3), 0, torch.tensor([0, 2, 0]), torch.tensor([1., 2., 3.]))
    tensor([4., 0., 2.])
    """
    x, src = _as_tensor(input), _as_tensor(src)
    idx = _index_array("scatter_add", index)
    if x._data.ndim == 0:                   # 0-d: work on 1-element vectors
        r = scatter_add(reshape(x, (1,)), 0, idx.reshape(-1),
                        reshape(src, (-1,)) if src._data.ndim == 0 else src)
        return reshape(r, ())
    nd = x._data.ndim
    d = _dim(dim, nd, "scatter_add")
    if idx.ndim != nd or src._data.ndim != nd:
        raise RuntimeError(f"scatter_add: Index tensor must have the same number of dimensions "
                           f"as self and src tensors (got index {idx.ndim}-D, self {nd}-D, src "
                           f"{src._data.ndim}-D)")
    for k in range(nd):
        if idx.shape[k] > src._data.shape[k] or (k != d and idx.shape[k] > x._data.shape[k]):
            raise RuntimeError(f"scatter_add: Expected index {list(idx.shape)} to be smaller "
                               f"than self {list(x._data.shape)} apart from dimension {d} and "
                               f"to be smaller size than src {list(src._data.shape)}")
    n = x._data.shape[d]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise RuntimeError(f"scatter_add: index {bad} is out of bounds for dimension {d} with "
                           f"size {n}")
    if src._data.dtype != x._data.dtype:
        src = src.to(x.dtype)
    if src._data.shape != idx.shape:            # only the part of src that index covers
        src = getitem(src, tuple(slice(0, k) for k in idx.shape))
    return SCATTER_ADD.apply((x, src), {"idx": idx, "dim": d})


# --- masked_fill ----------------------------------------------------------------------------

MASKED_FILL = defop(
    "masked_fill", lambda x, m, value: np.where(m, x.dtype.type(value), x),
    vjps=(lambda F, g, out, x, m, value: F.where(m, 0, g), None),
    jvp=lambda F, t, out, x, m, value: F.where(m, 0, t[0]),
    broadcasts=True, backward_name="MaskedFillBackward0", reads=((1,), ()))  # saves the mask


def _masked_fill_t_jvp(F, t, out, x, m, v):
    tx, _, tv = t
    return F.where(m, 0 if tv is None else tv, 0 if tx is None else tx)


MASKED_FILL_T = defop(
    "masked_fill_tensor", lambda x, m, v: np.where(m, v, x),
    vjps=(lambda F, g, out, x, m, v: F.where(m, 0, g), None,
          lambda F, g, out, x, m, v: F.where(m, g, 0)),
    jvp=_masked_fill_t_jvp, broadcasts=True, backward_name="MaskedFillBackward1",
    reads=((1,), (), (1,)))


@public(inplace=True)
def masked_fill(input, mask, value):
    """``input`` with the elements where ``mask`` (a bool tensor broadcastable with it) is
    true replaced by ``value`` (a number or a 0-d tensor, which then gets the sum of the
    gradient at the filled places).

    >>> import chainrule as torch
    >>> x = torch.tensor([1., -2., 3.])
    >>> x.masked_fill(x < 0, 0.)
    tensor([1., 0., 3.])
    """
    x = _as_tensor(input)
    m = _as_tensor(mask)
    if m._data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{str(m.dtype).replace('torch.', '')}. Compare first, e.g. x > 0.")
    try:
        np.broadcast_shapes(x._data.shape, m._data.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill: The size of the mask {list(m._data.shape)} must be "
                           f"broadcastable with the size of the input "
                           f"{list(x._data.shape)}") from None
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        if value._data.dtype != x._data.dtype:
            value = value.to(x.dtype)
        return MASKED_FILL_T.apply((x, m, value))
    if isinstance(value, np.generic):
        value = value.item()
    return MASKED_FILL.apply((x, m), {"value": value})


# scatter -------------------------------------------------------------------------------------

def _written(x, pos, v):
    """A copy of ``x`` with ``v`` written at the positions ``pos`` (scatter, index_copy)."""
    out = copy_array(x)
    out[pos] = v
    return out


def _written_jvp(F, t, pos, spread):
    """Tangent of writing a source into ``x`` at ``pos``: x's tangent with ``pos`` zeroed,
    plus ``spread(source tangent)`` (the source's tangent placed at ``pos``)."""
    tx, ts = t
    r = None if tx is None else F.zero_at(tx, pos)
    if ts is not None:
        s = spread(ts)
        r = s if r is None else r + s
    return r


def _scatter_np(x, src, idx, dim):
    return _written(x, _along(idx, dim), src)


def _scatter_value_np(x, idx, dim, value):
    return _written(x, _along(idx, dim), value)


def _scatter_jvp(F, t, out, x, src, idx, dim):
    return _written_jvp(F, t, _along(idx, dim),
                        lambda ts: F.scatter_add_zeros(ts, idx, dim, out.shape))


SCATTER = defop("scatter", _scatter_np,
                vjps=(lambda F, g, out, x, src, idx, dim: F.zero_at(g, _along(idx, dim)),
                      lambda F, g, out, x, src, idx, dim: F.gather(g, dim, idx)),
                jvp=_scatter_jvp, save_inputs=False, backward_name="ScatterBackward0")
SCATTER_VALUE = defop(
    "scatter_value", _scatter_value_np,
    vjps=(lambda F, g, out, x, idx, dim, value: F.zero_at(g, _along(idx, dim)),),
    jvp=lambda F, t, out, x, idx, dim, value: F.zero_at(t[0], _along(idx, dim)),
    save_inputs=False, backward_name="ScatterBackward1")


@public(inplace=True)
@numpy_names
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """``input`` with ``src`` (a tensor) or ``value`` (a number) written at ``index`` along
    ``dim`` (for dim=1: ``out[i][index[i][j]] = src[i][j]``).  With repeated indices the
    value written is unspecified, as in PyTorch.  ``reduce`` is not supported (use
    ``scatter_add``).

    >>> import chainrule as torch
    >>> torch.scatter(torch.zeros(2, 3), 1, torch.tensor([[2], [0]]), torch.tensor([[1.], [2.]]))
    tensor([[0., 0., 1.],
            [2., 0., 0.]])
    >>> torch.zeros(3).scatter(0, torch.tensor([1]), 5.)
    tensor([0., 5., 0.])
    """
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter(): reduce argument must be either add or multiply "
                               f"(got {reduce!r}).")
        raise NotImplementedError(
            f"scatter(): reduce={reduce!r} is not supported by chainrule (PyTorch deprecates it "
            f"and has no gradient for it); scatter_reduce is not supported either. Use "
            f"scatter_add for reduce='add'.")
    if src is None and value is None:
        raise TypeError("scatter() missing the value to write: pass src (a tensor) or value "
                        "(a number).")
    if src is not None and value is not None:
        raise TypeError("scatter(): pass either src or value, not both.")
    if src is not None and not isinstance(src, Tensor):
        value, src = src, None
    x = _as_tensor(input)
    idx = _index_of("scatter", index, ("int64", "int32"), expected="dtype int32/int64")
    if x._data.ndim == 0:                   # 0-d: work on 1-element vectors
        if idx.size > 1:
            raise RuntimeError(f"scatter(): a 0-d tensor takes at most one index, got "
                               f"{idx.size}.")
        s = src if src is None else reshape(src, (-1,))
        r = scatter(reshape(x, (1,)), 0, idx.reshape(-1), s, value)
        return reshape(r, ())
    nd = x._data.ndim
    d = _dim(dim, nd, "scatter")
    if idx.ndim != nd:
        raise RuntimeError(f"scatter(): Index tensor must have the same number of dimensions as "
                           f"self tensor (got index {idx.ndim}-D, self {nd}-D).")
    if src is not None:
        if src._data.ndim != idx.ndim:
            raise RuntimeError(f"scatter(): Index tensor must have the same number of "
                               f"dimensions as src tensor (got index {idx.ndim}-D, src "
                               f"{src._data.ndim}-D). Pass a number as value= for a scalar.")
        _same_dtype("scatter", x, src, "src")
    if idx.size == 0:                   # nothing written (PyTorch skips the size checks)
        idx = zeros_as(x._data, (0,) * nd, np.intp)
        if src is not None:
            src = getitem(src, (slice(0, 0),) * nd)
    for k in range(nd if idx.size else 0):
        if (k != d and idx.shape[k] > x._data.shape[k]) or \
                (src is not None and idx.shape[k] > src._data.shape[k]):
            raise RuntimeError(
                f"scatter(): Expected index {list(idx.shape)} to be no larger than self "
                f"{list(x._data.shape)} apart from dimension {d}"
                + (f" and to be no larger size than src {list(src._data.shape)}"
                   if src is not None else ""))
    _in_bounds("scatter", idx, x._data.shape[d], d, RuntimeError)
    if src is None:
        if isinstance(value, np.generic):
            value = value.item()
        return SCATTER_VALUE.apply((x,), {"idx": idx, "dim": d, "value": value})
    if src._data.shape != idx.shape:            # only the part of src that index covers
        src = getitem(src, tuple(slice(0, k) for k in idx.shape))
    return SCATTER.apply((x, src), {"idx": idx, "dim": d})


# index_add / index_copy / index_fill ---------------------------------------------------------

def _index_add_np(x, src, idx, dim, alpha):
    out = copy_array(x)
    s = src if alpha == 1 else src * alpha
    if s.dtype != out.dtype:
        s = s.astype(out.dtype)
    np.add.at(out, _slot(dim, idx), s)
    return out


def _index_add_src_vjp(F, g, out, x, src, idx, dim, alpha):
    r = F.index(g, _slot(dim, idx))
    return r if alpha == 1 else r * alpha


def _index_add_jvp(F, t, out, x, src, idx, dim, alpha):
    tx, ts = t
    r = tx
    if ts is not None:
        s = F.index_scatter(ts, _slot(dim, idx), out.shape)
        s = s if alpha == 1 else s * alpha
        r = s if r is None else r + s
    return r


INDEX_ADD = defop("index_add", _index_add_np,
                  vjps=(lambda F, g, out, x, src, idx, dim, alpha: g, _index_add_src_vjp),
                  jvp=_index_add_jvp, save_inputs=False, backward_name="IndexAddBackward0")


def _index_copy_np(x, src, idx, dim):
    return _written(x, _slot(dim, idx), src)


def _index_copy_jvp(F, t, out, x, src, idx, dim):
    return _written_jvp(F, t, _slot(dim, idx),
                        lambda ts: F.index_scatter(ts, _slot(dim, idx), out.shape))


INDEX_COPY = defop("index_copy", _index_copy_np,
                   vjps=(lambda F, g, out, x, src, idx, dim: F.zero_at(g, _slot(dim, idx)),
                         lambda F, g, out, x, src, idx, dim: F.index(g, _slot(dim, idx))),
                   jvp=_index_copy_jvp, save_inputs=False, backward_name="IndexCopyBackward0")


def _index_source(name, x, dim, index, source, allowed, expected, bounds_exc):
    """Checks shared by index_add and index_copy; returns (x, source, idx, d), working on
    1-element vectors for 0-d tensors."""
    x, src = _as_tensor(x), _as_tensor(source)
    idx = _index_of(name, index, allowed, expected=expected)
    if idx.ndim > 1:
        exc_text = ("Index is supposed to be a vector" if name == "index_add_"
                    else "Index should have dimension 1 or 0")
        raise IndexError(f"{name}(): {exc_text}, but got an index of {idx.ndim} dimensions "
                         f"(shape {list(idx.shape)}). Flatten it with index.reshape(-1).")
    idx = idx.reshape(-1)
    nd = x._data.ndim
    d = _dim(dim, nd, name)
    _same_dtype(name, x, src)
    if nd == 0:
        x = reshape(x, (1,))
        if src._data.ndim == 0:
            src = reshape(src, (1,))
    elif name == "index_copy_" and nd == 1 and src._data.ndim == 0:
        src = reshape(src, (1,))
    ss = src._data.shape
    if len(ss) != max(nd, 1):
        if name == "index_copy_":
            raise IndexError(f"index_copy_(): When source and destination are not scalars, "
                             f"their dimensionality must match. Source dimensionality "
                             f"({src._data.ndim}), destination dimensionality ({nd})")
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(x._data.shape)} "
                           f"source.shape = {list(src._data.shape)} (index_add_: reshape the "
                           f"source to self's number of dimensions)")
    if ss[d] != idx.size:
        exc = IndexError if name == "index_copy_" else RuntimeError
        raise exc(f"{name}(): Number of indices ({idx.size}) should be equal to "
                  f"source.size(dim) ({ss[d]}), for dim: {d}")
    xs = x._data.shape
    if any(a != b for k, (a, b) in enumerate(zip(xs, ss)) if k != d):
        raise RuntimeError(f"{name}(): source tensor shape must match self tensor shape, "
                           f"excluding the specified dimension. Got self.shape = {list(xs)} "
                           f"source.shape = {list(ss)}")
    idx = _in_bounds(name, idx, xs[d], d, bounds_exc)
    return x, src, idx, d


@public(inplace=True)
@numpy_names
def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at the positions ``index`` (a 1-D integer
    tensor) along ``dim``; repeated indices add up.

    >>> import chainrule as torch
    >>> torch.index_add(torch.zeros(3, 2), 0, torch.tensor([2, 0, 2]), torch.ones(3, 2), alpha=2)
    tensor([[2., 2.],
            [0., 0.],
            [4., 4.]])
    """
    was_0d = _as_tensor(input)._data.ndim == 0
    x, src, idx, d = _index_source("index_add_", input, dim, index, source,
                                   ("int64", "int32"), "dtype int32/int64", RuntimeError)
    if isinstance(alpha, np.generic):
        alpha = alpha.item()
    if x._data.dtype.kind in "iub" and not isinstance(alpha, bool):
        alpha = int(alpha)          # PyTorch truncates alpha for integer tensors
    r = INDEX_ADD.apply((x, src), {"idx": idx, "dim": d, "alpha": alpha})
    if was_0d:
        r = reshape(r, ())
    return r


@public(inplace=True)
@numpy_names
def index_copy(input, dim, index, source):
    """``input`` with the slices ``index`` (a 1-D integer tensor) along ``dim`` replaced by
    the slices of ``source`` (with repeated indices the slice kept is unspecified, as in
    PyTorch).

    >>> import chainrule as torch
    >>> src = torch.tensor([[1., 2.], [3., 4.]])
    >>> torch.index_copy(torch.zeros(3, 2), 0, torch.tensor([2, 0]), src)
    tensor([[3., 4.],
            [0., 0.],
            [1., 2.]])
    """
    was_0d = _as_tensor(input)._data.ndim == 0
    x, src, idx, d = _index_source("index_copy_", input, dim, index, source, ("int64",),
                                   "a long tensor", IndexError)
    r = INDEX_COPY.apply((x, src), {"idx": idx, "dim": d})
    if was_0d:
        r = reshape(r, ())
    return r


def _index_fill_np(x, idx, dim, value):
    out = copy_array(x)
    out[_slot(dim, idx)] = value
    return out


def _index_fill_t_jvp(F, t, out, x, v, idx, dim, uniq):
    tx, tv = t
    r = None if tx is None else F.zero_at(tx, _slot(dim, idx))
    if tv is not None:
        sl = _slot(dim, uniq)
        s = F.index_scatter(F.broadcast_to(tv, out._data[sl].shape), sl, out.shape)
        r = s if r is None else r + s
    return r


INDEX_FILL = defop(
    "index_fill", _index_fill_np,
    vjps=(lambda F, g, out, x, idx, dim, value: F.zero_at(g, _slot(dim, idx)),),
    jvp=lambda F, t, out, x, idx, dim, value: F.zero_at(t[0], _slot(dim, idx)),
    save_inputs=False, backward_name="IndexFillBackward0")
INDEX_FILL_T = defop(
    "index_fill_tensor", lambda x, v, idx, dim, uniq: _index_fill_np(x, idx, dim, v),
    vjps=(lambda F, g, out, x, v, idx, dim, uniq: F.zero_at(g, _slot(dim, idx)),
          lambda F, g, out, x, v, idx, dim, uniq: F.sum(F.index(g, _slot(dim, uniq)))),
    jvp=_index_fill_t_jvp, save_inputs=False, backward_name="IndexFillBackward1")


@public(inplace=True)
@numpy_names
def index_fill(input, dim, index, value):
    """``input`` with the slices ``index`` (a 1-D integer tensor, negative entries count
    from the end) along ``dim`` set to ``value``: a number, or a 0-d tensor which then gets
    the sum of the gradient over the filled slices.

    >>> import chainrule as torch
    >>> torch.index_fill(torch.zeros(2, 3), 1, torch.tensor([0, -1]), 7.)
    tensor([[7., 0., 7.],
            [7., 0., 7.]])
    """
    x = _as_tensor(input)
    idx = _index_of("index_fill_", index, exc=IndexError, expected="dtype int64")
    if idx.ndim > 1:
        raise RuntimeError(f"index_fill_(): Index has to be a vector/scalar, but got an index "
                           f"of {idx.ndim} dimensions (shape {list(idx.shape)}). Flatten it "
                           f"with index.reshape(-1).")
    idx = idx.reshape(-1)
    nd = x._data.ndim
    d = _dim(dim, nd, "index_fill")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s). Pass value.item() or "
                           f"a 0-d tensor.")
    y = reshape(x, (1,)) if nd == 0 else x
    idx = _in_bounds("index_fill_", idx, y._data.shape[d], d, IndexError, allow_negative=True)
    if isinstance(value, Tensor):
        if value._data.dtype != x._data.dtype:
            value = value.to(x.dtype)
        r = INDEX_FILL_T.apply((y, value), {"idx": idx, "dim": d, "uniq": np.unique(idx)})
    else:
        if isinstance(value, np.generic):
            value = value.item()
        r = INDEX_FILL.apply((y,), {"idx": idx, "dim": d, "value": value})
    return reshape(r, ()) if nd == 0 else r


# masked_scatter ------------------------------------------------------------------------------

def _masked_scatter_np(x, src, nz, k, sshape):
    out = copy_array(x)
    out[nz] = src.reshape(-1)[:k]
    return out


def _masked_scatter_src_vjp(F, g, out, x, src, nz, k, sshape):
    # the masked elements of g in order, zero-padded to the source's size and shape
    flat = F.index_scatter(F.index(g, nz), (slice(0, k),), (math.prod(sshape),))
    return F.reshape(flat, sshape)


def _masked_scatter_jvp(F, t, out, x, src, nz, k, sshape):
    tx, ts = t
    r = None if tx is None else F.zero_at(tx, nz)
    if ts is not None:
        s = F.index_scatter(F.index(F.reshape(ts, (-1,)), (slice(0, k),)), nz, out.shape)
        r = s if r is None else r + s
    return r


MASKED_SCATTER = defop(
    "masked_scatter", _masked_scatter_np,
    vjps=(lambda F, g, out, x, src, nz, k, sshape: F.zero_at(g, nz), _masked_scatter_src_vjp),
    jvp=_masked_scatter_jvp, save_inputs=False, backward_name="MaskedScatterBackward0")


@public(inplace=True)
def masked_scatter(input, mask, source):
    """``input`` (broadcast with ``mask``) with the positions where ``mask`` is true filled
    by the first elements of ``source`` in row-major order.

    >>> import chainrule as torch
    >>> x = torch.zeros(2, 3)
    >>> torch.masked_scatter(x, torch.tensor([[True, False, True], [False, True, False]]),
    ...                      torch.tensor([1., 2., 3., 4.]))
    tensor([[1., 0., 2.],
            [0., 3., 0.]])
    """
    x, m, src = _as_tensor(input), _as_tensor(mask), _as_tensor(source)
    if m._data.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {_TORCH_TYPE.get(m._data.dtype.name, m._data.dtype.name)}. "
                           f"Compare first, e.g. x > 0.")
    if src._data.dtype != x._data.dtype:
        a = _TORCH_TYPE.get(x._data.dtype.name, x._data.dtype.name)
        b = _TORCH_TYPE.get(src._data.dtype.name, src._data.dtype.name)
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got {a} and {b}. Convert the source with .to(self.dtype).")
    try:
        shape = np.broadcast_shapes(x._data.shape, m._data.shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter: the size of the mask {list(m._data.shape)} must be "
                           f"broadcastable with the size of the input "
                           f"{list(x._data.shape)}") from None
    mk = np.broadcast_to(m._data, shape).copy()
    k = int(mk.sum())
    if src._data.size < k:
        raise RuntimeError(f"masked_scatter: Number of elements of source < number of ones in "
                           f"mask ({src._data.size} < {k}). Pass a source with at least {k} "
                           f"elements.")
    if x._data.shape != shape:
        x = broadcast_to(x, shape)
    if not shape:                       # 0-d: work on a 1-element vector
        r = MASKED_SCATTER.apply((reshape(x, (1,)), src),
                  {"nz": mk.reshape(1).nonzero(), "k": k, "sshape": src._data.shape})
        return reshape(r, ())
    return MASKED_SCATTER.apply((x, src), {"nz": mk.nonzero(), "k": k,
                                            "sshape": src._data.shape})
