"""Indexing reads: ``x[idx]`` (and item/slice assignment), ``gather``, ``index_select``,
``take``, ``take_along_dim``, ``masked_select``, ``nonzero`` and ``embedding``.

Reading ``x[idx]`` is linear; its VJP scatters the gradient into zeros (adding at repeated
integer indices), and that scatter's VJP is the read again, so any order works.  The
writes at positions (``scatter`` and friends) are in ``scatter.py``.
"""

import numpy as np

from .._backend import (array_module, as_array, backend_of, copy_array, is_device_array,
                        to_backend, zeros_as)
from .._tensor import Tensor, _dim, wrap
from .._grad_mode import SHARED, notify
from ._core import NF, TF, defop, public
from ._args import _as_tensor
from .shape import reshape
from ._numpy_names import numpy_names


# --- index normalisation ------------------------------------------------------------------

_INTP = np.dtype(np.intp)
_ndarray = np.ndarray


def _is_basic(idx):
    for i in idx:           # (a loop: all() over a generator costs ~0.5 us more)
        if i is not None and i is not Ellipsis and not isinstance(i, (int, slice)):
            return False
    return True


def normalize_index(idx, ndim=None, like=None):
    """An index as a tuple NumPy understands: Tensors/lists/ranges become int64 arrays,
    boolean masks become their ``nonzero()`` arrays (so scatter-add handles them).  With
    ``like`` (the indexed array), index arrays are put on its device (PyTorch indexes a
    GPU tensor with CPU index tensors and lists too)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tensor):
            t = i
            i = i._data
            if SHARED.observed and (i.ndim == 0 or i.dtype == np.bool_):
                notify("value_read", t, "a 0-d or boolean tensor used as an index")
            if i.ndim == 0 and i.dtype.kind in "iu":
                out.append(int(i))
                continue
            if SHARED.observed and i.dtype.kind in "iu":
                out.append(i.astype(np.intp))
                notify("index_made", t, out[-1])
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
        if isinstance(i, np.ndarray) or is_device_array(i):
            if like is not None and like.__class__ is not i.__class__:
                i = to_backend(i, backend_of(like))
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
    z = np.zeros(shape, g.dtype) if g.__class__ is _ndarray else zeros_as(g, shape)
    if _is_basic(idx):
        z[idx] = g
    else:
        np.add.at(z, idx, g)          # repeated indices accumulate
    return z


def _zero_at(g, idx):
    r = copy_array(g)
    r[idx] = 0
    return r


def _get(x, idx, shape):
    r = x[idx]
    if r.__class__ is not np.ndarray and not is_device_array(r) and Ellipsis not in idx:
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
# the rows of a padded (T, B, *) batch that hold sequence steps, time step after time step
# (nn.utils.rnn.pack_padded_sequence; ``idx``: the (time, batch) positions of those rows)
PACK_PADDED_SEQUENCE = defop(
    "pack_padded_sequence", lambda x, idx, shape: x[idx],
    vjps=(lambda F, g, out, x, idx, shape: F.index_scatter(g, idx, shape),),
    jvp=lambda F, t, out, x, idx, shape: F.index(t[0], idx),
    save_inputs=False, backward_name="PackPaddedSequenceBackward0")
# a view re-read out of its base after an in-place change (``_inplace.py``); the
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
            if SHARED.observed:
                notify("index_made", i, arrays[-1])
        else:
            try:
                return GETITEM.apply((x,), {"idx": tuple(arrays), "shape": x._data.shape})
            except IndexError as e:
                raise IndexError(f"index: {e}") from None
    idx = normalize_index(idx, like=x._data)
    _check_bounds(x._data.shape, idx)
    if not _is_basic(idx):
        op = GETITEM
    elif len(idx) == 1 and isinstance(idx[0], int):
        op = SELECT
    else:
        op = SLICE
    try:
        return op.apply((x,), {"idx": idx, "shape": x._data.shape})
    except IndexError as e:
        raise IndexError(f"index: {e}") from None


def index_scatter(g, idx, shape):
    return INDEX_SCATTER.apply((g,), {"idx": idx, "shape": shape})


def zero_at(g, idx):
    return ZERO_AT.apply((g,), {"idx": idx})


def _setitem_fwd(x, v, idx, vshape):
    out = x.copy()
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
        xp = np if idx.__class__ is _ndarray else array_module(idx)
        if dim == 1 or dim == -1:
            return (xp.arange(idx.shape[0])[:, None], idx)
        if dim == 0 or dim == -2:
            return (idx, xp.arange(idx.shape[1]))
    if not nd:
        grids = list(np.ogrid[()])
        grids[dim] = idx
        return tuple(grids)
    dim = dim % nd
    xp = np if idx.__class__ is _ndarray else array_module(idx)
    grids = []
    for i, n in enumerate(idx.shape):       # open grids, as np.ogrid (which is much slower)
        if i == dim:
            grids.append(idx)
        else:
            shape = [1] * nd
            shape[i] = n
            grids.append(xp.arange(n).reshape(shape))
    return tuple(grids)


def _scatter_add_zeros_np(g, idx, dim, shape):
    z = zeros_as(g, shape)
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


@public()
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
    idx = copy_array(index._data if isinstance(index, Tensor) else index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"gather(): Expected dtype int64 for index, got {idx.dtype}")
    if idx.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    if SHARED.observed and isinstance(index, Tensor):   # (chainrule.compile: from the data)
        notify("derived", idx, np.array, (index,))
    return GATHER.apply((input,), {"dim": d, "idx": idx})


def scatter_add_zeros(g, idx, dim, shape):
    return SCATTER_ADD_ZEROS.apply((g,), {"idx": idx, "dim": dim, "shape": tuple(shape)})


@public()
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
    return wrap(np.stack(nz, axis=1).astype(np.int64) if nz else
                zeros_as(input._data, (0, 0), np.int64))


@public()
def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (the gradient flows
    back to those positions).

    >>> import chainrule as torch
    >>> x = torch.tensor([[1., 2.], [3., 4.]])
    >>> torch.masked_select(x, x > 2)
    tensor([3., 4.])
    """
    return getitem(input, mask)


