"""``chainrule.autograd``: reverse-mode engine, grad mode, forward mode.

>>> import chainrule as torch
>>> x = torch.tensor(2.0, requires_grad=True)
>>> torch.autograd.grad(x * x, x)
(tensor(4.),)
"""
from typing import TYPE_CHECKING

from . import forward_ad, graph
from .engine import backward, grad
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                        set_grad_enabled)
from .graph import Node
from . import anomaly
from .anomaly import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                      set_detect_anomaly)

# Function, functional and gradcheck need Tensor, which imports this package first: they
# are loaded on first access (PEP 562).  A type checker reads them from their modules.
if TYPE_CHECKING:
    from . import function, functional
    from .function import Function, FunctionCtx, InplaceFunction, once_differentiable
    from .gradcheck import GradcheckError, gradcheck, gradgradcheck
_LAZY = {"Function": "function", "FunctionCtx": "function", "InplaceFunction": "function",
         "once_differentiable": "function", "gradcheck": "gradcheck",
         "gradgradcheck": "gradcheck", "GradcheckError": "gradcheck"}


def __getattr__(name):
    import importlib
    if name in ("function", "functional"):
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY:
        mod = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        for n, m in _LAZY.items():          # bind them all (the gradcheck function
            if m == _LAZY[name]:            # replaces the gradcheck submodule here)
                globals()[n] = getattr(mod, n)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "inference_mode", "forward_ad", "graph", "Node",
           "Function", "FunctionCtx", "once_differentiable", "functional", "gradcheck",
           "gradgradcheck", "GradcheckError", "detect_anomaly", "set_detect_anomaly"]
