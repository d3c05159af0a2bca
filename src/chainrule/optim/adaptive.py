"""RMSprop, Adagrad and Adadelta with PyTorch's update formulas (its single-tensor path)."""
import numpy as np

from .._grad_mode import announced
from .._tensor import Tensor, bump_version, wrap
from .adam import _lerp_
from .optimizer import Closure, Optimizer, Params, hyper

__all__ = ["RMSprop", "Adagrad", "Adadelta"]


def _grad(group, p):
    g = p.grad._data
    return -g if group["maximize"] else g


def _step_count():
    return wrap(np.zeros((), np.float32))


class RMSprop(Optimizer):
    r"""RMSprop.  For each parameter ``p`` with gradient ``g``::

        g = g + weight_decay * p                                   (if weight_decay)
        v = alpha * v + (1 - alpha) * g * g
        m = m + (1 - alpha) * (g - m);  avg = sqrt(v - m * m) + eps    (if centered)
        avg = sqrt(v) + eps                                          (otherwise)
        b = momentum * b + g / avg;  p = p - lr * b                  (if momentum > 0)
        p = p - lr * g / avg                                         (otherwise)

    >>> import chainrule as torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = torch.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: Params, lr: float | Tensor = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    @announced
    def step(self, closure: Closure | None = None) -> Tensor | float | None:
        """One RMSprop update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = hyper(group["lr"]), hyper(group["alpha"]), hyper(group["eps"])
            wd, momentum = hyper(group["weight_decay"]), hyper(group["momentum"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = _grad(group, p)
                state = self.state[p]
                if not state:
                    state["step"] = _step_count()
                    state["square_avg"] = wrap(np.zeros_like(x))
                    if momentum > 0:
                        state["momentum_buffer"] = wrap(np.zeros_like(x))
                    if group["centered"]:
                        state["grad_avg"] = wrap(np.zeros_like(x))
                state["step"]._data += 1
                bump_version(state["step"])
                if wd != 0:
                    g = g + wd * x
                v = state["square_avg"]._data
                v *= alpha
                v += (1 - alpha) * g * g
                if group["centered"]:
                    m = state["grad_avg"]._data
                    _lerp_(m, g, 1 - alpha)
                    avg = np.sqrt(v - m * m)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum > 0:
                    b = state["momentum_buffer"]._data
                    b *= momentum
                    b += g / avg
                    x -= lr * b
                else:
                    x += (-lr) * g / avg
                bump_version(p)
        return loss


class Adagrad(Optimizer):
    r"""Adagrad.  For each parameter ``p`` with gradient ``g`` at step ``t``::

        g = g + weight_decay * p                          (if weight_decay)
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                                     (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    The state (``step``, ``sum``) is made for every parameter when the optimiser is built,
    as in PyTorch.

    >>> import chainrule as torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = torch.optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 0.5000, -1.5000], requires_grad=True)
    """

    def __init__(self, params: Params, lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_count()
                init = group["initial_accumulator_value"]
                state["sum"] = wrap(np.full_like(p._data, hyper(init)))

    @announced
    def step(self, closure: Closure | None = None) -> Tensor | float | None:
        """One Adagrad update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lr_decay = hyper(group["lr"]), hyper(group["lr_decay"])
            wd, eps = hyper(group["weight_decay"]), hyper(group["eps"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = _grad(group, p)
                state = self.state[p]
                if not state:          # a parameter of a group added after construction
                    state["step"] = _step_count()
                    state["sum"] = wrap(np.full_like(x, hyper(group["initial_accumulator_value"])))
                step_t = state["step"]
                step_t._data += 1
                bump_version(step_t)
                step = float(step_t._data)
                if wd != 0:
                    g = g + wd * x
                clr = lr / (1 + (step - 1) * lr_decay)
                s = state["sum"]._data
                s += g * g
                std = np.sqrt(s)
                std += eps
                x += (-clr) * g / std
                bump_version(p)
        return loss


class Adadelta(Optimizer):
    r"""Adadelta.  For each parameter ``p`` with gradient ``g``::

        g = g + weight_decay * p                          (if weight_decay)
        v = rho * v + (1 - rho) * g * g
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d

    >>> import chainrule as torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = torch.optim.Adadelta([w])
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 0.9968, -1.9968], requires_grad=True)
    """

    def __init__(self, params: Params, lr: float | Tensor = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, capturable=capturable, foreach=foreach,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    @announced
    def step(self, closure: Closure | None = None) -> Tensor | float | None:
        """One Adadelta update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, rho = hyper(group["lr"]), hyper(group["rho"])
            eps, wd = hyper(group["eps"]), hyper(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = _grad(group, p)
                state = self.state[p]
                if not state:
                    state["step"] = _step_count()
                    state["square_avg"] = wrap(np.zeros_like(x))
                    state["acc_delta"] = wrap(np.zeros_like(x))
                state["step"]._data += 1
                bump_version(state["step"])
                if wd != 0:
                    g = g + wd * x
                v, u = state["square_avg"]._data, state["acc_delta"]._data
                v *= rho
                v += (1 - rho) * g * g
                std = np.sqrt(v + eps)
                delta = np.sqrt(u + eps)
                delta /= std
                delta *= g
                u *= rho
                u += (1 - rho) * delta * delta
                x += (-lr) * delta
                bump_version(p)
        return loss
