"""Losses recorded as one node each, as PyTorch records them (the printed
``grad_fn=<NllLossBackward0>`` / ``<MseLossBackward0>`` of a loss), instead of the
several ops of their formulas.

Negative log-likelihood of class indices (``NllLossBackward0``): ``nll_loss`` and
``cross_entropy`` of (C,) or (N, C) inputs.

The loss is linear in its input: with ``nw[n] = -weight[t[n]]`` (0 for an ignored
target) it is ``sum_n nw[n] * x[n, t[n]]`` (divided by the total weight ``W`` of the
kept targets for ``reduction='mean'``, or kept per sample for ``'none'``).  So the VJP
puts ``g * nw[n]`` (``/ W``) at ``[n, t[n]]`` and zeros elsewhere, and the JVP is the
loss of the tangent.  Parameters: ``idx`` the targets shaped for ``take_along_axis``
along the class dim ``cd`` (ignored ones replaced by 0), ``nw``, ``keep`` (None when no
target is ignored), ``W`` and ``reduction``.
"""
import math

import numpy as np

from .._backend import as_array, zeros_as
from ._core import NF, defop
from .index import _along


def _nll_fwd(x, idx, nw, keep, W, reduction, cd):
    v = np.take_along_axis(x, idx, cd) * nw
    if keep is not None:
        v = np.where(keep, v, 0)            # an ignored target adds nothing, even -inf * 0
    if reduction == "none":
        return np.squeeze(v, cd)
    s = v.sum()
    return s if reduction == "sum" else s / W


def _nll_vjp(F, g, out, x, idx, nw, keep, W, reduction, cd):
    if reduction == "none":
        g = F.expand_dims(g, cd)
    elif reduction == "mean":
        g = g / W
    v = g * nw
    if F is NF:
        if keep is not None:
            v = np.where(keep, v, 0)        # +0 where ignored (g * 0 is -0 for g < 0)
        z = zeros_as(x, x.shape, nw.dtype)
        if z.__class__ is np.ndarray:
            np.put_along_axis(z, idx, v, cd)    # one target per sample: no sums needed
        else:                                   # (the same write, as an index: on a device)
            z[_along(idx, cd)] = v
        return z
    return F.scatter_add_zeros(v, idx, cd, x.shape)


def _nll_jvp(F, tangents, out, x, idx, nw, keep, W, reduction, cd):
    v = F.gather(tangents[0], cd, idx) * nw
    if reduction == "none":
        return F.squeeze(v, cd)
    s = F.sum(v)
    return s if reduction == "sum" else s / W


# the input is saved (its shape is all the rules read), as PyTorch saves it: changing it in
# place afterwards, or a second backward, raises as there
NLL_LOSS = defop("nll_loss", _nll_fwd, vjps=(_nll_vjp,), jvp=_nll_jvp,
                 backward_name="NllLossBackward0")


# --- mean squared error -----------------------------------------------------------------
# (input - target) ** 2 reduced; both inputs are saved, as PyTorch saves them.  The VJP of
# the input is PyTorch's mse_loss_backward, norm * (input - target) * g with norm 2 (or
# 2 / numel for 'mean'); the target's is its negative

def _mse_fwd(x, y, reduction):
    d = x - y
    v = d * d
    if reduction == "none":
        return v
    s = v.sum()
    return s if reduction == "sum" else s / v.size


def _mse_vjp_x(F, g, out, x, y, reduction):
    norm = 2.0 / math.prod(x.shape) if reduction == "mean" else 2.0
    return (x - y) * norm * g


def _mse_vjp_y(F, g, out, x, y, reduction):
    norm = 2.0 / math.prod(x.shape) if reduction == "mean" else 2.0
    return (y - x) * norm * g


def _mse_jvp(F, tangents, out, x, y, reduction):
    # PyTorch's sum of the two partials, 2 (x - y) tx - 2 (x - y) ty (nan, not inf, where
    # x - y is infinite and both tangents are non-zero)
    tx, ty = tangents
    d2 = (x - y) * 2.0
    v = d2 * tx if ty is None else (-(d2 * ty) if tx is None else d2 * tx - d2 * ty)
    if reduction == "none":
        return v
    s = F.sum(v)
    return s if reduction == "sum" else s / math.prod(x.shape)


MSE_LOSS = defop("mse_loss", _mse_fwd, vjps=(_mse_vjp_x, _mse_vjp_y), jvp=_mse_jvp,
                 backward_name="MseLossBackward0")


# --- binary cross entropy -----------------------------------------------------------------
# -(t * log(x) + (1 - t) * log(1 - x)) per element, each logarithm clamped at -100, times
# the (constant) weight and reduced, as one node (BinaryCrossEntropyBackward0, as PyTorch).
# The input's VJP is PyTorch's g * (x - t) / max(x * (1 - x), 1e-12): finite for a
# saturated probability (x == 1.0 from sigmoid(20.) in float32), where the chain rule
# through the clamped logarithms gives 0 * inf = nan.  The target's is
# g * (log(1 - x) - log(x)), unclamped as in PyTorch (-inf at x == 1).

_BCE_EPS = 1e-12


def _bce_fwd(x, t, weight, reduction):
    with np.errstate(divide="ignore"):
        v = -(t * np.maximum(np.log(x), -100.0) + (1 - t) * np.maximum(np.log1p(-x), -100.0))
    if weight is not None:
        v = v * weight
    if reduction != "none":
        v = v.sum() if reduction == "sum" else v.mean() if v.size else v.sum() / 0.0
    return as_array(v).astype(x.dtype, copy=False)


def _bce_dx(F, x, t):
    d = x * (1 - x)
    return (x - t) / F.where(d < _BCE_EPS, _BCE_EPS, d)


def _bce_dt(F, x):
    return F.log1p(-x) - F.log(x)


def _bce_scale(g, x, weight, reduction):
    """The cotangent per element: g (spread over the elements for 'mean'), times weight."""
    if reduction == "mean":
        g = g / max(math.prod(x.shape), 1) if math.prod(x.shape) else g * float("nan")
    return g if weight is None else g * weight


def _bce_reduce(F, v, x, reduction):
    if reduction == "none":
        return v
    s = F.sum(v, None, False)
    return s if reduction == "sum" else s / math.prod(x.shape)


def _bce_jvp(F, tangents, out, x, t, weight, reduction):
    # PyTorch adds the target's term even when the target has no tangent (0 * its partial):
    # nan at a saturated probability (0 * -inf), as there
    tx, tt = tangents
    v = (0 * x if tt is None else tt) * _bce_dt(F, x)
    if tx is not None:
        v = tx * _bce_dx(F, x, t) + v
    if weight is not None:
        v = v * weight
    return _bce_reduce(F, v, x, reduction)


BINARY_CROSS_ENTROPY = defop(
    "binary_cross_entropy", _bce_fwd,
    vjps=(lambda F, g, out, x, t, weight, reduction:
          _bce_scale(g, x, weight, reduction) * _bce_dx(F, x, t),
          lambda F, g, out, x, t, weight, reduction:
          _bce_scale(g, x, weight, reduction) * _bce_dt(F, x)),
    jvp=_bce_jvp, backward_name="BinaryCrossEntropyBackward0")
