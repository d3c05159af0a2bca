"""``chainrule.backends``: PyTorch's backend queries (``backends.mps``, ``backends.cuda``).

>>> import chainrule as torch
>>> torch.backends.mps.is_available(), torch.backends.cuda.is_built()
(False, False)
"""
from . import cuda, mps

__all__ = ["cuda", "mps"]
