"""More indexing and rearranging: scatter_add, index_select, masked_fill, flip, roll,
repeat/tile, split/chunk/narrow/unbind, padding (``nn.functional.pad``) and meshgrid.

Primitives with rules: ``scatter_add``, ``index_select`` and the non-constant pads (integer
-array reads whose transpose scatter-adds), ``masked_fill``, ``flip``, ``roll``, ``repeat``,
``constant_pad_nd``; the pieces of ``split``/``chunk``/``unbind`` are slices with the
getitem rules under PyTorch's node names.  ``tile``, ``narrow`` and ``meshgrid`` are
composites of those and of slicing / reshaping.
"""
import math
import warnings

import numpy as np

from .._tensor import Tensor, _dim
from ._core import NF, TF, apply, defop
from .elementwise import _tensorize
from .index import _along, _getitem_op, _scatter_zeros, getitem
from ._numpy_names import numpy_names

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


def _as_tensor(x):
    x = _tensorize(x)
    if not isinstance(x, Tensor):
        from .._creation import tensor
        x = tensor(x)
    return x


def _index_array(name, index):
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, got "
                           f"{'torch.' + str(idx.dtype) if idx.dtype.kind == 'f' else idx.dtype}"
                           f". Convert it with index.long().")
    # always a copy: the node keeps it, so changing the index tensor in place after the op
    # must not move the gradient (sharing it did, silently)
    return idx.astype(np.intp, copy=True)


# --- scatter_add ----------------------------------------------------------------------------

def _scatter_add_np(x, src, idx, dim):
    out = np.array(x, copy=True)
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
        from .shape import reshape
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
    return apply(SCATTER_ADD, (x, src), {"idx": idx, "dim": d})


# --- index_select ---------------------------------------------------------------------------

INDEX_SELECT = gather_op("index_select", "IndexSelectBackward0")


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
    idx = idx.reshape(-1)
    n = x._data.shape[d] if nd else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"index out of range in self (index_select: indices must be in "
                         f"[0, {n - 1}] for dimension {d}, got {idx.tolist()})")
    if nd == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{idx.size} value(s)")
        from .shape import reshape
        return reshape(apply(INDEX_SELECT, (reshape(x, (1,)),),
                             {"idx": (idx,), "shape": (1,)}), ())
    return apply(INDEX_SELECT, (x,), {"idx": (slice(None),) * d + (idx,),
                                      "shape": x._data.shape})


# --- masked_fill ----------------------------------------------------------------------------

MASKED_FILL = defop(
    "masked_fill", lambda x, m, value: np.where(m, np.asarray(value, dtype=x.dtype), x),
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
        return apply(MASKED_FILL_T, (x, m, value))
    if isinstance(value, np.generic):
        value = value.item()
    return apply(MASKED_FILL, (x, m), {"value": value})


# --- flip / roll --------------------------------------------------------------------------

FLIP = defop("flip", lambda x, dims: np.flip(x, dims),
             vjps=(lambda F, g, out, x, dims: F.flip(g, dims),),
             jvp=lambda F, t, out, x, dims: F.flip(t[0], dims), save_inputs=False)


def _dims_arg(dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return tuple(int(d) for d in dims)


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
    return apply(FLIP, (x,), {"dims": ds})


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
        return apply(ROLL, (x,), {"shifts": s[0], "dims": None})
    ds = (int(dims),) if isinstance(dims, (int, np.integer)) else tuple(int(d) for d in dims)
    if len(s) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(s)}, dims:{len(ds)}")
    ds = tuple(_dim(d, nd, "roll") for d in ds)
    if nd == 0:
        return apply(ROLL, (x,), {"shifts": 0, "dims": None})
    return apply(ROLL, (x,), {"shifts": s, "dims": ds})


# --- repeat / tile ------------------------------------------------------------------------

def _repeat_np(x, sizes):
    lead = len(sizes) - x.ndim
    return np.tile(np.reshape(x, (1,) * lead + x.shape), sizes)


def _repeat_vjp(F, g, out, x, sizes, src):
    # view the gradient as (r0, s0, r1, s1, ...) and sum the copies (the r axes)
    lead = len(sizes) - len(src)
    full = (1,) * lead + tuple(src)
    inter = []
    for r, s in zip(sizes, full):
        inter += [r, s]
    summed = F.sum(F.reshape(g, tuple(inter)), tuple(range(0, 2 * len(sizes), 2)))
    return F.reshape(summed, src)


REPEAT = defop("repeat", lambda x, sizes, src: _repeat_np(x, sizes),
               vjps=(_repeat_vjp,),
               jvp=lambda F, t, out, x, sizes, src: F.repeat(t[0], sizes),
               save_inputs=False)


def repeat(input, *sizes):
    """Tile the tensor: ``sizes[i]`` copies along dimension ``i`` (extra leading sizes add
    new dimensions).

    >>> import chainrule as torch
    >>> torch.tensor([1., 2.]).repeat(2, 2)
    tensor([[1., 2., 1., 2.],
            [1., 2., 1., 2.]])
    """
    x = _as_tensor(input)
    sizes = _dims_arg(sizes)
    if len(sizes) < x._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: repeat sizes "
                           f"{list(sizes)} must be >= 0")
    return apply(REPEAT, (x,), {"sizes": sizes, "src": x._data.shape})


