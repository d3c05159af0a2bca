"""Normalisation: ``batch_norm``, ``layer_norm`` and ``group_norm`` of ``nn.functional``.

All three standardise the input over some dims with biased statistics and then apply an
optional per-element (layer norm) or per-channel (batch/group norm) affine map.  The
standardisation is one primitive op, ``normalize``::

    y = (x - mean(x, dims)) / sqrt(var(x, dims) + eps)          (var biased)

Its Jacobian is symmetric, ``J = rstd * (I - 1/n - y y^T / n)`` (n elements per
statistic), so the VJP and the JVP are the same formula, PyTorch's analytic one::

    dx = rstd * (g - mean(g, dims) - y * mean(g * y, dims))

The rules recompute ``rstd`` and ``y`` from the saved input (as PyTorch saves the input,
the mean and the inverse std, not the output: an in-place ``relu_`` on the output stays
legal) with ``F`` functions, so under ``create_graph`` they are differentiable again and
second order works.  The affine part is a composite (``y * weight + bias``).
"""
import math

import numpy as np

from .._tensor import Tensor, bump_version
from ._core import defop

__all__ = ["batch_norm", "layer_norm", "group_norm"]


def _normalize_np(x, dims, eps):
    mu = x.mean(axis=dims, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=dims, keepdims=True)
    return xc / np.sqrt(var + eps)


def _standardised(F, x, dims, eps):
    """``(y, rstd)`` of ``x``: the op's output and ``1 / sqrt(var + eps)``."""
    xc = x - F.mean(x, dims, True)
    rstd = 1 / F.sqrt(F.mean(xc * xc, dims, True) + eps)
    return xc * rstd, rstd


def _normalize_rule(F, g, out, x, dims, eps):
    y, rstd = _standardised(F, x, dims, eps)
    return rstd * (g - F.mean(g, dims, True) - y * F.mean(g * y, dims, True))


NORMALIZE = defop("normalize", _normalize_np, vjps=(_normalize_rule,),
                  jvp=lambda F, t, out, x, dims, eps: _normalize_rule(F, t[0], out, x, dims,
                                                                      eps),
                  backward_name="NativeNormBackward0")


def normalize(x, dims, eps):
    """``(x - mean) / sqrt(var + eps)`` over ``dims`` (a tuple of non-negative dims)."""
    return NORMALIZE.apply((x,), {"dims": tuple(dims), "eps": float(eps)})


# --- argument checks ----------------------------------------------------------------------

_LEGACY_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool"}


