"""Convolution: ``conv1d``/``conv2d``, ``conv_transpose1d``/``conv_transpose2d``,
``unfold``/``fold``.

Two primitives carry all the rules: ``im2col`` (the sliding blocks of a zero-padded input
as columns, ``(N, C, *S) -> (N, C*K, L)``, built from a strided window view) and its
transpose ``col2im`` (each column added back at its block's position, a loop over the K
kernel offsets).  Both are linear, so each one's VJP is the other and its JVP is itself.

A convolution is a composite: ``weight (O, C*K) @ im2col(x)`` (one BLAS matmul per
sample and group) plus the bias; a transposed convolution is ``col2im(weight^T @ x)``
plus the bias (its last step one op, ``conv_transpose_out``, so that its node is
``ConvolutionBackward0`` as in PyTorch).
Their gradients come from the matmul and im2col/col2im rules: the input's gradient is a
transposed convolution, the weight's a correlation of the input with the gradient, and
every derivative is differentiable again (second order, forward mode).

Blocks are described by ``ksize``, ``dilation``, ``stride``, ``pads`` (``(lo, hi)`` per
spatial dimension, so torch's asymmetric ``padding='same'`` fits), the unpadded spatial
``size`` and the block ``grid`` (blocks per dimension; a fold may be asked for fewer
blocks than fit, as ``conv_transpose`` with ``output_padding`` does).
"""
import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._backend import ascontiguous, zeros_as
from .._tensor import Tensor
from ._core import NF, TF, defop, public
from .matmul import addmm

# --- the primitives -----------------------------------------------------------------------


def _padded(x, pads, first=2, value=0):
    """``x`` with ``pads[i] = (lo, hi)`` added around axis ``first + i``."""
    if not any(lo or hi for lo, hi in pads):
        return x
    nd = len(pads)
    sp = x.shape[first:first + nd]
    shape = (x.shape[:first] + tuple(n + lo + hi for n, (lo, hi) in zip(sp, pads))
             + x.shape[first + nd:])
    out = np.full_like(x, value, shape=shape)
    out[(slice(None),) * first + tuple(slice(lo, lo + n) for n, (lo, _) in zip(sp, pads))] = x
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


def _im2col_np(x, ksize, dilation, pads, stride, size, grid, rows=False):
    nd = len(ksize)
    n, c = x.shape[:2]
    if rows:
        # (N*L, K*C): a row per block, channels innermost (copied from a channels-last
        # input, so the copy reads contiguous runs of C); the whole batch is one matrix
        xl = ascontiguous(np.moveaxis(x, 1, -1))
        win = block_windows(_padded(xl, pads, first=1), ksize, dilation, stride, grid,
                            first=1)           # (N, *grid, C, *ksize)
        perm = tuple(range(nd + 1)) + tuple(range(nd + 2, 2 * nd + 2)) + (nd + 1,)
        return win.transpose(perm).reshape(n * math.prod(grid), math.prod(ksize) * c)
    win = block_windows(_padded(x, pads), ksize, dilation, stride, grid)
    kdims = tuple(range(2 + nd, 2 + 2 * nd))
    gdims = tuple(range(2, 2 + nd))
    return win.transpose((0, 1) + kdims + gdims).reshape(
        n, c * math.prod(ksize), math.prod(grid))


