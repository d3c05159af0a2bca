"""``repeat_interleave``: repeat each element (or slice along ``dim``) several times, as a
composite of existing ops (its gradient, tangent and second derivative come from theirs):
an integer count is ``unsqueeze``/``expand``/``reshape``; a tensor of counts is
``index_select`` with the repeated positions.  ``repeat_interleave(repeats)`` alone gives
the repeated positions ``0..n-1`` (an int64 tensor, no gradient).
"""
import numpy as np

from .._tensor import Tensor, _dim
from .index_more import _as_tensor, index_select

__all__ = ["repeat_interleave"]


def _counts(repeats):
    r = repeats._data
    if r.ndim > 1:
        raise RuntimeError(f"repeat_interleave: repeats must be 0-dim or 1-dim tensor, got a "
                           f"{r.ndim}-dim tensor of shape {list(r.shape)}; pass one count "
                           f"per slice as a 1-D integer tensor")
    if r.dtype.kind not in "iu":
        name = {"f": "Float", "d": "Double", "e": "Half", "?": "Bool"}.get(r.dtype.char, r.dtype)
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for "
                                  f"'{name}'; repeats must be an integer tensor, "
                                  f"e.g. repeats.long()")
    if (r < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative (found "
                           f"{int(r.min())})")
    return r.astype(np.int64)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element of ``input`` ``repeats`` times along ``dim`` (the flattened
    input when ``dim`` is None).  ``repeats`` is an int or a tensor of counts, one per
    slice (or a single count).  With only a tensor of counts, returns the positions
    ``0..n-1`` each repeated its count times.

    >>> import chainrule as torch
    >>> x = torch.tensor([[1., 2.], [3., 4.]])
    >>> torch.repeat_interleave(x, 2)
    tensor([1., 1., 2., 2., 3., 3., 4., 4.])
    >>> x.repeat_interleave(torch.tensor([1, 2]), dim=0)
    tensor([[1., 2.],
            [3., 4.],
            [3., 4.]])
    >>> torch.repeat_interleave(torch.tensor([2, 0, 1]))
    tensor([0, 0, 2])
    """
    if repeats is None:                      # repeat_interleave(repeats): positions
        counts = _as_tensor(input)
        if counts._data.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat (got a "
                               f"{counts._data.ndim}-D tensor)")
        c = _counts(counts)
        from .._creation import tensor
        return tensor(np.repeat(np.arange(c.shape[0]), c))
    x = _as_tensor(input)
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer, Tensor)):
        raise TypeError(f"repeat_interleave() received an invalid combination of arguments: "
                        f"'repeats' must be an int or an integer Tensor, not "
                        f"{type(repeats).__name__}")
    if dim is None:
        x = x.reshape(-1)
        d = 0
    else:
        d = _dim(dim, x._data.ndim, "repeat_interleave")
        if x._data.ndim == 0:
            x = x.reshape(1)
    n = x._data.shape[d]
    if isinstance(repeats, Tensor):
        c = _counts(repeats)
        if c.ndim == 0 or c.shape[0] == 1:
            repeats = int(c.reshape(()))
        elif c.shape[0] != n:
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                               f"along dim, but got repeats.size(0) = {c.shape[0]} and "
                               f"input.size({d}) = {n}")
        else:
            from .._creation import tensor
            return index_select(x, d, tensor(np.repeat(np.arange(n), c)))
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError(f"repeat_interleave: Repeats must be non-negative (got {repeats})")
    shape = x._data.shape
    wide = x.unsqueeze(d + 1).expand(*shape[:d + 1], repeats, *shape[d + 1:])
    return wide.reshape(*shape[:d], n * repeats, *shape[d + 1:])
