"""``chainrule.autograd``: reverse-mode engine, grad mode, forward mode.

>>> import chainrule as torch
>>> x = torch.tensor(2.0, requires_grad=True)
>>> torch.autograd.grad(x * x, x)
(tensor(4.),)
"""
from . import forward_ad, graph
from .engine import backward, grad
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                        set_grad_enabled)
from .graph import Node

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "inference_mode", "forward_ad", "graph", "Node"]
