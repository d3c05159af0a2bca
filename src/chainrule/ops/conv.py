"""Convolution: ``conv1d``/``conv2d``, ``conv_transpose1d``/``conv_transpose2d``.

``conv1d``/``conv2d`` record one op, ``convolution``, and the transposed ones one op,
``convolution_transpose`` (node ``ConvolutionBackward0`` for both, as in PyTorch): each
saves its input and weight, so changing either in place before backward raises, as in
PyTorch, and the weight gradient is computed from the saved input rather than from kept
columns.  Their forwards and rules share three formulas written with ``F``
(``_conv``, ``_conv_t``, ``_weight_grad``): the input gradient of a convolution is a
transposed convolution and vice versa, both weight gradients correlate the columns of one
image with im2col of the other.  Under ``create_graph`` and forward mode the formulas
run on Tensors, as compositions of the sliding-block primitives (``ops/blocks.py``:
``im2col``/``col2im``, ``cols_to_image``/``image_to_cols``) and matmul, so every
derivative is differentiable again (second order, forward mode).
"""
import math

import numpy as np

from .._backend import ascontiguous
from .._tensor import Tensor
from ._core import NF, TF, defop, public
from .blocks import _batched, _grid, _shape, ntuple
from .copies import contiguous

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
