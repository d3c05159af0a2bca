"""Adam and AdamW (decoupled weight decay), with PyTorch's update formulas."""
import numpy as np

from .._grad_mode import announced
from .._tensor import Tensor, bump_version, wrap
from .optimizer import Closure, Optimizer, Params, hyper

__all__ = ["Adam", "AdamW"]


def _lerp_(start, end, weight):
    """In-place ``start += weight * (end - start)`` evaluated the way PyTorch's lerp is."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


class Adam(Optimizer):
    r"""Adam.  For each parameter ``p`` with gradient ``g`` at step ``t``::

        g = g + weight_decay * p            (Adam; AdamW instead does p *= 1 - lr * wd)
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    >>> import chainrule as torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = torch.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    _decoupled = False

    def __init__(self, params: Params, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i in range(2):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    @announced
    def step(self, closure: Closure | None = None) -> Tensor | float | None:
        """One Adam update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, eps, wd = hyper(group["lr"]), hyper(group["eps"]), hyper(group["weight_decay"])
            beta1, beta2 = (hyper(b) for b in group["betas"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = p.grad._data
                if group["maximize"]:
                    g = -g
                state = self.state[p]
                if not state:
                    state["step"] = wrap(np.zeros((), np.float32))
                    state["exp_avg"] = wrap(np.zeros_like(x))
                    state["exp_avg_sq"] = wrap(np.zeros_like(x))
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = wrap(np.zeros_like(x))
                step_t = state["step"]
                step_t._data += 1
                bump_version(step_t)
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * wd
                    else:
                        g = g + wd * x
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                _lerp_(m, g, 1 - beta1)
                v *= beta2
                v += (1 - beta2) * (g * g)
                step = float(step_t._data)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bc2_sqrt = bias_correction2 ** 0.5
                if group["amsgrad"]:
                    vmax = state["max_exp_avg_sq"]._data
                    np.maximum(vmax, v, out=vmax)
                    denom = np.sqrt(vmax) / bc2_sqrt + eps
                else:
                    denom = np.sqrt(v) / bc2_sqrt + eps
                x += (-step_size) * m / denom
                bump_version(p)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the Adam
    step); ``weight_decay`` defaults to 0.01.

    >>> import chainrule as torch
    >>> w = torch.tensor([1.0], requires_grad=True)
    >>> opt = torch.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 0).sum().backward(); opt.step(); w      # zero gradient: only the decay acts
    tensor([0.9500], requires_grad=True)
    """

    _decoupled = True

    def __init__(self, params: Params, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
