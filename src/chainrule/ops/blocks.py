"""Sliding blocks: ``unfold``/``fold`` and the linear primitives the convolutions and
pooling are built from.

Two primitives move blocks: ``im2col`` (the sliding blocks of a zero-padded input as
columns) and its transpose ``col2im`` (each column added back at its block's position, a
loop over the K kernel offsets); each one's VJP is the other and its JVP is itself.
``unfold``/``fold`` are these on (N, C*K, L); the convolutions (``ops/conv.py``) use them
on the whole batch as one matrix (C*K, N*L) (``layout``), whose columns
``cols_to_image``/``image_to_cols`` move to and from (N, C, *grid) images.

Blocks are described by ``ksize``, ``dilation``, ``stride``, ``pads`` (``(lo, hi)`` per
spatial dimension, so torch's asymmetric ``padding='same'`` fits), the unpadded spatial
``size`` and the block ``grid`` (blocks per dimension; a fold may be asked for fewer
blocks than fit, as ``conv_transpose`` with ``output_padding`` does).
"""
import itertools
import math
import threading

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._backend import ascontiguous, zeros_as
from .._tensor import Tensor
from ._core import NF, TF, defop

# --- the primitives -----------------------------------------------------------------------


def _padded(x, pads, first=2, value=0):
    """``x`` with ``pads[i] = (lo, hi)`` added around axis ``first + i``."""
    if not any(lo or hi for lo, hi in pads):
        return x
    nd = len(pads)
    sp = x.shape[first:first + nd]
    shape = (x.shape[:first] + tuple(n + lo + hi for n, (lo, hi) in zip(sp, pads))
             + x.shape[first + nd:])
    # (C order even for a view; only the padding strips are filled, then the interior)
    out = np.empty_like(x, shape=shape, order="C")
    lead = (slice(None),) * first
    for i, (n, (lo, hi)) in enumerate(zip(sp, pads)):
        mid = (slice(None),) * i
        if lo:
            out[lead + mid + (slice(0, lo),)] = value
        if hi:
            out[lead + mid + (slice(lo + n, None),)] = value
    out[lead + tuple(slice(lo, lo + n) for n, (lo, _) in zip(sp, pads))] = x
    return out


