"""``DataParallel``: on chainrule's one device it wraps the module, as PyTorch's does on a
machine without GPUs (``forward`` delegates; parameters and state_dict keys sit under
``module.``)."""
from collections.abc import Sequence
from typing import Any

from .module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Wraps ``module``; ``forward`` calls it unchanged (there is one device, so nothing is
    split or gathered).  ``device_ids``, ``output_device`` and ``dim`` are accepted and,
    as in PyTorch without GPUs, unused: ``device_ids`` is ``[]``.

    >>> import chainrule as torch
    >>> from chainrule import nn
    >>> net = nn.DataParallel(nn.Linear(3, 2), device_ids=[torch.device("cpu")])
    >>> list(net.state_dict()), net(torch.ones(4, 3)).shape
    (['module.weight', 'module.bias'], torch.Size([4, 2]))
    """

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None,
                 output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim
        self.src_device_obj = None

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)
