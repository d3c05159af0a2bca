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

from ._core import NF, defop


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
        z = np.zeros(x.shape, dtype=nw.dtype)
        np.put_along_axis(z, idx, v, cd)    # one target per sample: no sums needed
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
    tx, ty = tangents
    dt = tx if ty is None else (-ty if tx is None else tx - ty)
    v = (x - y) * dt * 2.0
    if reduction == "none":
        return v
    s = F.sum(v)
    return s if reduction == "sum" else s / math.prod(x.shape)


MSE_LOSS = defop("mse_loss", _mse_fwd, vjps=(_mse_vjp_x, _mse_vjp_y), jvp=_mse_jvp,
                 backward_name="MseLossBackward0")