def block_windows(xp, ksize, dilation, stride, grid, first=2):
    """View of the blocks of the padded array ``xp`` whose spatial axes start at
    ``first``: the block grid replaces them and the kernel axes are appended (no copy)."""
    nd = len(ksize)
    span = tuple(d * (k - 1) + 1 for k, d in zip(ksize, dilation))
    win = sliding_window_view(xp, span, axis=tuple(range(first, first + nd)))
    return win[(slice(None),) * first
               + tuple(slice(None, (g - 1) * s + 1, s) for g, s in zip(grid, stride))
               + (Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]


# The convolutions' columns: the blocks of the whole batch as one matrix, in one of three
# layouts (``layout``), each with its image order, the order of (N, C, *S) from which the
# blocks are copied one kernel offset at a time:
#   "knl": (C*K, N*L), rows (C, *ksize), columns (N, *grid); image order (C, N, *S)
#   "kln": (C*K, L*N), columns (*grid, N); image order (C, *S, N) (runs of a block row
#          times the batch: for short block rows)
#   "lk":  (N*L, K*C), rows (N, *grid), columns (*ksize, C); image order (N, *S, C) (runs
#          of C: for many channels; BLAS runs these GEMMs fastest)
# ("nkl" is unfold's (N, C*K, L), copied from a strided window view.)

def _image_order(layout, nd):
    sp = tuple(range(2, nd + 2))
    if layout == "knl":
        return (1, 0) + sp
    return (1,) + sp + (0,) if layout == "kln" else (0,) + sp + (1,)


def _image_shape(layout, n, c, sp):
    """The shape of an (N, C, *sp) image in ``layout``'s image order."""
    if layout == "knl":
        return (c, n) + sp
    return (c,) + sp + (n,) if layout == "kln" else (n,) + sp + (c,)


def _to_image_order(x, layout):
    return x.transpose(_image_order(layout, x.ndim - 2))


def _from_image_order(x, layout):
    """(N, C, *S) from an array in ``layout``'s image order, as a contiguous copy."""
    order = _image_order(layout, x.ndim - 2)
    return ascontiguous(x.transpose(tuple(order.index(i) for i in range(x.ndim))))


def _where(off, dilation, grid, stride):
    """The positions of the blocks' element ``off`` in the padded image, as slices."""
    return tuple(slice(o * d, o * d + (g - 1) * s + 1, s)
                 for o, d, g, s in zip(off, dilation, grid, stride))


def _col_blocks(layout, n, c, ksize, grid):
    """The columns' shape with every axis apart, and where the kernel axes start."""
    if layout == "knl":
        return (c,) + ksize + (n,) + grid, 1
    if layout == "kln":
        return (c,) + ksize + grid + (n,), 1
    return (n,) + grid + ksize + (c,), 1 + len(grid)


_SCRATCH = threading.local()
#: the largest column buffer a thread keeps between calls (bytes); larger columns are fresh
#: arrays, so at most this much stays allocated per thread that ran a convolution
SCRATCH_MAX_BYTES = 256 * 2**20


def _scratch(x, shape):
    """A C-order array of ``shape`` and ``x``'s dtype for columns used only inside one
    convolution formula: this thread's buffer, reused.  Columns run to hundreds of MB
    (beyond malloc's mmap threshold), so a fresh array costs its pages' first-touch
    faults and zeroing at every call (~40 ms of system time per step of the 3x3 benchmark);
    PyTorch's caching allocator keeps such memory too.  (Other devices' arrays, and columns
    over ``SCRATCH_MAX_BYTES``: fresh.)"""
    n = math.prod(shape)
    if x.__class__ is not np.ndarray or n * x.dtype.itemsize > SCRATCH_MAX_BYTES:
        return np.empty_like(x, shape=shape, order="C")
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.dtype != x.dtype or buf.size < n:
        _SCRATCH.buf = None                 # (free the old one before allocating)
        buf = _SCRATCH.buf = np.empty(n, x.dtype)
    return buf[:n].reshape(shape)


def _im2col_np(x, ksize, dilation, pads, stride, size, grid, layout="nkl", scratch=False):
    """The blocks of ``x`` (N, C, *S) as columns in ``layout`` (see above); ``scratch``:
    into this thread's reused buffer (for columns that do not outlive the caller)."""
    nd = len(ksize)
    n, c = x.shape[:2]
    ksize, grid = tuple(ksize), tuple(grid)
    if layout == "nkl":
        win = block_windows(_padded(x, pads), ksize, dilation, stride, grid)
        kdims = tuple(range(2 + nd, 2 + 2 * nd))
        gdims = tuple(range(2, 2 + nd))
        return win.transpose((0, 1) + kdims + gdims).reshape(
            n, c * math.prod(ksize), math.prod(grid))
    xt = _to_image_order(x, layout)
    first = 2 if layout == "knl" else 1          # the first spatial axis in image order
    if any(lo or hi for lo, hi in pads):
        xt = _padded(xt, pads, first=first)
    elif layout != "knl":
        xt = ascontiguous(xt)       # (so that the copies below read runs, not strides)
    shape, at = _col_blocks(layout, n, c, ksize, grid)
    cols = _scratch(x, shape) if scratch else np.empty_like(x, shape=shape, order="C")
    if layout == "lk":              # a window view of the channels-last image, copied
        win = block_windows(xt, ksize, dilation, stride, grid, first=1)  # (N, *grid, C, *k)
        perm = tuple(range(nd + 1)) + tuple(range(nd + 2, 2 * nd + 2)) + (nd + 1,)
        cols[...] = win.transpose(perm)
        return cols.reshape(n * math.prod(grid), math.prod(ksize) * c)
    lead, src = (slice(None),) * at, (slice(None),) * first
    for off in itertools.product(*(range(kk) for kk in ksize)):
        cols[lead + off] = xt[src + _where(off, dilation, grid, stride)]
    rows, width = n * math.prod(grid), c * math.prod(ksize)
    return cols.reshape((rows, width) if layout == "lk" else (width, rows))


def _col2im_np(cols, ksize, dilation, pads, stride, size, grid, layout="nkl"):
    """The transpose of ``_im2col_np``: each column added back at its block's position,
    giving (N, C, *size)."""
    k = math.prod(ksize)
    ksize, grid = tuple(ksize), tuple(grid)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, pads))
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, pads))
    if layout == "nkl":
        n = cols.shape[0]
        c = cols.shape[1] // k
        blocks = cols.reshape((n, c) + ksize + grid)
        out = zeros_as(cols, (n, c) + padded)
        for off in itertools.product(*(range(kk) for kk in ksize)):
            out[(Ellipsis,) + _where(off, dilation, grid, stride)] += \
                blocks[(slice(None), slice(None)) + off]
        return out[(Ellipsis,) + crop]
    lk = layout == "lk"
    c = (cols.shape[1] if lk else cols.shape[0]) // k
    rows = cols.shape[0] if lk else cols.shape[1]
    n = rows // math.prod(grid) if math.prod(grid) else 0
    shape, at = _col_blocks(layout, n, c, ksize, grid)
    blocks = cols.reshape(shape)
    out = zeros_as(cols, _image_shape(layout, n, c, padded))
    lead, dst = (slice(None),) * at, (slice(None),) * (2 if layout == "knl" else 1)
    for off in itertools.product(*(range(kk) for kk in ksize)):
        out[dst + _where(off, dilation, grid, stride)] += blocks[lead + off]
    return _from_image_order(out[dst + crop], layout)


