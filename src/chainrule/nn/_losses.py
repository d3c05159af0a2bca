"""Loss functions and dropout of ``chainrule.nn.functional``.

Every loss here is a composite of rule-table ops (``gather``, ``exp``, ``log``, ``sum`` ...),
so reverse mode, forward mode and higher orders come from those ops' rules; no loss needs
rules of its own.  The numerically delicate pieces use the "subtract a detached maximum"
trick: ``log(sum(exp(x)))`` is computed as ``m + log(sum(exp(x - m)))`` with ``m`` a
constant (detached) copy of the maximum.  The value is the same for any constant ``m``, so
treating it as a constant leaves every derivative exact, while no ``exp`` can overflow.
"""
import warnings

import numpy as np

from .._tensor import Tensor, wrap
from ..ops import comparison as CMP, unary as UN
from .._grad_mode import SHARED, STATE, notify
from ..ops.activation import functional_log_softmax
from ..ops.loss import BINARY_CROSS_ENTROPY, MSE_LOSS, NLL_LOSS
from .._backend import is_device_array, like_device, to_host, zeros_as
from .._creation import _uniform_on

__all__ = ["mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "dropout"]

_REDUCTIONS = ("mean", "sum", "none")


# --- helpers ------------------------------------------------------------------------------

def _reduction(size_average, reduce, reduction):
    """PyTorch's resolution of the legacy ``size_average``/``reduce`` flags."""
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction='mean'/'sum'/'none' instead.", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        if not reduce:
            return "none"
        return "mean" if size_average else "sum"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_tensor(name, what, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(x).__name__}")


def _constant(x):
    """``x`` detached: a value the derivatives treat as a constant."""
    return x.detach()


def _stable_log_softmax(x, dim):
    """``x - logsumexp(x, dim)`` from primitive ops (see the module docstring)."""
    m = _constant(x).max(dim, keepdim=True).values
    z = x - m
    return z - UN.log(UN.exp(z).sum(dim, keepdim=True))


def _log_softmax(x, dim):
    """``nn.functional.log_softmax`` (one recorded node)."""
    return functional_log_softmax(x, dim)


# --- regression losses --------------------------------------------------------------------

def _pointwise_check(name, input, target):
    _check_tensor(name, "input", input)
    _check_tensor(name, "target", target)
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape!r}) that is different to the input size "
            f"({input.shape!r}). This will likely lead to incorrect results due to "
            f"broadcasting. Please ensure they have the same size.", UserWarning, stacklevel=3)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target) ** 2``, reduced by ``reduction``.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.mse_loss(torch.tensor([1., 2.]), torch.tensor([1., 4.]))
    tensor(2.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _pointwise_check("mse_loss", input, target)
    if weight is None and isinstance(input, Tensor) and isinstance(target, Tensor):
        a, b = input._data, target._data
        if a.shape == b.shape and a.dtype == b.dtype and a.dtype.kind == "f":
            return MSE_LOSS.apply((input, target), {"reduction": reduction})
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``, reduced by ``reduction``.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.l1_loss(torch.tensor([1., 2.]), torch.tensor([0., 4.]), reduction='sum')
    tensor(3.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _pointwise_check("l1_loss", input, target)
    loss = UN.abs(input - target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# --- classification losses ----------------------------------------------------------------

def _class_target_check(name, input, target, ignore_index, values=True):
    """Validate a class-index target against ``input`` of shape (C,), (N, C) or
    (N, C, d1, ...); returns the target's int64 array.  ``values=False`` leaves the
    bounds of the class indices to the caller (each check reads the target on the host: a
    synchronisation on a GPU, so a call checks them once)."""
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {_dtype_name(target)} "
            f"({name}). Class-index targets must be integers (use target.long()); for class "
            f"probabilities pass a float target with the same shape as the input.")
    if input.ndim == 0:
        raise ValueError(f"{name}: expected the input to have at least 1 dimension (the "
                         f"classes), got a 0-d tensor")
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"{name}: an unbatched input of shape {list(input.shape)} needs a "
                             f"0-d target (one class index), got shape {list(target.shape)}")
    else:
        if target.ndim == 0 or input.shape[0] != target.shape[0]:
            tb = target.shape[0] if target.ndim else 0
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({tb}).")
        if tuple(input.shape[2:]) != tuple(target.shape[1:]):
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: "
                               f"{list(target.shape)}). {name}: the target must have the "
                               f"input's shape without the class dimension 1.")
    t = target._data.astype(np.int64, copy=False)
    if values:
        _check_targets(t, input.shape[0 if input.ndim == 1 else 1], ignore_index)
    return t


def _check_targets(t, n_classes, ignore_index):
    """Raise PyTorch's IndexError for a class index outside ``[0, n_classes)`` (other than
    ``ignore_index``); returns whether no target is ignored.  Both answers are read from
    the arrays in one transfer (one synchronisation on a GPU)."""
    if t.size:
        # the common case in two reductions: all targets are classes, none is ignored
        lo, hi = _host_values(t.min(), t.max())
        if 0 <= lo and hi < n_classes and not lo <= ignore_index <= hi:
            return True
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= n_classes))
    any_bad, all_kept = _host_values(bad.any(), keep.all())
    if any_bad:
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    return all_kept