def _check_float(op, kernel, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x._data.dtype.kind != "f":
        name = _LEGACY_NAMES.get(x._data.dtype.name, x._data.dtype.name)
        raise NotImplementedError(
            f"{op}: \"{kernel}\" not implemented for '{name}' (the input is {x.dtype}); "
            f"convert the input to a floating dtype first, e.g. x.float()")


def _check_vec(op, what, t, n):
    if t is not None and t.numel() != n:
        raise RuntimeError(f"{what} should contain {n} elements not {t.numel()} "
                           f"({op}: one value per channel is expected; the input has {n} "
                           f"channels)")


def _channel_view(t, ndim):
    """A per-channel vector shaped to broadcast against an (N, C, *) input."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def _affine(y, weight, bias, shape):
    if weight is not None:
        y = y * (weight if shape is None else weight.reshape(shape))
    if bias is not None:
        y = y + (bias if shape is None else bias.reshape(shape))
    return y


# --- batch norm ---------------------------------------------------------------------------

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation of an ``(N, C, *)`` input per channel ``C``.

    With ``training=True`` the batch statistics are used (biased variance), and
    ``running_mean``/``running_var`` (when given) are updated in place:
    ``running = (1 - momentum) * running + momentum * batch`` with the batch's *unbiased*
    variance, as in PyTorch.  Otherwise the running statistics are used.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    >>> rm, rv = torch.zeros(2), torch.ones(2)
    >>> F.batch_norm(x, rm, rv, training=True)
    tensor([[-1.0000, -1.0000],
            [ 1.0000,  1.0000]])
    >>> rm, rv
    (tensor([0.2000, 0.4000]), tensor([1.1000, 1.7000]))
    """
    _check_float("batch_norm", "batch_norm", input)
    nd = input.ndim
    if nd < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but "
                         f"got 1) (batch_norm: the input must be (N, C, *); got a {nd}-D "
                         f"input of shape {list(input.shape)})")
    C = input.shape[1]
    _check_vec("batch_norm", "running_mean", running_mean, C)
    _check_vec("batch_norm", "running_var", running_var, C)
    _check_vec("batch_norm", "weight", weight, C)
    _check_vec("batch_norm", "bias", bias, C)
    shape = (1, C) + (1,) * (nd - 2)
    if training:
        count = input.numel() // C if C else 0
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {input.shape}")
        if count == 0:      # an empty batch: an empty result, running statistics unchanged
            return _affine(input.clone(), weight, bias, shape)
        dims = (0,) + tuple(range(2, nd))
        y = normalize(input, dims, eps)
        if running_mean is not None or running_var is not None:
            x = input._data
            mean = x.mean(axis=dims)
            var = x.var(axis=dims) * (count / (count - 1))
            m = float(momentum)
            for buf, stat in ((running_mean, mean), (running_var, var)):
                if buf is not None:
                    b = buf._data
                    b *= (1 - m)
                    b += (m * stat).astype(b.dtype, copy=False)
                    bump_version(buf)
        return _affine(y, weight, bias, shape)
    if running_mean is None or running_var is None:
        which = "running_mean" if running_mean is None else "running_var"
        raise RuntimeError(f"{which} must be defined in evaluation mode (batch_norm with "
                           f"training=False normalises with the running statistics; pass "
                           f"them, or use training=True for batch statistics)")
    y = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
    return _affine(y, weight, bias, shape)


# --- layer norm ---------------------------------------------------------------------------

def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing dims given by ``normalized_shape``, then
    ``* weight + bias`` elementwise (both of shape ``normalized_shape``).

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.layer_norm(torch.tensor([[1.0, 3.0], [0.0, 10.0]]), (2,))
    tensor([[-1.0000,  1.0000],
            [-1.0000,  1.0000]])
    """
    _check_float("layer_norm", "LayerNormKernelImpl", input)
    ns = (int(normalized_shape),) if isinstance(normalized_shape, int) \
        else tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != ns:
        want = ", ".join(["*"] + [str(s) for s in ns])
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[{want}], but got input of size{list(input.shape)} (layer_norm "
                           f"normalises the trailing dims; pass the input's last dims)")
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, "
                               f"but got {what} of shape {list(t.shape)} and "
                               f"normalized_shape = {list(ns)}")
    nd = input.ndim
    y = normalize(input, tuple(range(nd - k, nd)), eps)
    return _affine(y, weight, bias, None)


# --- group norm ---------------------------------------------------------------------------

def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels of an (N, C, *) input into ``num_groups`` groups and
    normalise each group of each sample, then ``* weight + bias`` per channel.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.group_norm(torch.tensor([[1.0, 3.0, 5.0, 5.0]]), 2)
    tensor([[-1.0000,  1.0000,  0.0000,  0.0000]])
    """
    _check_float("group_norm", "GroupNormKernelImpl", input)
    nd = input.ndim
    if nd < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{nd} (group_norm takes an (N, C, *) input)")
    N, C = input.shape[0], input.shape[1]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.shape[0] != C):
            raise RuntimeError(f"Expected {what} to be a vector of size equal to the number "
                               f"of channels in input, but got {what} of shape "
                               f"{list(t.shape)} and input of shape {list(input.shape)}")
    if input.numel() == 0:          # nothing to normalise (and no empty-mean warnings)
        return _affine(input.clone(), weight, bias, (1, C) + (1,) * (nd - 2))
    per_group = C // num_groups * math.prod(input.shape[2:])
    grouped = input.reshape(N, num_groups, per_group)
    y = normalize(grouped, (2,), eps).reshape(tuple(input.shape))
    return _affine(y, weight, bias, (1, C) + (1,) * (nd - 2))