def _transposed_pair(a, forward_a, node_a, b, forward_b, node_b):
    """Two linear ops, each the other's transpose: the VJP of one is the other (``F.<b>``,
    ``F.<a>``), and the JVP of each is itself."""
    def op(name, forward, other, node):
        return defop(name, forward,
                     vjps=(lambda F, g, out, x, **p: getattr(F, other)(g, **p),),
                     jvp=lambda F, t, out, x, **p: getattr(F, name)(t[0], **p),
                     save_inputs=False, backward_name=node)
    return op(a, forward_a, b, node_a), op(b, forward_b, a, node_b)


IM2COL, COL2IM = _transposed_pair("im2col", _im2col_np, "Im2ColBackward0",
                                  "col2im", _col2im_np, "Col2ImBackward0")


def _cols_to_image_np(y, n, grid, layout):
    """Columns (O, N*L) (or (N*L, O) in layout "lk") to an (N, O, *grid) image."""
    c = y.shape[1] if layout == "lk" else y.shape[0]
    return _from_image_order(y.reshape(_image_shape(layout, n, c, tuple(grid))), layout)


def _image_to_cols_np(x, n, grid, layout):
    """An (N, C, *grid) image to columns (C, N*L) (or (N*L, C) in layout "lk")."""
    xt = ascontiguous(_to_image_order(x, layout))
    rows = n * math.prod(grid)
    return xt.reshape((rows, x.shape[1]) if layout == "lk" else (x.shape[1], rows))


# moves between images and the (channels, batch * blocks) matrices of the GEMMs, always
# into contiguous arrays (a broadcast gradient such as sum()'s would make NumPy's matmul
# leave BLAS for its slow generic loop); each is the other's transpose
COLS_TO_IMAGE, IMAGE_TO_COLS = _transposed_pair(
    "cols_to_image", _cols_to_image_np, "ColsToImageBackward0",
    "image_to_cols", _image_to_cols_np, "ImageToColsBackward0")


def im2col(x, **blocks):
    return IM2COL.apply((x,), blocks)


def col2im(cols, **blocks):
    return COL2IM.apply((cols,), blocks)


def cols_to_image(y, n, grid, layout):
    return COLS_TO_IMAGE.apply((y,), {"n": n, "grid": tuple(grid), "layout": layout})


def image_to_cols(x, n, grid, layout):
    return IMAGE_TO_COLS.apply((x,), {"n": n, "grid": tuple(grid), "layout": layout})


NF.im2col = _im2col_np
# the convolution formulas' own columns, consumed by a matmul at once: a reused buffer
NF.conv_cols = lambda x, **blocks: _im2col_np(x, scratch=True, **blocks)
TF.conv_cols = im2col
NF.col2im = _col2im_np
NF.cols_to_image = _cols_to_image_np
NF.image_to_cols = _image_to_cols_np
TF.im2col = im2col
TF.col2im = col2im
TF.cols_to_image = cols_to_image
TF.image_to_cols = image_to_cols