def tile(input, dims):
    """Like ``repeat``, but ``dims`` shorter than the tensor's rank is padded with 1s in
    front.

    >>> import chainrule as torch
    >>> torch.tile(torch.tensor([[1., 2.]]), (2,))
    tensor([[1., 2., 1., 2.]])
    """
    x = _as_tensor(input)
    dims = _dims_arg((dims,)) if isinstance(dims, (tuple, list)) else (int(dims),)
    if len(dims) < x._data.ndim:
        dims = (1,) * (x._data.ndim - len(dims)) + dims
    return repeat(x, dims)


# --- narrow / split / chunk / unbind --------------------------------------------------------

@numpy_names
def narrow(input, dim, start, length):
    """The slice ``start:start+length`` along ``dim`` (a view; negative ``start`` counts
    from the end).

    >>> import chainrule as torch
    >>> torch.arange(5.).narrow(0, 1, 3)
    tensor([1., 2., 3.])
    """
    x = _as_tensor(input)
    nd = x._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, nd, "narrow")
    n = x._data.shape[d]
    if isinstance(start, Tensor):
        start = int(start.item())
    start, length = int(start), int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


# the pieces of split/chunk/unbind are slices (views) of the input; one rule set (the
# getitem one) under PyTorch's node names
SPLIT = _getitem_op("split", "SplitBackward0")
SPLIT_WITH_SIZES = _getitem_op("split_with_sizes", "SplitWithSizesBackward0")
UNBIND = _getitem_op("unbind", "UnbindBackward0")


def _piece(op, x, d, part):
    return apply(op, (x,), {"idx": (slice(None),) * d + (part,), "shape": x._data.shape})


