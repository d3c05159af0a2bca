"""Normalisation: ``batch_norm``, ``layer_norm`` and ``group_norm`` of ``nn.functional``.

Each is one op, as in PyTorch (``native_batch_norm``, ``native_layer_norm``,
``native_group_norm``; nodes ``NativeBatchNormBackward0`` ...): the input is standardised
over some dims with biased statistics and then mapped by the optional per-element (layer
norm) or per-channel (batch/group norm) ``weight`` and ``bias``::

    xhat = (x - mean(x, dims)) / sqrt(var(x, dims) + eps)          (var biased)
    y = xhat * weight + bias

(batch norm in evaluation mode uses the running mean and variance instead).  The
standardisation's Jacobian is symmetric, ``J = rstd * (I - 1/n - xhat xhat^T / n)`` (n
elements per statistic), so its VJP and JVP are the same formula, PyTorch's analytic one::

    dx = rstd * (gw - mean(gw, dims) - xhat * mean(gw * xhat, dims)),   gw = g * weight

and ``dweight = sum(g * xhat)``, ``dbias = sum(g)`` over the dims that weight broadcasts
along.  The rules recompute ``rstd`` and ``xhat`` from the saved input (PyTorch saves the
input, the mean and the inverse std, not the output: an in-place ``relu_`` on the output
stays legal) with ``F`` functions, so under ``create_graph`` they are differentiable again
and second order works.  Group norm standardises an ``(N, G, -1)`` view of the input.

The three ops are variadic: ``(input, [weight], [bias])`` with ``has_w``/``has_b`` saying
which are there; ``wshape`` is the shape weight and bias broadcast as against the input,
``pshape`` their own shape.
"""
import numpy as np

from .._tensor import Tensor, bump_version
from ._core import defop

__all__ = ["batch_norm", "layer_norm", "group_norm"]


def _view(F, x, group):
    """The input as the op standardises it: (N, G, -1) for group norm, else itself."""
    return x if group is None else F.reshape(x, group + (-1,))


def _unview(F, y, x, group):
    return y if group is None else F.reshape(y, tuple(x.shape))


def _standardised(F, x, dims, eps, group, stats):
    """``(xhat, rstd)`` (in the standardised view): the standardised input and
    ``1 / sqrt(var + eps)``; from the batch's statistics, or the given running ones."""
    if stats is not None:
        mean, rstd = F.const(stats[0]), F.const(stats[1])
        return (x - mean) * rstd, rstd
    xv = _view(F, x, group)
    xc = xv - F.mean(xv, dims, True)
    rstd = 1 / F.sqrt(F.mean(xc * xc, dims, True) + eps)
    return xc * rstd, rstd


def _d_standardise(F, t, x, xhat, rstd, dims, group, stats):
    """The standardisation's (symmetric) Jacobian applied to ``t``."""
    if stats is not None:
        return t * rstd
    tv = _view(F, t, group)
    return _unview(F, rstd * (tv - F.mean(tv, dims, True) - xhat * F.mean(tv * xhat, dims,
                                                                          True)), x, group)


def _norm_forward(x, *wb, dims, eps, group, stats, wshape, pshape, has_w, has_b):
    if stats is not None:
        y = (x - stats[0]) * stats[1]
    else:
        xv = x if group is None else x.reshape(group + (-1,))
        xc = xv - xv.mean(axis=dims, keepdims=True)
        var = np.mean(xc * xc, axis=dims, keepdims=True)
        y = (xc / np.sqrt(var + eps)).reshape(x.shape)
    if has_w:
        y = y * wb[0].reshape(wshape)
    if has_b:
        y = y + wb[-1].reshape(wshape)
    return y


def _norm_vjp(F, g, out, x, *wb, dims, eps, group, stats, wshape, pshape, has_w, has_b):
    xhat, rstd = _standardised(F, x, dims, eps, group, stats)
    gw = g * F.reshape(wb[0], wshape) if has_w else g
    grads = [_d_standardise(F, gw, x, xhat, rstd, dims, group, stats)]
    if has_w:
        grads.append(F.reshape(F.sum_to(g * _unview(F, xhat, x, group), wshape), pshape))
    if has_b:
        grads.append(F.reshape(F.sum_to(g, wshape), pshape))
    return grads


def _norm_jvp(F, t, out, x, *wb, dims, eps, group, stats, wshape, pshape, has_w, has_b):
    xhat, rstd = _standardised(F, x, dims, eps, group, stats)
    r = None
    if t[0] is not None:
        r = _d_standardise(F, t[0], x, xhat, rstd, dims, group, stats)
        if has_w:
            r = r * F.reshape(wb[0], wshape)
    if has_w and t[1] is not None:
        d = _unview(F, xhat, x, group) * F.reshape(t[1], wshape)
        r = d if r is None else r + d
    if has_b and t[-1] is not None:
        d = F.reshape(t[-1], wshape)
        r = d if r is None else r + d
    return r


class _ReadsInputAndWeight:
    """Every input's rule reads the input and the weight (the first two inputs), never
    the bias: a bias changed in place after the forward is no error, as in PyTorch's
    batch and group norm (its layer norm saves the bias too)."""
    __slots__ = ()

    def __getitem__(self, i):
        return (0, 1)


def _norm_op(name, backward_name, reads):
    return defop(name, _norm_forward, vjps=_norm_vjp, jvp=_norm_jvp, reads=reads,
                 backward_name=backward_name)


BATCH_NORM = _norm_op("native_batch_norm", "NativeBatchNormBackward0", _ReadsInputAndWeight())
LAYER_NORM = _norm_op("native_layer_norm", "NativeLayerNormBackward0", None)
GROUP_NORM = _norm_op("native_group_norm", "NativeGroupNormBackward0", _ReadsInputAndWeight())


def _normalise(op, input, weight, bias, wshape, dims, eps, group=None, stats=None):
    """``op`` on ``input`` with the weight and bias that are given."""
    args = (input,) + tuple(t for t in (weight, bias) if t is not None)
    pshape = tuple((weight if weight is not None else bias).shape) \
        if weight is not None or bias is not None else ()
    return op.apply(args, {"dims": tuple(dims), "eps": float(eps), "group": group,
                            "stats": stats, "wshape": tuple(wshape), "pshape": pshape,
                            "has_w": weight is not None, "has_b": bias is not None})


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
        y = _normalise(BATCH_NORM, input, weight, bias, shape, dims, eps)
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
        return y
    if running_mean is None or running_var is None:
        which = "running_mean" if running_mean is None else "running_var"
        raise RuntimeError(f"{which} must be defined in evaluation mode (batch_norm with "
                           f"training=False normalises with the running statistics; pass "
                           f"them, or use training=True for batch statistics)")
    dt = input._data.dtype
    mean = running_mean._data.reshape(shape).astype(dt)
    rstd = (1 / np.sqrt(running_var._data.reshape(shape) + eps)).astype(dt)
    return _normalise(BATCH_NORM, input, weight, bias, shape, (), eps, stats=(mean, rstd))


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
    return _normalise(LAYER_NORM, input, weight, bias, ns, range(nd - k, nd), eps)


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
    return _normalise(GROUP_NORM, input, weight, bias, (1, C) + (1,) * (nd - 2), (2,), eps,
                      group=(N, num_groups))