# --- rule sets shared by several ops ------------------------------------------------------


def gather_op(name, bname):
    """An op reading ``x[idx]`` with an integer-array index; its transpose scatter-adds
    the gradient into zeros of the input's shape (repeated indices add up)."""
    return defop(name, lambda x, idx, shape: x[idx],
                 vjps=(lambda F, g, out, x, idx, shape: F.index_scatter(g, idx, shape),),
                 jvp=lambda F, t, out, x, idx, shape: F.index(t[0], idx),
                 save_inputs=False, backward_name=bname)


def embed_op(name, bname):
    """An op writing ``x`` into zeros of ``shape`` at ``idx``; its transpose reads
    ``g[idx]``."""
    return defop(name, lambda x, idx, shape: _scatter_zeros(x, idx, shape),
                 vjps=(lambda F, g, out, x, idx, shape: F.index(g, idx),),
                 jvp=lambda F, t, out, x, idx, shape: F.index_scatter(t[0], idx, shape),
                 save_inputs=False, backward_name=bname)


def _index_array(name, index):
    idx = index._data if isinstance(index, Tensor) else as_array(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, got "
                           f"{'torch.' + str(idx.dtype) if idx.dtype.kind == 'f' else idx.dtype}"
                           f". Convert it with index.long().")
    # always a copy: the node keeps it, so changing the index tensor in place after the op
    # must not move the gradient (sharing it did, silently)
    return idx.astype(np.intp, copy=True)


def _index_vector(idx, n, d):
    """index_select's index as a vector, checked against the size ``n`` of dim ``d``."""
    idx = idx.reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"index out of range in self (index_select: indices must be in "
                         f"[0, {n - 1}] for dimension {d}, got {idx.tolist()})")
    return idx


# --- index_select ---------------------------------------------------------------------------

INDEX_SELECT = gather_op("index_select", "IndexSelectBackward0")


@public()
@numpy_names
def index_select(input, dim, index):
    """The entries of ``input`` at the positions ``index`` (a 1-D integer tensor) along
    ``dim``.  Repeated indices are allowed; their gradients add up.

    >>> import chainrule as torch
    >>> torch.index_select(torch.tensor([[1., 2.], [3., 4.]]), 1, torch.tensor([1, 1, 0]))
    tensor([[2., 2., 1.],
            [4., 4., 3.]])
    """
    x = _as_tensor(input)
    nd = x._data.ndim
    d = _dim(dim, nd, "index_select")
    idx = _index_array("index_select", index)
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector (got a "
                         f"{idx.ndim}-D index). Flatten it first.")
    n = x._data.shape[d] if nd else 1
    idx = _index_vector(idx, n, d)
    if SHARED.observed and isinstance(index, Tensor):   # (chainrule.compile: from the data)
        notify("derived", idx, _index_vector, (index, n, d))
    if nd == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{idx.size} value(s)")
        return reshape(INDEX_SELECT.apply((reshape(x, (1,)),),
                             {"idx": (idx,), "shape": (1,)}), ())
    return INDEX_SELECT.apply((x,), {"idx": (slice(None),) * d + (idx,),
                                      "shape": x._data.shape})