def split(tensor, split_size_or_sections, dim=0):
    """Split into pieces along ``dim``: of ``split_size`` each (the last may be smaller), or
    of the listed sizes.  The pieces are views.

    >>> import chainrule as torch
    >>> torch.arange(5.).split(2)
    (tensor([0., 1.]), tensor([2., 3.]), tensor([4.]))
    >>> torch.arange(5.).split([1, 4])
    (tensor([0.]), tensor([1., 2., 3., 4.]))
    """
    x = _as_tensor(tensor)
    nd = x._data.ndim
    if nd == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _dim(dim, nd, "split")
    n = x._data.shape[d]
    op = SPLIT
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0:
            if n:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {n}")
            sizes = [0]
        else:
            sizes = [size] * (n // size) + ([n % size] if n % size else [])
            sizes = sizes or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        op = SPLIT_WITH_SIZES
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(_piece(op, x, d, slice(start, start + s)))
        start += s
    return tuple(out)


@numpy_names
def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size along ``dim`` (the last may be smaller;
    fewer pieces are returned when the size does not allow ``chunks``).

    >>> import chainrule as torch
    >>> torch.arange(5.).chunk(2)
    (tensor([0., 1., 2.]), tensor([3., 4.]))
    """
    x = _as_tensor(input)
    chunks = int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if x._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = _dim(dim, x._data.ndim, "chunk")
    n = x._data.shape[d]
    size = math.ceil(n / chunks) if n else 0
    return split(x, size, d)


@numpy_names
def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple of tensors (that dimension removed).

    >>> import chainrule as torch
    >>> torch.unbind(torch.tensor([[1., 2.], [3., 4.]]), 1)
    (tensor([1., 3.]), tensor([2., 4.]))
    """
    x = _as_tensor(input)
    if x._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _dim(dim, x._data.ndim, "unbind")
    return tuple(_piece(UNBIND, x, d, i) for i in range(x._data.shape[d]))


# --- padding (nn.functional.pad) ------------------------------------------------------------

def _cpad_np(x, widths, value):
    # negative widths crop (PyTorch's semantics), positive ones pad with ``value``
    crop = tuple(slice(-lo if lo < 0 else 0, n + hi if hi < 0 else n)
                 for (lo, hi), n in zip(widths, x.shape))
    x = x[crop]
    pos = [(lo if lo > 0 else 0, hi if hi > 0 else 0) for lo, hi in widths]
    if not any(lo or hi for lo, hi in pos):
        return np.array(x, copy=True)
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
        return apply(CONSTANT_PAD, (x,), {"widths": tuple(widths),
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
    return apply(op, (x,), {"idx": (Ellipsis,) + tuple(arrays), "shape": shape})


# --- meshgrid -----------------------------------------------------------------------------

def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` output ``i`` varies along
    dimension ``i``; ``'xy'`` swaps the first two dimensions (Cartesian, as NumPy).  Omitting
    ``indexing`` warns, as PyTorch does, and uses ``'ij'``.

    >>> import chainrule as torch
    >>> xs, ys = torch.meshgrid(torch.tensor([1., 2.]), torch.tensor([3., 4., 5.]), indexing='ij')
    >>> xs.shape, ys[0]
    (torch.Size([2, 3]), tensor([3., 4., 5.]))
    """
    from .reduce import broadcast_to
    from .shape import reshape
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    ts = [_as_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
        if t._data.dtype != ts[0]._data.dtype:
            raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to "
                               "have the same dtype.")
    sizes = [t._data.size for t in ts]
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0          # output dimension of each input
    shape = [0] * len(ts)
    for i, pos in enumerate(order):
        shape[pos] = sizes[i]
    out = []
    for i, t in enumerate(ts):
        s = [1] * len(ts)
        s[order[i]] = sizes[i]
        out.append(broadcast_to(reshape(t, tuple(s)), tuple(shape)))
    return tuple(out)


# --- rule namespaces ---------------------------------------------------------------------

NF.flip = lambda x, dims: np.flip(x, dims)
NF.roll = lambda x, shifts, dims: np.roll(x, shifts, dims)
NF.repeat = _repeat_np
NF.pad_constant = lambda x, widths: _cpad_np(x, widths, 0)
TF.flip = lambda x, dims: apply(FLIP, (x,), {"dims": dims})
TF.roll = lambda x, shifts, dims: apply(ROLL, (x,), {"shifts": shifts, "dims": dims})
TF.repeat = lambda x, sizes: apply(REPEAT, (x,), {"sizes": sizes, "src": x._data.shape})
TF.pad_constant = lambda x, widths: apply(CONSTANT_PAD, (x,), {"widths": widths, "value": 0})


# --- take / take_along_dim / scatter / index_add / index_copy / index_fill / masked_scatter
# --- / embedding ----------------------------------------------------------------------------
#
# Reads at integer positions (take, embedding) are ``x[idx]`` with a tuple of index arrays:
# their transpose scatter-adds into zeros (repeated indices add up).  Writes (scatter,
# index_copy, index_fill, masked_scatter) zero the written positions of the gradient for
# the input and read them for the source.  The index is a param (a private copy), never a
# differentiable input.

_TORCH_TYPE = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
               "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
               "bool": "Bool"}


def _index_of(name, index, allowed=("int64",), exc=RuntimeError, expected="a long tensor"):
    """A private intp copy of ``index`` after PyTorch's dtype check for op ``name``."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
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
        from .shape import reshape
        return apply(TAKE, (reshape(x, (1,)),), {"idx": (idx,), "shape": (1,)})
    return apply(TAKE, (x,), {"idx": np.unravel_index(idx, shape), "shape": shape})


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
    from .index import gather
    from .reduce import broadcast_to
    from .shape import reshape
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
            x = broadcast_to(x, xb)
        idx = np.broadcast_to(idx, jb).copy()
    n = x._data.shape[d]
    idx = _in_bounds("take_along_dim", idx, n, d, RuntimeError)
    return gather(x, d, idx)


# scatter -------------------------------------------------------------------------------------

def _written(x, pos, v):
    """A copy of ``x`` with ``v`` written at the positions ``pos`` (scatter, index_copy)."""
    out = np.array(x, copy=True)
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
        from .shape import reshape
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
        idx = np.zeros((0,) * nd, dtype=np.intp)
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
        return apply(SCATTER_VALUE, (x,), {"idx": idx, "dim": d, "value": value})
    if src._data.shape != idx.shape:            # only the part of src that index covers
        src = getitem(src, tuple(slice(0, k) for k in idx.shape))
    return apply(SCATTER, (x, src), {"idx": idx, "dim": d})


# index_add / index_copy / index_fill ---------------------------------------------------------

def _index_add_np(x, src, idx, dim, alpha):
    out = np.array(x, copy=True)
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
    from .shape import reshape
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
    r = apply(INDEX_ADD, (x, src), {"idx": idx, "dim": d, "alpha": alpha})
    if was_0d:
        from .shape import reshape
        r = reshape(r, ())
    return r


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
    r = apply(INDEX_COPY, (x, src), {"idx": idx, "dim": d})
    if was_0d:
        from .shape import reshape
        r = reshape(r, ())
    return r


def _index_fill_np(x, idx, dim, value):
    out = np.array(x, copy=True)
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
    from .shape import reshape
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
        r = apply(INDEX_FILL_T, (y, value), {"idx": idx, "dim": d, "uniq": np.unique(idx)})
    else:
        if isinstance(value, np.generic):
            value = value.item()
        r = apply(INDEX_FILL, (y,), {"idx": idx, "dim": d, "value": value})
    return reshape(r, ()) if nd == 0 else r


# masked_scatter ------------------------------------------------------------------------------

def _masked_scatter_np(x, src, nz, k, sshape):
    out = np.array(x, copy=True)
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
    from .reduce import broadcast_to
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
        from .shape import reshape
        r = apply(MASKED_SCATTER, (reshape(x, (1,)), src),
                  {"nz": mk.reshape(1).nonzero(), "k": k, "sshape": src._data.shape})
        return reshape(r, ())
    return apply(MASKED_SCATTER, (x, src), {"nz": mk.nonzero(), "k": k,
                                            "sshape": src._data.shape})


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
    return apply(EMBEDDING, (w,), {"idx": (idx,), "shape": w._data.shape,
                                   "padding_idx": padding_idx})
