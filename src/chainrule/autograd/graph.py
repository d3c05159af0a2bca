"""``chainrule.autograd.graph``, as PyTorch's module of that name: the graph node classes.
They live in ``chainrule/_graph.py``, below Tensor, which records them.

>>> import chainrule as torch
>>> from chainrule.autograd.graph import Node
>>> isinstance((torch.ones(1, requires_grad=True) * 2).grad_fn, Node)
True
"""
from .._graph import AccumulateGrad, Node, RemovableHandle

__all__ = ["Node", "AccumulateGrad", "RemovableHandle"]

for _obj in (globals()[_n] for _n in __all__):
    _obj.__module__ = __name__      # (they print as PyTorch's do: this module's names)
