"""Pooling: ``max_pool1d/2d``, ``avg_pool1d/2d``, ``adaptive_avg_pool1d/2d``,
``adaptive_max_pool1d/2d``.  The 2-D forms are one op each, named as PyTorch's
(``max_pool2d_with_indices``, ``avg_pool2d``, ``adaptive_avg_pool2d``,
``adaptive_max_pool2d``: nodes ``MaxPool2DWithIndicesBackward0`` ...); the 1-D forms run
them on ``input.unsqueeze(-2)`` and squeeze the result, as PyTorch does (node
``SqueezeBackward1``), and ``adaptive_avg_pool2d`` to 1x1 is a ``mean`` (``MeanBackward1``).

* Max pooling finds each window's first maximum in scan order (PyTorch's choice on ties)
  with NumPy on a strided window view, then reads those positions (the op ``pick``s them
  from the flattened spatial dims): the gradient goes to the chosen positions (scatter-
  added, so overlapping windows add up) and is linear in the incoming gradient, so second
  order is routing too.
* Average pooling is separable: ``A_h @ x @ A_w^T`` with one averaging matrix per spatial
  dimension (row i: 1 / count on window i's part inside the input), since PyTorch's
  divisor is a product of per-dimension counts (``count_include_pad`` counts padding but
  never the part of a ``ceil_mode`` window past the padding; ``divisor_override``
  replaces it).  Adaptive average pooling is the same with window ``i`` covering
  ``floor(i*S/o) .. ceil((i+1)*S/o)``.  Adaptive max pooling reads the
  windows with integer indices (clipped to the window's end, which never changes the
  first maximum) and gathers like max pooling.  A window holding NaN gives its last NaN,
  as PyTorch's kernels do.
"""
import math

import numpy as np

from .._backend import ascontiguous, like_device, zeros_as
from .._tensor import Tensor, wrap
from ._core import defop, public
from .blocks import _padded, block_windows, ntuple


# --- the ops --------------------------------------------------------------------------------

def _flat(F, x, lead):
    return F.reshape(x, tuple(x.shape[:lead]) + (-1,))


def _pick_np(x, idx, lead, shape, empty=None, dead=None):
    """``x`` (*lead, *S) read at the flat positions ``idx`` (*lead, *out) of its S dims;
    ``-inf`` where ``empty`` (a max-pooling window with no position inside the input)."""
    flat = idx.reshape(idx.shape[:lead] + (-1,))
    out = np.take_along_axis(x.reshape(x.shape[:lead] + (-1,)), flat, -1).reshape(idx.shape)
    if empty is not None:
        out[empty] = -np.inf
    return out


def _pick_vjp(F, g, out, x, idx, lead, shape, empty=None, dead=None):
    # ``dead``: empty windows whose index lies outside the input get no gradient
    if dead is not None:
        g = F.where(F.const(dead), 0, g)
    flat = idx.reshape(idx.shape[:lead] + (-1,))
    xs = shape
    spread = F.scatter_add_zeros(_flat(F, g, lead), flat, lead,
                                 xs[:lead] + (math.prod(xs[lead:]),))
    return F.reshape(spread, xs)


def _pick_jvp(F, t, out, x, idx, lead, shape, empty=None, dead=None):
    flat = idx.reshape(idx.shape[:lead] + (-1,))
    r = F.reshape(F.gather(_flat(F, t[0], lead), lead, flat), idx.shape)
    return r if dead is None else F.where(F.const(dead), 0, r)


def _pick_op(name, backward_name):
    # the rules need only the positions, but the input is kept (version-checked) as
    # PyTorch saves it: changing it in place before backward raises, as there
    return defop(name, _pick_np, vjps=(_pick_vjp,), jvp=_pick_jvp, backward_name=backward_name)


MAX_POOL2D = _pick_op("max_pool2d_with_indices", "MaxPool2DWithIndicesBackward0")
ADAPTIVE_MAX_POOL2D = _pick_op("adaptive_max_pool2d", "AdaptiveMaxPool2DBackward0")