# --- take / take_along_dim / embedding, and index checks shared with scatter.py ------------
#
# Reads at integer positions (take, embedding) are ``x[idx]`` with a tuple of index arrays:
# their transpose scatter-adds into zeros (repeated indices add up).  Writes (scatter,
# index_copy, index_fill, masked_scatter: scatter.py) zero the written positions of the
# gradient for the input and read them for the source.  The index is a param (a private
# copy), never a differentiable input.

_TORCH_TYPE = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
               "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
               "bool": "Bool"}


def _index_of(name, index, allowed=("int64",), exc=RuntimeError, expected="a long tensor"):
    """A private intp copy of ``index`` after PyTorch's dtype check for op ``name``."""
    idx = index._data if isinstance(index, Tensor) else as_array(index)
    if idx.dtype.name not in allowed:
        got = _TORCH_TYPE.get(idx.dtype.name, idx.dtype.name)
        raise exc(f"{name}(): Expected {expected} for index, but got {got}. Convert the "
                  f"index with index.long().")
    return idx.astype(np.intp, copy=True)


def _same_dtype(name, x, src, what="source"):
    if src._data.dtype != x._data.dtype:
        a = _TORCH_TYPE.get(x._data.dtype.name, x._data.dtype.name)
        b = _TORCH_TYPE.get(src._data.dtype.name, src._data.dtype.name)
        raise RuntimeError(f"{name}(): self and {what} expected to have the same dtype, but got "
                           f"(self) {a} and ({what}) {b}. Convert the {what} with "
                           f".to(self.dtype).")


def _slot(d, idx):
    """The index tuple addressing the positions ``idx`` (1-D) along dimension ``d``."""
    return (slice(None),) * d + (idx,)


def _vector_index(name, idx, exc, text):
    if idx.ndim > 1:
        raise exc(f"{name}(): {text} (got an index of {idx.ndim} dimensions, shape "
                  f"{list(idx.shape)}). Flatten it with index.reshape(-1).")
    return idx.reshape(-1)


def _in_bounds(name, idx, n, d, exc, allow_negative=False):
    if not idx.size:
        return idx
    lo = -n if allow_negative else 0
    bad = idx[(idx < lo) | (idx >= n)]
    if bad.size:
        raise exc(f"{name}(): index {int(bad[0])} is out of bounds for dimension {d} with size "
                  f"{n}; valid indices are {lo}..{n - 1}.")
    return np.where(idx < 0, idx + n, idx) if allow_negative else idx


# take ----------------------------------------------------------------------------------------

TAKE = gather_op("take", "TakeBackward0")


@public()
def take(input, index):
    """The elements of ``input`` at ``index`` as if ``input`` were flattened; the result has
    ``index``'s shape.  Negative indices count from the end; the gradient of repeated
    indices adds up.

    >>> import chainrule as torch
    >>> torch.take(torch.tensor([[1., 2.], [3., 4.]]), torch.tensor([[3, 0], [0, -3]]))
    tensor([[4., 1.],
            [1., 2.]])
    """
    x = _as_tensor(input)
    idx = _index_of("take", index)
    n = x._data.size
    if n == 0 and idx.size:
        raise IndexError("take(): tried to take from an empty tensor; the index must be empty "
                         "too.")
    bad = idx[(idx < -n) | (idx >= n)]
    if bad.size:
        raise IndexError(f"take(): out of range: tried to access index {int(bad.flat[0])} on a "
                         f"tensor of {n} elements (valid: {-n}..{n - 1}).")
    idx = np.where(idx < 0, idx + n, idx)
    shape = x._data.shape
    if x._data.ndim == 0:
        return TAKE.apply((reshape(x, (1,)),), {"idx": (idx,), "shape": (1,)})
    return TAKE.apply((x,), {"idx": np.unravel_index(idx, shape), "shape": shape})