def _host_values(*values):
    """0-d results as Python numbers, copied from a device in one transfer."""
    if is_device_array(values[0]):
        return to_host(np.stack(values)).tolist()
    return [v.item() for v in values]


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class indices: ``-weight[t] * input[n, t]`` where
    ``input`` holds log-probabilities of shape (C,), (N, C) or (N, C, d1, ...).  With
    ``reduction='mean'`` the sum is divided by the total weight of the non-ignored targets.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> logp = torch.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> F.nll_loss(logp, torch.tensor([0, 1]))
    tensor(0.3000)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _check_tensor("nll_loss", "input", input)
    _check_tensor("nll_loss", "target", target)
    # (the single node's parameters check the class indices: _nll_params)
    t = _class_target_check("nll_loss", input, target, ignore_index,
                            values=input._data.ndim > 2)
    _nll_weight_check(input, weight)
    if input._data.ndim <= 2:
        return _nll_op(input, t, weight, ignore_index, reduction)
    # spatial input (N, C, d1, ...): a composite of gather and reductions
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    picked = input.gather(1, wrap(np.expand_dims(safe, 1))).squeeze(1)
    if weight is not None:
        w = weight[wrap(safe)] * wrap(keep.astype(weight._data.dtype))
    else:
        w = wrap(keep.astype(input._data.dtype))
    loss = -(picked * w)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w.sum()


def _nll_weight_check(input, weight):
    """PyTorch's errors for nll_loss's weight: another dtype than the input's, one that
    requires grad (nll_loss is not differentiable with respect to it), or not one value
    per class."""
    if weight is None:
        return
    d = input._data
    if weight._data.dtype != d.dtype:
        names = {"float64": "Double", "float32": "Float", "float16": "Half"}
        raise RuntimeError(f"nll_loss: expected scalar type "
                           f"{names.get(d.dtype.name, d.dtype.name)} but found "
                           f"{names.get(weight._data.dtype.name, weight._data.dtype.name)} "
                           f"for the weight; give the weight the input's dtype, e.g. "
                           f"weight.to(input.dtype)")
    if weight.requires_grad and STATE.enabled:
        raise RuntimeError("The function 'nll_loss_forward' is not differentiable with "
                           "respect to argument 'weight'. This input cannot have "
                           "requires_grad True; pass weight.detach()")
    n = d.shape[0 if d.ndim == 1 else 1]            # the number of classes
    if weight.ndim != 1 or weight.shape[0] != n:
        raise RuntimeError(f"nll_loss: weight tensor should be defined either for all "
                           f"{n} classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")


def _nll_op(input, t, weight, ignore_index, reduction):
    """nll_loss of a (C,) or (N, C) input as the single NLL_LOSS node (ops/loss.py), as
    PyTorch records NllLossBackward0; ``t`` is the checked int64 target array."""
    d = input._data
    wd = None if weight is None else weight._data
    params = _nll_params(t, wd, d.dtype, d.ndim - 1, d.shape[-1], ignore_index, reduction)
    if SHARED.observed:     # (chainrule.compile computes them again from the target)
        notify("derived", params, _nll_params,
               (t, wd, d.dtype, d.ndim - 1, d.shape[-1], ignore_index, reduction))
    return NLL_LOSS.apply((input,), params)


