"""Negative log-likelihood of class indices as one op (PyTorch's ``NllLossBackward0``):
``nll_loss`` and ``cross_entropy`` of (C,) or (N, C) inputs record this single node
instead of a gather, a product, a sum and a division.

The loss is linear in its input: with ``nw[n] = -weight[t[n]]`` (0 for an ignored
target) it is ``sum_n nw[n] * x[n, t[n]]`` (divided by the total weight ``W`` of the
kept targets for ``reduction='mean'``, or kept per sample for ``'none'``).  So the VJP
puts ``g * nw[n]`` (``/ W``) at ``[n, t[n]]`` and zeros elsewhere, and the JVP is the
loss of the tangent.  Parameters: ``idx`` the targets shaped for ``take_along_axis``
along the class dim ``cd`` (ignored ones replaced by 0), ``nw``, ``keep`` (None when no
target is ignored), ``W`` and ``reduction``.
"""
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
