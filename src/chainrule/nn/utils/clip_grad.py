"""Gradient clipping with PyTorch's formulas: scale all gradients together so that their
total norm is at most ``max_norm`` (``clip_grad_norm_``), or clamp each element
(``clip_grad_value_``).  Gradients are changed in place."""
import math
from collections.abc import Iterable

import numpy as np

from ..._backend import as_array
from ..._tensor import Tensor, bump_version, wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters, op):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    out = []
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}(): parameters must be Tensors (or an iterable of them), "
                            f"found {type(p).__name__}; pass model.parameters()")
        if p.grad is not None:
            out.append(p.grad)
    return out


def _norm(a, p):
    a = np.abs(a)
    if p == math.inf:
        return a.max(initial=0)
    if p == -math.inf:
        return a.min() if a.size else np.inf
    if p == 0:
        return (a != 0).sum().astype(a.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return np.sqrt((a * a).sum())
    return (a ** p).sum() ** (1.0 / p)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale the gradients of ``parameters`` in place by
    ``min(1, max_norm / (total_norm + 1e-6))``, where ``total_norm`` is the
    ``norm_type``-norm of all gradients together (``inf`` for the max-abs norm).
    Returns the total norm (before clipping) as a tensor.

    >>> import chainrule as torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> (w * 3).sum().backward()                  # grad (3, 3)
    >>> torch.nn.utils.clip_grad_norm_(w, 1.5, norm_type=float("inf"))
    tensor(3.)
    >>> w.grad
    tensor([1.5000, 1.5000])
    """
    grads = _grads(parameters, "clip_grad_norm_")
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return wrap(np.array(0.0, np.float32))
    norms = [as_array(_norm(g._data, norm_type)) for g in grads]      # (on the grads' device)
    dt = np.result_type(*[n.dtype for n in norms])
    total = as_array(_norm(np.stack([n.astype(dt) for n in norms]), norm_type)).astype(dt)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. To disable this error and scale the "
            f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.minimum(dt.type(max_norm) / (total + dt.type(1e-6)), dt.type(1.0))
    for g in grads:
        with np.errstate(invalid="ignore"):         # inf * 0 is nan, as in PyTorch
            g._data *= coef.astype(g._data.dtype)
        bump_version(g)
    return wrap(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element of ``parameters`` into
    ``[-clip_value, clip_value]`` in place.

    >>> import chainrule as torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> (w * torch.tensor([5.0, -0.5])).sum().backward()
    >>> torch.nn.utils.clip_grad_value_([w], 1.0); w.grad
    tensor([ 1.0000, -0.5000])
    """
    clip_value = float(clip_value)
    for g in _grads(parameters, "clip_grad_value_"):
        np.clip(g._data, -clip_value, clip_value, out=g._data)
        bump_version(g)
