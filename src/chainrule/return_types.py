"""Named-tuple result types of ops that return ``(values, indices)``, as in PyTorch's
``torch.return_types``: ``isinstance(torch.max(x, 0), torch.return_types.max)``.

>>> import chainrule as torch
>>> r = torch.sort(torch.tensor([2.0, 1.0]))
>>> isinstance(r, torch.return_types.sort), r._fields
(True, ('values', 'indices'))
"""
from .ops.reduce import MaxMin as max, _MinResult as min  # noqa: A004
from .ops.sorting import SortResult as sort, TopkResult as topk
from .ops.stats import MedianResult as median

__all__ = ["max", "median", "min", "sort", "topk"]