def _nll_params(t, wd, dtype, cd, n_classes, ignore_index, reduction):
    """NLL_LOSS's parameters for the checked int64 target array ``t`` (the weight array
    ``wd`` or None, the input's dtype, class dim and number of classes)."""
    all_kept = _check_targets(t, n_classes, ignore_index)
    keep = None if all_kept else t != ignore_index
    safe = t if all_kept else np.where(keep, t, 0)
    idx = safe.reshape(1) if cd == 0 else safe.reshape(-1, 1)
    if wd is not None:
        # (the weight has the input's dtype: checked)
        w = wd[safe] if all_kept else wd[safe] * keep
        W = float(w.sum())
        nw = -w.reshape(idx.shape)
    elif all_kept:
        W = float(t.size)                   # the sum of as many ones, exactly
        nw = np.full_like(idx, -1, dtype=dtype)
    else:
        w = keep.astype(dtype)
        W = float(w.sum())
        nw = -w.reshape(idx.shape)
    if not all_kept:
        nw[~keep.reshape(idx.shape)] = 0    # +0, not -0, for an ignored target
    return {"idx": idx, "nw": nw, "keep": None if all_kept else keep.reshape(idx.shape),
            "W": W, "reduction": reduction, "cd": cd}


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross entropy between ``input`` logits (shape (C,), (N, C) or (N, C, d1, ...)) and
    either class indices (integer target without the class dimension) or class
    probabilities (float target with the input's shape).  It is ``nll_loss`` of
    ``log_softmax(input, 1)``, computed stably.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    >>> F.cross_entropy(logits, torch.tensor([0, 2]))
    tensor(0.1672)
    >>> F.cross_entropy(logits, torch.tensor([[1., 0., 0.], [0., 0., 1.]]))
    tensor(0.1672)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _check_tensor("cross_entropy", "input", input)
    _check_tensor("cross_entropy", "target", target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. "
                           f"Got: {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: expected the input to have at least 1 dimension "
                         "(the classes), got a 0-d tensor")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    wshape = [1] * input.ndim
    wshape[class_dim] = n_classes
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{n_classes} classes or no classes but got weight tensor of "
                           f"shape: {list(weight.shape)}")
    if input.shape == target.shape:
        # class probabilities
        if target._data.dtype.kind != "f":
            raise RuntimeError(f"Expected floating point type for target with class "
                               f"probabilities, got {_dtype_name(target)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        logp = _log_softmax(input, class_dim)
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape(wshape)
        if reduction == "none":
            return -prod.sum(class_dim)
        if reduction == "sum":
            return -prod.sum()
        return -prod.sum() / (input.numel() // n_classes)
    # class indices
    # (nll_loss checks the class indices)
    t = _class_target_check("cross_entropy", input, target, ignore_index, values=False)
    logp = _log_softmax(input, class_dim)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return nll
    keep = wrap((t != ignore_index).astype(input._data.dtype))
    if weight is not None:
        smooth = -(logp * weight.reshape(wshape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth * keep
    if reduction == "mean":
        if weight is not None:
            safe = np.where(t != ignore_index, t, 0)
            smooth = smooth.sum() / (weight[wrap(safe)] * keep).sum()
        else:
            smooth = smooth.sum() / keep.sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n_classes)


def _dtype_name(t):
    return str(t.dtype).replace("torch.", "").capitalize().replace("Int64", "Long")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy of probabilities ``input`` in [0, 1] and targets in [0, 1]:
    ``-(t * log(x) + (1 - t) * log(1 - x))`` with the logarithms clamped at -100.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.binary_cross_entropy(torch.tensor([0.8, 0.4]), torch.tensor([1., 0.]))
    tensor(0.3670)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _check_tensor("binary_cross_entropy", "input", input)
    _check_tensor("binary_cross_entropy", "target", target)
    if input.shape != target.shape:
        raise ValueError(f"Using a target size ({target.shape!r}) that is different to the "
                         f"input size ({input.shape!r}) is deprecated. Please ensure they "
                         f"have the same size.")
    x = input._data
    if ((x < 0) | (x > 1)).any() or np.isnan(x).any():
        raise RuntimeError("all elements of input should be between 0 and 1 "
                           "(binary_cross_entropy takes probabilities; for logits use "
                           "binary_cross_entropy_with_logits)")
    w = None
    if weight is not None:
        if isinstance(weight, Tensor) and weight.requires_grad and STATE.enabled:
            raise RuntimeError("binary_cross_entropy: the function 'binary_cross_entropy' is "
                               "not differentiable with respect to argument 'weight'. This "
                               "input cannot have requires_grad True; pass weight.detach().")
        w = np.broadcast_to(weight._data if isinstance(weight, Tensor) else
                            like_device(input._data, np.asarray(weight)),
                            input.shape).astype(input._data.dtype)
    return BINARY_CROSS_ENTROPY.apply((input, target), {"weight": w, "reduction": reduction})


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits:
    ``(1 - t) * x + (1 + (pos_weight - 1) * t) * log(1 + exp(-x))`` with the softplus
    evaluated as ``m + log(exp(-m) + exp(-x - m))``, ``m = max(-x, 0)`` (detached).

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.binary_cross_entropy_with_logits(torch.tensor([100., -100.]), torch.tensor([1., 0.]))
    tensor(0.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _check_tensor("binary_cross_entropy_with_logits", "input", input)
    _check_tensor("binary_cross_entropy_with_logits", "target", target)
    if input.shape != target.shape:
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size "
                         f"({input.shape!r})")
    m = _constant(CMP.clamp(-input, min=0.0))
    softplus_neg = m + UN.log(UN.exp(-m) + UN.exp(-input - m))        # log(1 + exp(-x))
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# --- dropout ------------------------------------------------------------------------------

def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (only when ``training``; otherwise ``input`` is returned unchanged).  Uses chainrule's
    random generator (``chainrule.manual_seed``).

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> x = torch.ones(2, 3)
    >>> F.dropout(x, p=0.5, training=False) is x
    True
    >>> _ = torch.manual_seed(0); y = F.dropout(x, p=0.5)
    >>> sorted(set(y.flatten().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """
    if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check_tensor("dropout", "input", input)
    if not training or p == 0:
        return input
    dt = input._data.dtype if input._data.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1:
        mask = zeros_as(input._data, input._data.shape, dt)
    else:
        keep = _uniform_on(input._data, input._data.shape) >= p    # (on input's device)
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
    if inplace:
        return input.mul_(wrap(mask))
    return input * wrap(mask)