@public()
@numpy_names
def take_along_dim(input, indices, dim=None):
    """The values of ``input`` at ``indices`` along ``dim`` (``gather`` after broadcasting
    ``input`` and ``indices`` in the other dimensions); with ``dim=None`` both are
    flattened first.

    >>> import chainrule as torch
    >>> x = torch.tensor([[10., 30., 20.], [60., 40., 50.]])
    >>> torch.take_along_dim(x, x.argmax(1, keepdim=True), dim=1)
    tensor([[30.],
            [60.]])
    >>> torch.take_along_dim(x, torch.tensor([5, 0]))
    tensor([50., 10.])
    """
    x = _as_tensor(input)
    idx = _index_of("torch.take_along_dim", indices,
                    expected="dtype of indices to be Long")
    if dim is None:
        x = reshape(x, (-1,))
        idx = idx.reshape(-1)
        d = 0
    else:
        if x._data.ndim != idx.ndim:
            raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                               f"number of dimensions, but got {x._data.ndim} dimensions for "
                               f"input, and {idx.ndim} dimensions for indices. Add or remove "
                               f"size-1 dimensions with unsqueeze()/squeeze().")
        if x._data.ndim == 0:
            raise IndexError(f"take_along_dim(): Dimension specified as {dim} but tensor has no "
                             f"dimensions; pass dim=None for a 0-d tensor.")
        d = _dim(dim, x._data.ndim, "take_along_dim")
        xs, js = list(x._data.shape), list(idx.shape)
        xs[d] = js[d] = 1
        try:
            b = list(np.broadcast_shapes(tuple(xs), tuple(js)))
        except ValueError:
            raise RuntimeError(f"take_along_dim(): input {list(x._data.shape)} and indices "
                               f"{list(idx.shape)} must be broadcastable apart from dimension "
                               f"{d}.") from None
        xb = tuple(b[:d] + [x._data.shape[d]] + b[d + 1:])
        jb = tuple(b[:d] + [idx.shape[d]] + b[d + 1:])
        if xb != x._data.shape:
            x = x.broadcast_to(xb)         # (Tensor.broadcast_to: reduce.py, above)
        idx = np.broadcast_to(idx, jb).copy()
    n = x._data.shape[d]
    idx = _in_bounds("take_along_dim", idx, n, d, RuntimeError)
    return gather(x, d, idx)


# embedding -----------------------------------------------------------------------------------

def _embedding_vjp(F, g, out, w, idx, shape, padding_idx):
    r = F.index_scatter(g, idx, shape)
    return r if padding_idx is None else F.zero_at(r, (padding_idx,))


EMBEDDING = defop("embedding", lambda w, idx, shape, padding_idx: w[idx],
                  vjps=(_embedding_vjp,),
                  jvp=lambda F, t, out, w, idx, shape, padding_idx: F.index(t[0], idx),
                  save_inputs=False, backward_name="EmbeddingBackward0")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """The rows of ``weight`` (num_embeddings, embedding_dim) at the integer positions
    ``input``: a tensor of shape ``input.shape + (embedding_dim,)``.  The gradient adds up
    over repeated indices; the row ``padding_idx`` gets none.  ``max_norm``,
    ``scale_grad_by_freq`` and ``sparse`` are not supported.

    >>> import chainrule as torch
    >>> w = torch.tensor([[0., 0.], [1., 2.], [3., 4.]])
    >>> torch.nn.functional.embedding(torch.tensor([[1, 2], [2, 2]]), w)
    tensor([[[1., 2.],
             [3., 4.]],
    <BLANKLINE>
            [[3., 4.],
             [3., 4.]]])
    """
    w = _as_tensor(weight)
    if max_norm is not None:
        raise NotImplementedError("embedding(): max_norm is not supported by chainrule (it "
                                  "renormalises weight rows in place). Renormalise the weight "
                                  "yourself under torch.no_grad() before the call.")
    if scale_grad_by_freq:
        raise NotImplementedError("embedding(): scale_grad_by_freq=True is not supported by "
                                  "chainrule. Leave it False.")
    if sparse:
        raise NotImplementedError("embedding(): sparse=True is not supported (chainrule has no "
                                  "sparse tensors). Leave it False: gradients are dense.")
    idx = _index_of("embedding", input, ("int64", "int32"), expected="Long or Int indices")
    if w._data.ndim != 2:
        raise RuntimeError(f"embedding(): 'weight' must be 2-D (num_embeddings, "
                           f"embedding_dim), got shape {list(w._data.shape)}.")
    n = w._data.shape[0]
    if padding_idx is not None:
        padding_idx = int(padding_idx)
        if padding_idx > 0:
            assert padding_idx < n, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -n, "Padding_idx must be within num_embeddings"
            padding_idx += n
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"index out of range in self (embedding: index {bad}, but weight has "
                         f"{n} rows; valid indices are 0..{n - 1})")
    return EMBEDDING.apply((w,), {"idx": (idx,), "shape": w._data.shape,
                                   "padding_idx": padding_idx})


# --- rule namespaces ---------------------------------------------------------------------

NF.index = lambda x, idx: x[idx]
NF.index_scatter = _scatter_zeros
NF.zero_at = _zero_at
NF.gather = lambda x, dim, idx: x[_along(idx, dim)]
NF.scatter_add_zeros = _scatter_add_zeros_np
TF.index = lambda x, idx: GETITEM.apply((x,), {"idx": idx, "shape": x._data.shape})
TF.index_scatter = index_scatter
TF.zero_at = zero_at
TF.gather = lambda x, dim, idx: GATHER.apply((x,), {"dim": dim, "idx": idx})
TF.scatter_add_zeros = scatter_add_zeros