def _col2im_np(cols, ksize, dilation, pads, stride, size, grid, rows=False):
    nd = len(ksize)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, pads))
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, pads))
    if rows:            # (N*L, K*C)
        c = cols.shape[1] // math.prod(ksize)
        n = cols.shape[0] // math.prod(grid)
        blocks = cols.reshape((n,) + tuple(grid) + tuple(ksize) + (c,))
        if c >= 16:     # add runs of C into a channels-last image, then -> (N, C, *size)
            out = zeros_as(cols, (n,) + padded + (c,))
            for off in itertools.product(*(range(k) for k in ksize)):
                where = tuple(slice(o * d, o * d + (g - 1) * s + 1, s)
                              for o, d, g, s in zip(off, dilation, grid, stride))
                out[(slice(None),) + where] += blocks[(slice(None),) * (nd + 1) + off]
            return ascontiguous(np.moveaxis(out[(slice(None),) + crop], -1, 1))
        # few channels: runs of C would be short; reorder once, add rows of the grid
        blocks = ascontiguous(blocks.transpose(
            (0, 2 * nd + 1) + tuple(range(nd + 1, 2 * nd + 1)) + tuple(range(1, nd + 1))))
    else:
        n = cols.shape[0]
        c = cols.shape[1] // math.prod(ksize)
        blocks = cols.reshape((n, c) + tuple(ksize) + tuple(grid))
    out = zeros_as(cols, (n, c) + padded)
    for off in itertools.product(*(range(k) for k in ksize)):
        where = tuple(slice(o * d, o * d + (g - 1) * s + 1, s)
                      for o, d, g, s in zip(off, dilation, grid, stride))
        out[(Ellipsis,) + where] += blocks[(slice(None), slice(None)) + off]
    return out[(Ellipsis,) + crop]


IM2COL = defop("im2col", _im2col_np,
               vjps=(lambda F, g, out, x, **p: F.col2im(g, **p),),
               jvp=lambda F, t, out, x, **p: F.im2col(t[0], **p),
               save_inputs=False, backward_name="Im2ColBackward0")
COL2IM = defop("col2im", _col2im_np,
               vjps=(lambda F, g, out, x, **p: F.im2col(g, **p),),
               jvp=lambda F, t, out, x, **p: F.col2im(t[0], **p),
               save_inputs=False, backward_name="Col2ImBackward0")


def _conv_transpose_out_np(cols, *bias, ksize, dilation, pads, stride, size, grid):
    out = _col2im_np(cols, ksize, dilation, pads, stride, size, grid, rows=True)
    if bias:
        out += bias[0].reshape((-1,) + (1,) * len(ksize))
    return out


def _conv_transpose_out_vjp(F, g, out, cols, *bias, **blocks):
    grads = [F.im2col(g, rows=True, **blocks)]
    if bias:
        grads.append(F.sum(g, (0,) + tuple(range(2, g.ndim))))
    return grads


def _conv_transpose_out_jvp(F, t, out, cols, *bias, **blocks):
    r = None if t[0] is None else F.col2im(t[0], rows=True, **blocks)
    if bias and t[1] is not None:
        tb = F.reshape(t[1], (-1,) + (1,) * len(blocks["ksize"]))
        r = tb if r is None else r + tb
    return r


# a transposed convolution's last step: the columns (N*L, K*C) summed into the output
# image (col2im) plus the bias -- one node, ConvolutionBackward0 as in torch
CONV_TRANSPOSE_OUT = defop("conv_transpose_out", _conv_transpose_out_np,
                           vjps=_conv_transpose_out_vjp, jvp=_conv_transpose_out_jvp,
                           save_inputs=False, backward_name="ConvolutionBackward0")


def _rows_to_nchw_np(r, n, grid):
    return ascontiguous(
        r.reshape((n,) + tuple(grid) + (r.shape[1],)).transpose(
            (0, len(grid) + 1) + tuple(range(1, len(grid) + 1))))


def _nchw_to_rows_np(x, n, grid):
    nd = x.ndim - 2
    return ascontiguous(x.transpose((0,) + tuple(range(2, nd + 2)) + (1,))).reshape(
        -1, x.shape[1])


# the GEMMs work on rows (N*L, C); these move between rows and (N, C, *grid), always into
# contiguous arrays (a broadcast gradient such as sum()'s would make NumPy's matmul leave
# BLAS for its slow generic loop)
ROWS_TO_NCHW = defop("rows_to_nchw", _rows_to_nchw_np,
                     vjps=(lambda F, g, out, x, **p: F.nchw_to_rows(g, **p),),
                     jvp=lambda F, t, out, x, **p: F.rows_to_nchw(t[0], **p),
                     save_inputs=False, backward_name="ConvolutionBackward0")