def _average_np(x, mats, wins):
    """``x`` (*, H, W) averaged over the windows ``wins`` (per spatial dim: positions
    ``(o, k)``, which of them are inside the window, the divisor per window), the last
    dim first: ``A_h @ x @ A_w^T`` with the matrices ``mats``, but summing only each
    window's elements (a matmul would add ``0 * inf = nan`` from outside the window)."""
    if np.isfinite(np.add.reduce(x, axis=None)):      # all finite: the fast matmuls are right
        y = np.matmul(x, mats[-1].T)
        return np.matmul(mats[0], y) if len(mats) == 2 else y
    y = x
    for axis, (pos, inside, count) in zip((-1, -2)[:len(wins)], reversed(wins)):
        y = np.moveaxis(y, axis, -1)[..., pos]                      # (..., o, k)
        y = np.where(inside, y, y.dtype.type(-0.0)).sum(-1) / count   # (-0.0: x + -0 = x)
        y = np.moveaxis(y, -1, axis)
    return y


def _average_vjp(F, g, out, x, mats, wins):
    r = F.matmul(g, F.const(mats[-1]))
    return F.matmul(F.const(mats[0].T), r) if len(mats) == 2 else r


def _average_jvp(F, t, out, x, mats, wins):
    r = F.matmul(t[0], F.const(mats[-1].T))
    return F.matmul(F.const(mats[0]), r) if len(mats) == 2 else r


def _average_op(name, backward_name):
    # (the input is kept and version-checked, as PyTorch saves it; the rules do not read it)
    return defop(name, _average_np, vjps=(_average_vjp,), jvp=_average_jvp,
                 backward_name=backward_name)


AVG_POOL2D = _average_op("avg_pool2d", "AvgPool2DBackward0")
ADAPTIVE_AVG_POOL2D = _average_op("adaptive_avg_pool2d", "AdaptiveAvgPool2DBackward0")


def _input(input, nd, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    r = input._data.ndim
    if r not in (nd + 1, nd + 2) or 0 in input._data.shape[1 if r == nd + 2 else 0:]:
        raise RuntimeError(f"{op}: non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor "
                           f"expected for input, but got input of size "
                           f"{list(input._data.shape)}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {input.dtype}; "
                           f"convert it with input.float().")
    return (input, False) if r == nd + 2 else (input.unsqueeze(0), True)


def _window_args(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode, checks=None):
    """Kernel, stride, padding, dilation tuples and the output size, checked as PyTorch.
    ``checks``: whose checks and messages (``op`` unless given): ``max_pool1d`` with
    ``return_indices`` runs PyTorch's 2-D kernel, so it gets ``max_pool2d``'s."""
    checks = op if checks is None else checks
    k = ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else ntuple(stride, nd, "stride", op)
    p = ntuple(padding, nd, "padding", op)
    d = ntuple(dilation, nd, "dilation", op)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got "
                           f"kernel_size={list(k)}")
    if any(v <= 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got "
                           f"dilation={list(d)}")
    if checks == "max_pool1d" and p[0] > k[0] // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but "
                           f"got padding={p[0]} and kernel_size={k[0]}")
    for pi, ki, di in zip(p, k, d):
        if pi < 0 or pi > (di * (ki - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but "
                               f"got pad={pi}, kernel_size={ki} and dilation={di}")
    if checks == "max_pool2d" and any(pi > ki // 2 for pi, ki in zip(p, k)):
        # (PyTorch's max pooling then checks the kernel itself, dilation or not)
        ph, kh = (p[0], k[0]) if nd == 2 else (0, 1)
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                           f"got padW = {p[-1]}, padH = {ph}, kW = {k[-1]}, kH = {kh}")
    size = tuple(x._data.shape[2:])
    out = []
    for n, ki, si, pi, di in zip(size, k, s, p, d):
        o = (n + 2 * pi - di * (ki - 1) - 1 + (si - 1 if ceil_mode else 0)) // si + 1
        if ceil_mode and (o - 1) * si >= n + pi:
            o -= 1              # the last window must start inside the input or left padding
        out.append(o)
    if any(o < 1 for o in out):
        if checks == "max_pool1d":
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {out[0]}")
        # (a 1-D input runs as (C, 1, L) in PyTorch's kernels, and is shown so)
        c = (x._data.shape[1],) + (1,) * (nd == 1)
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, c + size))}). "
                           f"Calculated output size: ({'x'.join(map(str, c + tuple(out)))})"
                           f". Output size is too small")
    # padding at the end: PyTorch's, or more where a ceil_mode window runs past it
    pads = tuple((pi, max(pi, (o - 1) * si + di * (ki - 1) + 1 - n - pi))
                 for n, o, ki, si, pi, di in zip(size, out, k, s, p, d))
    return k, s, p, d, tuple(out), pads