# --- argument handling shared with the convolutions and pooling -----------------------

def ntuple(value, n, name, op):
    """``value`` (an int or a sequence of n ints) as a tuple of n ints."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise RuntimeError(f"{op}: expected {name} to be a single integer or a list of "
                               f"{n} integers, but got {list(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _shape(t):
    return list(t._data.shape)


def _grid(size, ksize, dilation, pads, stride):
    return tuple((s + lo + hi - d * (k - 1) - 1) // st + 1
                 for s, k, d, (lo, hi), st in zip(size, ksize, dilation, pads, stride))


def _batched(input, nd, op):
    """``input`` with a batch dimension (added for an unbatched one), and whether it was
    added; torch's error for other ranks."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    r = input._data.ndim
    if r == nd + 2:
        return input, False
    if r == nd + 1:
        return input.unsqueeze(0), True
    raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, "
                       f"but got input of size: {_shape(input)}")


# --- unfold and fold ---------------------------------------------------------------------

def _unfold_args(op, kernel_size, dilation, padding, stride):
    return (ntuple(kernel_size, 2, "kernel_size", op), ntuple(dilation, 2, "dilation", op),
            ntuple(padding, 2, "padding", op), ntuple(stride, 2, "stride", op))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of ``input`` (N, C, H, W) or (C, H, W) as columns:
    ``(N, C*kH*kW, L)`` with ``L`` the number of blocks (im2col).

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.unfold(torch.arange(9.).reshape(1, 1, 3, 3), 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """
    ksize, dilation, pad, stride = _unfold_args("unfold", kernel_size, dilation, padding, stride)
    if not isinstance(input, Tensor) or input._data.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.dim() if isinstance(input, Tensor) else type(input)}D)")
    x, unbatched = _batched(input, 2, "unfold")
    if any(v <= 0 for v in ksize + dilation + stride) or any(p < 0 for p in pad):
        raise RuntimeError(f"unfold: kernel_size, dilation and stride must be positive and "
                           f"padding non-negative (got {list(ksize)}, {list(dilation)}, "
                           f"{list(stride)}, {list(pad)})")
    size = tuple(x._data.shape[2:])
    pads = tuple((p, p) for p in pad)
    grid = _grid(size, ksize, dilation, pads, stride)
    if any(g < 1 for g in grid):
        raise RuntimeError(f"Given input with spatial size {size}, kernel_size={ksize}, "
                           f"dilation={dilation}, padding={pad}, calculated shape of the "
                           f"array of sliding blocks as {grid}, but its components must be "
                           f"at least one.")
    out = im2col(x, ksize=ksize, dilation=dilation, pads=pads, stride=stride, size=size,
                 grid=grid)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding-block columns ``(N, C*kH*kW, L)`` or ``(C*kH*kW, L)`` back into an image
    ``(N, C, *output_size)`` (col2im; overlapping blocks add up): the transpose of
    ``unfold``.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.fold(torch.ones(1, 4, 4), (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    ksize, dilation, pad, stride = _unfold_args("fold", kernel_size, dilation, padding, stride)
    size = ntuple(output_size, 2, "output_size", "fold")
    if not isinstance(input, Tensor) or input._data.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors "
                           f"are supported (got {input.dim() if isinstance(input, Tensor) else type(input)}D)")
    unbatched = input._data.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    k = math.prod(ksize)
    if x._data.shape[1] % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)="
                           f"{x._data.shape[1]} and kernel_size={ksize}")
    pads = tuple((p, p) for p in pad)
    grid = _grid(size, ksize, dilation, pads, stride)
    if math.prod(grid) != x._data.shape[2] or any(g < 1 for g in grid):
        raise RuntimeError(f"Given output_size={size}, kernel_size={ksize}, dilation="
                           f"{dilation}, padding={pad}, stride={stride}, expected size of "
                           f"input's dimension 2 to match the calculated number of sliding "
                           f"blocks {' * '.join(map(str, grid))} = {math.prod(grid)}, but got "
                           f"input.size(2)={x._data.shape[2]}.")
    out = col2im(x, ksize=ksize, dilation=dilation, pads=pads, stride=stride, size=size,
                 grid=grid)
    return out.squeeze(0) if unbatched else out