NCHW_TO_ROWS = defop("nchw_to_rows", _nchw_to_rows_np,
                     vjps=(lambda F, g, out, x, **p: F.rows_to_nchw(g, **p),),
                     jvp=lambda F, t, out, x, **p: F.nchw_to_rows(t[0], **p),
                     save_inputs=False, backward_name="ConvolutionBackward0")


def rows_to_nchw(r, n, grid):
    return ROWS_TO_NCHW.apply((r,), {"n": n, "grid": tuple(grid)})


def nchw_to_rows(x, n, grid):
    return NCHW_TO_ROWS.apply((x,), {"n": n, "grid": tuple(grid)})


def im2col(x, **blocks):
    return IM2COL.apply((x,), blocks)


def col2im(cols, **blocks):
    return COL2IM.apply((cols,), blocks)


NF.rows_to_nchw = _rows_to_nchw_np
NF.nchw_to_rows = _nchw_to_rows_np
TF.rows_to_nchw = rows_to_nchw
TF.nchw_to_rows = nchw_to_rows
NF.im2col = _im2col_np
NF.col2im = _col2im_np
TF.im2col = im2col
TF.col2im = col2im


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
    # a row per block (N*L, C*K): one GEMM per group for the whole batch, in the
    # orientations OpenBLAS runs fast for the forward and both gradients (NumPy's matmul
    # batched over samples, or (O, N*L) @ (N*L, C*K), is several times slower)
    cols = im2col(x, ksize=ksize, dilation=dilation, pads=pads, stride=stride, size=size,
                  grid=grid, rows=True)
    k = math.prod(ksize)
    kc = tuple(range(2, nd + 2)) + (1,)                  # weight as (O, *ksize, C/groups)
    if groups == 1:
        w2t = weight.permute((0,) + kc).reshape(o, k * cg).t()
        out = cols.mm(w2t) if bias is None else addmm(bias, cols, w2t)
    else:
        og = o // groups
        wg = weight.reshape((groups, og) + weight.shape[1:]).permute(
            (0, 1) + tuple(i + 1 for i in kc)).reshape(groups, og, k * cg)
        cg_rows = cols.reshape(-1, k, groups, cg).permute(2, 0, 1, 3).reshape(
            groups, -1, k * cg)
        out = cg_rows.matmul(wg.transpose(1, 2)).transpose(0, 1).reshape(-1, o)
        if bias is not None:
            out = out + bias
    # the last node is the layout move, so grad_fn is ConvolutionBackward0 as in torch
    out = rows_to_nchw(out, n, grid)
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
    k = math.prod(ksize)
    xs = nchw_to_rows(x, n, grid)                   # (N*L, C_in)
    kc = tuple(range(2, nd + 2)) + (1,)                  # weight as (C_in, *ksize, O/groups)
    if groups == 1:
        cols = xs.mm(weight.permute((0,) + kc).reshape(cin, k * og))
    else:
        cg = cin // groups
        wg = weight.reshape((groups, cg) + weight.shape[1:]).permute(
            (0, 1) + tuple(i + 1 for i in kc)).reshape(groups, cg, k * og)
        cols = xs.reshape(-1, groups, cg).transpose(0, 1).matmul(wg)    # (G, N*L, K*O/G)
        cols = cols.reshape(groups, -1, k, og).permute(1, 2, 0, 3).reshape(-1, k * o)
    out = CONV_TRANSPOSE_OUT.apply(
        (cols,) if bias is None else (cols, bias),
        {"ksize": ksize, "dilation": dilation, "pads": tuple((p, p) for p in pad),
         "stride": stride, "size": size, "grid": grid})
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