def _argmax_like_torch(w):
    """Per window (last axis): the first maximum; where the window holds NaN, its last
    NaN (PyTorch's kernels take a later element when it is greater or NaN)."""
    arg = w.argmax(-1)
    nan = np.isnan(w)
    if nan.any():
        last = w.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
        arg = np.where(nan.any(-1), last, arg)
    return arg


def _pick(op, input, flat, nd, unbatched, return_indices, empty=None, dead=None,
          index=None):
    """``op`` reading ``input`` ((N, C, *S), or (C, *S) when ``unbatched``) at the flat
    spatial positions ``flat`` (N, C, *out); a 1-D input runs as (*, 1, L).  ``empty``,
    ``dead``: the masks of ``_pick_np``; ``index``: the indices returned (``flat``
    unless given)."""
    def batch(a):
        return a if a is None or not unbatched else a[0]
    idx, empty, dead = batch(flat), batch(empty), batch(dead)
    index = idx if index is None else batch(index)
    extra = {} if empty is None else {"empty": empty, "dead": dead}
    if nd == 1:
        src = input.unsqueeze(-2)
        if extra:
            extra = {k: v[..., None, :] for k, v in extra.items()}
        out = op.apply((src,), {"idx": idx[..., None, :], "lead": src.ndim - 2,
                                "shape": tuple(src.shape), **extra}).squeeze(-2)
    else:
        out = op.apply((input,), {"idx": idx, "lead": input.ndim - 2,
                                  "shape": tuple(input.shape), **extra})
    if return_indices:
        return out, wrap(ascontiguous(index, dtype=np.int64))
    return out


