"""Convolution: ``conv1d``/``conv2d``, ``conv_transpose1d``/``conv_transpose2d``,
``unfold``/``fold``.

Two linear primitives move blocks: ``im2col`` (the sliding blocks of a zero-padded input
as columns) and its transpose ``col2im`` (each column added back at its block's position,
a loop over the K kernel offsets); each one's VJP is the other and its JVP is itself.
``unfold``/``fold`` are these on (N, C*K, L); the convolutions use them on the whole batch
as one matrix (C*K, N*L) (``layout``), whose columns ``cols_to_image``/``image_to_cols``
move to and from (N, C, *grid) images.

``conv1d``/``conv2d`` record one op, ``convolution``, and the transposed ones one op,
``convolution_transpose`` (node ``ConvolutionBackward0`` for both, as in PyTorch): each
saves its input and weight, so changing either in place before backward raises, as in
PyTorch, and the weight gradient is computed from the saved input rather than from kept
columns.  Their forwards and rules share three formulas written with ``F``
(``_conv``, ``_conv_t``, ``_weight_grad``): the input gradient of a convolution is a
transposed convolution and vice versa, both weight gradients correlate the columns of one
image with im2col of the other.  Under ``create_graph`` and forward mode the formulas
run on Tensors, as compositions of the primitives above and matmul, so every derivative
is differentiable again (second order, forward mode).

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
from ._core import NF, TF, defop, public
from .copies import contiguous

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


# --- convolution and its transpose: one op each ----------------------------------------------
#
# A convolution of x (N, C, *size) with w (O, C/G, *k) is one GEMM per group over the whole
# batch: (O/G, C/G*K) @ im2col(x) (C/G*K, N*L) (in layout "lk", ungrouped:
# im2col(x) (N*L, K*C) @ w^T), then the columns back to an image.  Its transpose
# (conv_transpose, and the convolution's input gradient) is col2im of w^T @ the columns of
# its input.  The weight gradient of either correlates the columns of one image with
# im2col of the other.  The formulas below are written once with ``F`` and used for the
# forward (F = NF), the VJPs and the JVPs (under create_graph and forward mode F = TF,
# where im2col, col2im, matmul ... are differentiable ops, so every derivative is
# differentiable again).  ``blocks`` is im2col's description of the blocks and layout.

def _wmat(F, w, groups, layout):
    """The weight (R, S, *k) as matrices: (R, S*K), or (G, R/G, S*K) with groups; in
    layout "lk" (R, K*S), kernel offsets outer."""
    r = w.shape[0]
    m = math.prod(w.shape[1:])
    if layout == "lk":
        nd = len(w.shape) - 2
        return F.reshape(F.permute(w, (0,) + tuple(range(2, nd + 2)) + (1,)), (r, m))
    return F.reshape(w, (r, m)) if groups == 1 else F.reshape(w, (groups, r // groups, m))


def _unwmat(F, m, wshape, layout):
    """The inverse of ``_wmat``: (R, S*K) or (G, R/G, S*K) matrices to ``wshape``."""
    if layout == "lk":
        nd = len(wshape) - 2
        m = F.reshape(m, (wshape[0],) + tuple(wshape[2:]) + (wshape[1],))
        # (a contiguous copy: the weight's gradient is laid out as the weight, as in torch)
        return F.contiguous(F.permute(m, (0, nd + 1) + tuple(range(1, nd + 1))))
    return F.reshape(m, tuple(wshape))


def _grouped(F, m, groups):
    """(R, M) -> (G, R/G, M)."""
    return m if groups == 1 else F.reshape(m, (groups, m.shape[0] // groups, m.shape[1]))


def _ungrouped(F, m, groups):
    return m if groups == 1 else F.reshape(m, (m.shape[0] * m.shape[1], m.shape[2]))


def _t(F, m):
    """The two last axes swapped (a view)."""
    return F.swapaxes(m, -1, -2)


def _conv(F, x, w, b, groups, blocks):
    """conv(x, w) + b: (N, C, *size) -> (N, O, *grid)."""
    layout = blocks["layout"]
    cols = F.conv_cols(x, **blocks)
    wm = _wmat(F, w, groups, layout)
    if layout == "lk":                                  # (N*L, K*C) @ (K*C, O)
        y = F.matmul(cols, _t(F, wm))
        if b is not None:
            y = y + b
    else:                                               # (O, C*K) @ (C*K, N*L)
        y = _ungrouped(F, F.matmul(wm, _grouped(F, cols, groups)), groups)
        if b is not None:
            y = y + F.reshape(b, (b.shape[0], 1))
    return F.cols_to_image(y, n=x.shape[0], grid=blocks["grid"], layout=layout)


def _correlation_blocks(x, w, groups, blocks):
    """With stride 1, ``conv_transpose(x, w)`` is a correlation of ``x`` with the flipped
    kernel (its padding ``d*(k-1) - pad``): the blocks of that correlation, where it moves
    no more data than col2im does (im2col copies, col2im adds), else None."""
    if any(s != 1 for s in blocks["stride"]):
        return None
    size, grid = blocks["size"], blocks["grid"]
    span = tuple(d * (k - 1) for k, d in zip(blocks["ksize"], blocks["dilation"]))
    lo = tuple(sp - p for sp, (p, _) in zip(span, blocks["pads"]))
    hi = tuple(s + sp - a - g for s, sp, a, g in zip(size, span, lo, grid))
    cx, oy = x.shape[1], w.shape[1] * groups
    if min(lo + hi) < 0 or cx * math.prod(size) > oy * math.prod(grid):
        return None
    return {"ksize": blocks["ksize"], "dilation": blocks["dilation"],
            "pads": tuple(zip(lo, hi)), "stride": blocks["stride"], "size": tuple(grid),
            "grid": tuple(size), "layout": _layout(x.shape[0], cx, size, groups)}


def _flipped(F, w, groups):
    """A transposed convolution's weight (C, O/G, *k) as the weight (O, C/G, *k) of the
    correlation that computes it: in and out channels swapped per group, kernel flipped."""
    c, og = w.shape[0], w.shape[1]
    k = tuple(w.shape[2:])
    m = F.swapaxes(F.reshape(w, (groups, c // groups, og) + k), 1, 2)
    return F.flip(F.reshape(m, (groups * og, c // groups) + k), tuple(range(2, len(k) + 2)))


def _conv_t(F, x, w, b, groups, blocks):
    """conv_transpose(x, w) + b: (N, C, *grid) -> (N, O, *size), ``w`` (C, O/G, *k)."""
    corr = _correlation_blocks(x, w, groups, blocks)
    if corr is not None:
        return _conv(F, x, _flipped(F, w, groups), b, groups, corr)
    layout = blocks["layout"]
    xc = F.image_to_cols(x, n=x.shape[0], grid=blocks["grid"], layout=layout)
    wm = _wmat(F, w, groups, layout)
    if layout == "lk":                                  # (N*L, C) @ (C, K*O)
        cols = F.matmul(xc, wm)
    else:                                               # (O*K, C) @ (C, N*L)
        cols = _ungrouped(F, F.matmul(_t(F, wm), _grouped(F, xc, groups)), groups)
    y = F.col2im(cols, **blocks)
    if b is not None:
        y = y + F.reshape(b, (b.shape[0],) + (1,) * len(blocks["grid"]))
    return y


def _weight_grad(F, a, img, groups, wshape, blocks):
    """The weight gradient shared by both: the columns of ``a`` (N, R, *grid) times
    im2col(img) transposed, summed over the batch and the blocks -> ``wshape``."""
    layout = blocks["layout"]
    ac = F.image_to_cols(a, n=a.shape[0], grid=blocks["grid"], layout=layout)
    cols = F.conv_cols(img, **blocks)
    if layout == "lk":                  # ((K*S, N*L) @ (N*L, R))^T: BLAS's faster order
        m = _t(F, F.matmul(_t(F, cols), ac))
    else:
        m = F.matmul_nt(_grouped(F, ac, groups), _grouped(F, cols, groups))
    return _unwmat(F, m, wshape, layout)


def _matmul_nt_np(a, b, chunk=4096):
    """``a @ b^T`` for a (..., M, L), b (..., K, L) with a long L (the batch's blocks), as
    the transpose of a sum over chunks of L of ``b @ a^T``: OpenBLAS runs such a product
    of few rows over a long inner dimension 1.5-3 times slower in one call."""
    n = a.shape[-1]
    if n <= chunk:
        return np.matmul(a, b.swapaxes(-1, -2))
    acc = None
    for s in range(0, n, chunk):
        p = np.matmul(b[..., s:s + chunk], a[..., s:s + chunk].swapaxes(-1, -2))
        if acc is None:
            acc = p
        else:
            acc += p
    return acc.swapaxes(-1, -2)


NF.matmul_nt = _matmul_nt_np
NF.contiguous = ascontiguous
TF.contiguous = contiguous
TF.matmul_nt = lambda a, b: a.matmul(b.transpose(-1, -2))


def _bias_grad(F, g):
    return F.sum(g, (0,) + tuple(range(2, len(g.shape))))


def _conv_np(x, w, *b, groups, **blocks):
    return _conv(NF, x, w, b[0] if b else None, groups, blocks)


def _conv_t_np(x, w, *b, groups, **blocks):
    return _conv_t(NF, x, w, b[0] if b else None, groups, blocks)


def _bilinear_jvp(f):
    """The JVP of ``f(x, w) + b``, linear in each of x, w, b."""
    def jvp(F, t, out, x, w, *b, groups, **blocks):
        r = None
        if t[0] is not None:
            r = f(F, t[0], w, None, groups, blocks)
        if t[1] is not None:
            d = f(F, x, t[1], None, groups, blocks)
            r = d if r is None else r + d
        if b and t[2] is not None:
            d = F.reshape(t[2], (t[2].shape[0],) + (1,) * len(blocks["grid"]))
            r = d if r is None else r + d
        return r
    return jvp


# PyTorch's convolution node saves the input and the weight, whichever needs a gradient
# (an in-place change of either before backward raises), never the bias
_READS = ((0, 1), (0, 1), (0, 1))

CONVOLUTION = defop(
    "convolution", _conv_np,
    vjps=(lambda F, g, out, x, w, *b, groups, **blocks: _conv_t(F, g, w, None, groups, blocks),
          lambda F, g, out, x, w, *b, groups, **blocks:
              _weight_grad(F, g, x, groups, w.shape, blocks),
          lambda F, g, out, x, w, *b, groups, **blocks: _bias_grad(F, g)),
    jvp=_bilinear_jvp(_conv), reads=_READS, backward_name="ConvolutionBackward0")
CONVOLUTION_TRANSPOSE = defop(
    "convolution_transpose", _conv_t_np,
    vjps=(lambda F, g, out, x, w, *b, groups, **blocks: _conv(F, g, w, None, groups, blocks),
          lambda F, g, out, x, w, *b, groups, **blocks:
              _weight_grad(F, x, g, groups, w.shape, blocks),
          lambda F, g, out, x, w, *b, groups, **blocks: _bias_grad(F, g)),
    jvp=_bilinear_jvp(_conv_t), reads=_READS, backward_name="ConvolutionBackward0")


def _layout(n, c, grid, groups):
    """The columns' layout for a batch of ``n`` images of ``c`` channels (the side that
    im2col and col2im see) and ``grid`` blocks: "lk" (runs of C, BLAS's faster GEMMs) for
    128+ channels (measured: about as fast at 64-128 channels, slower below); otherwise
    the batch goes innermost when a block row is short (im2col's and col2im's copies then
    run over a block row times the batch)."""
    if groups == 1 and c >= 128:
        return "lk"
    return "kln" if n > 1 and grid and grid[-1] < 16 else "knl"


# --- argument handling ----------------------------------------------------------------------

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


def _initialized(op, *tensors):
    """A lazy layer's parameter used before its first forward: PyTorch's ValueError."""
    for t in tensors:
        if getattr(type(t), "_uninitialized", False):
            t._fail(op)


def _same_dtype(op, input, weight, bias):
    for other, what in ((weight, "weight"), (bias, "bias")):
        if other is not None and other._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}: Input type ({input.dtype}) and {what} type "
                               f"({other.dtype}) should be the same; convert one of them, "
                               f"e.g. input.to({other.dtype}).")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {input.dtype}; "
                           f"convert it with input.float().")


def _conv_pads(padding, ksize, dilation, stride, op):
    nd = len(ksize)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: {padding!r}")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        # torch puts the odd element of the total padding at the end
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                     for k, d in zip(ksize, dilation))
    p = ntuple(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: negative padding is not supported (got {list(p)})")
    return tuple((v, v) for v in p)


def _check_bias(bias, out_channels, weight):
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {_shape(weight)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{_shape(bias)} instead")


def _convnd(nd, op, input, weight, bias, stride, padding, dilation, groups):
    x, unbatched = _batched(input, nd, op)
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}(): argument 'weight' must be Tensor, not "
                        f"{type(weight).__name__}")
    _initialized(op, weight, bias)
    if weight._data.ndim != nd + 2:
        raise RuntimeError(f"Expected {weight._data.ndim}-dimensional input for "
                           f"{weight._data.ndim}-dimensional weight {_shape(weight)}, but got "
                           f"{input._data.ndim}-dimensional input of size {_shape(input)} "
                           f"instead")
    _same_dtype(op, x, weight, bias)
    stride = ntuple(stride, nd, "stride", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    if any(s <= 0 for s in stride) or any(d <= 0 for d in dilation) or groups <= 0:
        raise RuntimeError(f"{op}: stride, dilation and groups must be positive (got stride="
                           f"{list(stride)}, dilation={list(dilation)}, groups={groups})")
    n, c = x._data.shape[:2]
    o, cg = weight._data.shape[:2]
    ksize = tuple(weight._data.shape[2:])
    if c != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_shape(weight)}, expected "
                           f"input{_shape(x)} to have {cg * groups} channels, but got {c} "
                           f"channels instead")
    if o % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {_shape(weight)} "
                           f"instead")
    _check_bias(bias, o, weight)
    pads = _conv_pads(padding, ksize, dilation, stride, op)
    size = tuple(x._data.shape[2:])
    span = tuple(d * (k - 1) + 1 for k, d in zip(ksize, dilation))
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, pads))
    if any(p < k for p, k in zip(padded, span)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, span))}). Kernel size can't be greater "
                           f"than actual input size")
    grid = _grid(size, ksize, dilation, pads, stride)
    out = CONVOLUTION.apply(
        (x, weight) if bias is None else (x, weight, bias),
        {"groups": groups, "ksize": ksize, "dilation": dilation, "pads": pads,
         "stride": stride, "size": size, "grid": grid,
         "layout": _layout(n, c, grid, groups)})
    return out.squeeze(0) if unbatched else out


def _conv_transposend(nd, op, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    x, unbatched = _batched(input, nd, op)
    _initialized(op, weight, bias)
    if not isinstance(weight, Tensor) or weight._data.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected a {nd + 2}-dimensional weight (in_channels, "
                           f"out_channels / groups, *kernel_size), got "
                           f"{_shape(weight) if isinstance(weight, Tensor) else weight}")
    _same_dtype(op, x, weight, bias)
    stride = ntuple(stride, nd, "stride", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    pad = ntuple(padding, nd, "padding", op)
    opad = ntuple(output_padding, nd, "output_padding", op)
    if any(s <= 0 for s in stride) or any(d <= 0 for d in dilation) or groups <= 0:
        raise RuntimeError(f"{op}: stride, dilation and groups must be positive (got stride="
                           f"{list(stride)}, dilation={list(dilation)}, groups={groups})")
    if any(p < 0 for p in pad):
        raise RuntimeError(f"{op}: negative padding is not supported (got {list(pad)})")
    if any(q >= max(s, d) for q, s, d in zip(opad, stride, dilation)):
        names = ("height", "width") if nd == 2 else ("",) * nd
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            + " ".join(f"output_padding_{h}: {q}" for h, q in zip(names, opad)) + " "
            + " ".join(f"stride_{h}: {s}" for h, s in zip(names, stride)) + " "
            + " ".join(f"dilation_{h}: {d}" for h, d in zip(names, dilation)))
    n, c = x._data.shape[:2]
    cin, og = weight._data.shape[:2]
    ksize = tuple(weight._data.shape[2:])
    if c != cin:
        raise RuntimeError(f"Given transposed=1, weight of size {_shape(weight)}, expected "
                           f"input{_shape(x)} to have {cin} channels, but got {c} channels "
                           f"instead")
    if cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {_shape(weight)} "
                           f"instead")
    o = og * groups
    _check_bias(bias, o, weight)
    grid = tuple(x._data.shape[2:])
    size = tuple((g - 1) * s - 2 * p + d * (k - 1) + q + 1
                 for g, s, p, d, k, q in zip(grid, stride, pad, dilation, ksize, opad))
    if any(s <= 0 for s in size):
        raise RuntimeError(f"{op}: Given input size per channel: {list(grid)}. Calculated "
                           f"output size per channel: {list(size)}. Output size is too small")
    out = CONVOLUTION_TRANSPOSE.apply(
        (x, weight) if bias is None else (x, weight, bias),
        {"groups": groups, "ksize": ksize, "dilation": dilation,
         "pads": tuple((p, p) for p in pad), "stride": stride, "size": size, "grid": grid,
         "layout": _layout(n, o, grid, groups)})
    return out.squeeze(0) if unbatched else out


# --- public functions -------------------------------------------------------------------------

@public(method=False)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of ``input`` (N, C_in, L) or (C_in, L) with ``weight``
    (C_out, C_in / groups, k), plus ``bias`` (C_out).  ``padding``: an int, or ``'valid'``
    / ``'same'`` (odd total padding goes at the end, as in PyTorch).

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.conv1d(torch.tensor([[[1., 2., 3., 4.]]]), torch.tensor([[[1., -1.]]]))
    tensor([[[-1., -1., -1.]]])
    """
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


@public(method=False)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of ``input`` (N, C_in, H, W) or (C_in, H, W) with ``weight``
    (C_out, C_in / groups, kH, kW), plus ``bias`` (C_out).  ``stride``, ``padding``,
    ``dilation``: an int or a pair; ``padding`` may also be ``'valid'`` or ``'same'``.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2), padding=1)
    tensor([[[[1., 2., 2., 1.],
              [2., 4., 4., 2.],
              [2., 4., 4., 2.],
              [1., 2., 2., 1.]]]])
    """
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


@public(method=False)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution (the gradient of ``conv1d`` with respect to its input):
    ``weight`` is (C_in, C_out / groups, k).

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.conv_transpose1d(torch.tensor([[[1., 2.]]]), torch.tensor([[[1., 1., 1.]]]))
    tensor([[[1., 3., 3., 2.]]])
    """
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


@public(method=False)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution (the gradient of ``conv2d`` with respect to its input):
    ``weight`` is (C_in, C_out / groups, kH, kW); the output size is
    ``(H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1``.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2), stride=2).shape
    torch.Size([1, 1, 4, 4])
    """
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


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
