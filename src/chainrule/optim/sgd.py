"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from .._grad_mode import announced
from .._tensor import Tensor, bump_version, wrap
from .optimizer import Closure, Optimizer, Params, hyper

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, with PyTorch's update for every parameter ``p``::

        g = -grad if maximize else grad
        g = g + weight_decay * p                                 (if weight_decay)
        b = g  (first step)  or  b = momentum * b + (1 - dampening) * g   (if momentum)
        g = g + momentum * b  if nesterov  else  b                        (if momentum)
        p = p - lr * g

    >>> import chainrule as torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params: Params, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    @announced
    def step(self, closure: Closure | None = None) -> Tensor | float | None:
        """Update every parameter that has a gradient; returns ``closure()``'s loss if
        a closure is given."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, momentum = hyper(group["lr"]), hyper(group["momentum"])
            dampening, wd = hyper(group["dampening"]), hyper(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                if group["maximize"]:
                    g = -g
                if wd != 0:
                    g = g + wd * p._data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = wrap(g.copy())
                        state["momentum_buffer"] = buf
                    else:
                        b = buf._data
                        b *= momentum
                        b += (1 - dampening) * g
                    g = g + momentum * buf._data if group["nesterov"] else buf._data
                p._data -= lr * g
                bump_version(p)
        return loss