def _max_pool(nd, op, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    x, unbatched = _input(input, nd, op)
    k, s, p, d, out, pads = _window_args(op, nd, x, kernel_size, stride, padding, dilation,
                                         ceil_mode, "max_pool2d" if return_indices else op)
    xd = x._data
    size = xd.shape[2:]
    win = block_windows(_padded(xd, pads, value=-np.inf), k, d, s, out)
    arg = _argmax_like_torch(win.reshape(xd.shape[:2] + out + (-1,)))
    # PyTorch scans only a window's positions inside the input: where all of them are
    # -inf it keeps the first one (here argmax may have picked padding).  A window with
    # none (dilation over padding) gives -inf and, as index, its first position at or
    # after 0 (flattened), which gets the gradient when it lies inside the input
    padded = any(lo or hi for lo, hi in pads)
    if padded:
        ones = like_device(xd, np.ones((1, 1) + size, dtype=bool))
        valid = block_windows(_padded(ones, pads, value=False), k, d, s,
                              out).reshape((1, 1) + out + (-1,))
        empty = np.broadcast_to(~valid.any(-1), arg.shape)
        padding_hit = ~np.take_along_axis(
            np.broadcast_to(valid, arg.shape + valid.shape[-1:]), arg[..., None], -1)[..., 0]
        if padding_hit.any():
            arg = np.where(padding_hit, np.broadcast_to(valid.argmax(-1), arg.shape), arg)
    offs = np.unravel_index(arg, k)
    flat = zeros_as(arg, arg.shape, np.int64)
    torch_flat = 0
    for i in range(nd):
        start = like_device(xd, (np.arange(out[i]) * s[i] - p[i]).reshape(
            (-1,) + (1,) * (nd - 1 - i)))
        flat = flat * size[i] + (start + offs[i] * d[i])
        if not padded:
            continue
        first = start + (-start).clip(0) // -d[i] * -d[i]     # first position >= 0
        torch_flat = torch_flat * size[i] + first
    if not padded or not empty.any():
        return _pick(MAX_POOL2D, input, flat, nd, unbatched, return_indices)
    # one node, as in PyTorch: -inf in the empty windows, whose gradient goes to torch's
    # flat index when that lies inside the flattened input (it may, with a position past
    # the end of a row: PyTorch's kernel computes it as h * W + w), nowhere otherwise
    inside = torch_flat < math.prod(size)
    empty = np.ascontiguousarray(empty)
    return _pick(MAX_POOL2D, input, np.where(empty, np.where(inside, torch_flat, 0), flat),
                 nd, unbatched, return_indices, empty=empty, dead=empty & ~inside,
                 index=np.where(empty, torch_flat, flat))


def _avg_pool(nd, op, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, unbatched = _input(input, nd, op)
    k, s, p, d, out, pads = _window_args(op, nd, x, kernel_size, stride, padding, 1,
                                         ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    size = tuple(x._data.shape[2:])
    # PyTorch's divisor is a product of per-dimension window counts, so the pooling is
    # separable: one averaging matrix per spatial dimension (A_h @ x @ A_w^T), no copies
    mats = []
    for i in range(nd):
        start = np.arange(out[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], size[i] + p[i])
        lo, hi = np.maximum(start, 0), np.minimum(end, size[i])
        if divisor_override is not None:        # (all of it on the last dimension)
            cnt = np.full(out[i], divisor_override if i == nd - 1 else 1)
        else:
            cnt = (end - start) if count_include_pad else (hi - lo)
        mats.append(_window_matrix(size[i], lo, hi, cnt))
    return _average(AVG_POOL2D, input, mats)


def _window_matrix(n, lo, hi, cnt):
    """(o, n) matrix: row ``i`` is ``1 / cnt[i]`` on ``lo[i] .. hi[i] - 1``, 0 elsewhere."""
    j = np.arange(n)
    return ((j >= lo[:, None]) & (j < hi[:, None])) / np.asarray(cnt, dtype=np.float64)[:, None]


def _average(op, input, mats):
    """``op`` applying ``mats[i]`` (o_i, S_i) along spatial axis i of ``input``; a 1-D
    input runs as (*, 1, L).  (The matrices and windows are put on ``input``'s device.)"""
    dt = input._data.dtype
    wins = tuple(tuple(like_device(input, a) for a in _windows(m, dt)) for m in mats)
    mats = tuple(like_device(input, np.ascontiguousarray(m, dtype=dt)) for m in mats)
    if len(mats) == 1:
        return op.apply((input.unsqueeze(-2),), {"mats": mats, "wins": wins}).squeeze(-2)
    return op.apply((input,), {"mats": mats, "wins": wins})


def _windows(mat, dt):
    """An averaging matrix's windows: positions (o, k) (clipped to the last one), which
    of them are in the window, and the row's divisor (an integer: 1 / the weight)."""
    nz = mat != 0
    lo = nz.argmax(1)
    n = nz.sum(1)
    k = max(int(n.max()), 1)
    pos = np.minimum(lo[:, None] + np.arange(k), mat.shape[1] - 1)
    inside = np.arange(k) < n[:, None]
    count = np.rint(1 / mat[np.arange(mat.shape[0]), lo]).astype(dt)
    return pos, inside, count


def _adaptive_bounds(n, o):
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)          # floor(i n / o), ceil((i+1) n / o)


def _adaptive_size(op, nd, x, output_size):
    sizes = output_size if isinstance(output_size, (list, tuple)) else (output_size,) * nd
    if len(sizes) != nd:
        raise RuntimeError(f"{op}: output_size must be {nd} integers (or None), got "
                           f"{output_size}")
    return tuple(int(x._data.shape[2 + i] if v is None else v) for i, v in enumerate(sizes))


def _adaptive_input(input, nd, op):
    if not isinstance(input, Tensor) or input._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(input.shape) if isinstance(input, Tensor) else input}")
    return _input(input, nd, op)


def _adaptive_avg(nd, op, input, output_size):
    x, unbatched = _adaptive_input(input, nd, op)
    out = _adaptive_size(op, nd, x, output_size)
    if nd == 2 and out == (1, 1):          # PyTorch's special case: a mean
        return input.mean((-1, -2), keepdim=True)
    mats = []
    for i in range(nd):
        lo, hi = _adaptive_bounds(x._data.shape[2 + i], out[i])
        mats.append(_window_matrix(x._data.shape[2 + i], lo, hi, hi - lo))
    return _average(ADAPTIVE_AVG_POOL2D, input, mats)


def _adaptive_max(nd, op, input, output_size, return_indices):
    x, unbatched = _adaptive_input(input, nd, op)
    out = _adaptive_size(op, nd, x, output_size)
    xd = x._data
    size = xd.shape[2:]
    idx = []
    for n, o in zip(size, out):
        lo, hi = _adaptive_bounds(n, o)
        kmax = int((hi - lo).max())
        idx.append(like_device(xd, np.minimum(lo[:, None] + np.arange(kmax), hi[:, None] - 1)))
    if nd == 1:
        win = xd[:, :, idx[0]]                                         # (N, C, o, k)
    else:
        win = xd[:, :, idx[0][:, :, None, None], idx[1][None, None]]  # (N, C, oh, kh, ow, kw)
        win = win.transpose(0, 1, 2, 4, 3, 5)
    arg = _argmax_like_torch(win.reshape(xd.shape[:2] + out + (-1,)))
    offs = np.unravel_index(arg, tuple(i.shape[1] for i in idx))
    flat = zeros_as(arg, arg.shape, np.int64)
    for i in range(nd):
        rows = like_device(xd, np.arange(out[i]).reshape((-1,) + (1,) * (nd - 1 - i)))
        flat = flat * size[i] + idx[i][rows, offs[i]]
    return _pick(ADAPTIVE_MAX_POOL2D, input, flat, nd, unbatched, return_indices)


# --- public functions -------------------------------------------------------------------------

@public(method=False)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding windows of ``input`` (N, C, L) or (C, L); ``stride`` defaults
    to ``kernel_size``, padding counts as ``-inf``.  ``return_indices=True`` also returns
    each maximum's position in L (the first maximum in the window on ties).

    >>> import chainrule as torch
    >>> torch.nn.functional.max_pool1d(torch.tensor([[1., 3., 2., 0.]]), 2)
    tensor([[3., 2.]])
    """
    return _max_pool(1, "max_pool1d", input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


@public(method=False)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding windows of ``input`` (N, C, H, W) or (C, H, W); ``stride``
    defaults to ``kernel_size``.  The gradient goes to each window's first maximum in scan
    order, as in PyTorch; ``return_indices=True`` also returns those positions (in H*W).

    >>> import chainrule as torch
    >>> torch.nn.functional.max_pool2d(torch.arange(16.).reshape(1, 4, 4), 2)
    tensor([[[ 5.,  7.],
             [13., 15.]]])
    """
    return _max_pool(2, "max_pool2d", input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


@public(method=False)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over sliding windows of ``input`` (N, C, L) or (C, L); ``stride`` defaults to
    ``kernel_size``; zero padding is counted unless ``count_include_pad=False``.

    >>> import chainrule as torch
    >>> torch.nn.functional.avg_pool1d(torch.tensor([[1., 3., 2., 0.]]), 2)
    tensor([[2., 1.]])
    """
    return _avg_pool(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of ``input`` (N, C, H, W) or (C, H, W); ``stride``
    defaults to ``kernel_size``; ``divisor_override`` replaces the window size.

    >>> import chainrule as torch
    >>> torch.nn.functional.avg_pool2d(torch.arange(16.).reshape(1, 4, 4), 2)
    tensor([[[ 2.5000,  4.5000],
             [10.5000, 12.5000]]])
    """
    return _avg_pool(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


@public(method=False)
def adaptive_avg_pool1d(input, output_size):
    """Average pooling to ``output_size`` positions (window ``i`` covers
    ``floor(i*L/o) .. ceil((i+1)*L/o)``).

    >>> import chainrule as torch
    >>> torch.nn.functional.adaptive_avg_pool1d(torch.tensor([[1., 2., 3., 4., 5.]]), 2)
    tensor([[2., 4.]])
    """
    return _adaptive_avg(1, "adaptive_avg_pool1d", input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (an int, or a pair
    whose ``None`` keeps that dimension's size).

    >>> import chainrule as torch
    >>> torch.nn.functional.adaptive_avg_pool2d(torch.arange(16.).reshape(1, 4, 4), 1)
    tensor([[[7.5000]]])
    """
    return _adaptive_avg(2, "adaptive_avg_pool2d", input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to ``output_size`` positions (windows as ``adaptive_avg_pool1d``).

    >>> import chainrule as torch
    >>> torch.nn.functional.adaptive_max_pool1d(torch.tensor([[1., 5., 3., 4., 2.]]), 2)
    tensor([[5., 4.]])
    """
    return _adaptive_max(1, "adaptive_max_pool1d", input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size``; ``return_indices=True``
    also returns the positions (in H*W) of the maxima.

    >>> import chainrule as torch
    >>> torch.nn.functional.adaptive_max_pool2d(torch.arange(16.).reshape(1, 4, 4), 2)
    tensor([[[ 5.,  7.],
             [13., 15.]]])
    """
    return _adaptive_max(2, "adaptive_max_pool2d", input, output_size, return_indices)
