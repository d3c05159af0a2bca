"""``chainrule.autograd.grad_mode``, as PyTorch's module of that name: the grad-mode
context managers and the observer hooks.  They live in ``chainrule/_grad_mode.py``, below
Tensor, since every layer reads the per-thread state.

>>> from chainrule.autograd.grad_mode import no_grad
>>> import chainrule as torch
>>> with no_grad():
...     (torch.ones(1, requires_grad=True) * 2).requires_grad
False
"""
from .._grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad, observe,
                          set_grad_enabled, unobserve)

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "observe", "unobserve"]

for _obj in (globals()[_n] for _n in __all__):
    _obj.__module__ = __name__      # (they print as PyTorch's do: this module's names)
