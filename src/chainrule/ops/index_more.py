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
