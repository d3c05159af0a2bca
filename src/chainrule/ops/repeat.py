"""Repeating elements: ``repeat`` (the primitive), ``tile``, ``repeat_interleave`` and
``meshgrid``.

``repeat_interleave`` is a composite of existing ops (its gradient, tangent and second
derivative come from theirs): an integer count is ``unsqueeze``/``expand``/``reshape``; a
tensor of counts is ``index_select`` with the repeated positions.
``repeat_interleave(repeats)`` alone gives the repeated positions ``0..n-1`` (an int64
tensor, no gradient).  ``tile`` and ``meshgrid`` are composites too.
"""
import warnings

import numpy as np

from .._backend import like_device
from .._tensor import Tensor, _dim
from ._core import NF, TF, defop, public
from ._args import _as_tensor
from .flip_roll import _dims_arg
from .index import index_select
from .._creation import tensor
from .reduce import broadcast_to
from .shape import reshape


# --- repeat / tile ------------------------------------------------------------------------

def _repeat_np(x, sizes):
    lead = len(sizes) - x.ndim
    return np.tile(np.reshape(x, (1,) * lead + x.shape), sizes)


def _repeat_vjp(F, g, out, x, sizes, src):
    # view the gradient as (r0, s0, r1, s1, ...) and sum the copies (the r axes)
    lead = len(sizes) - len(src)
    full = (1,) * lead + tuple(src)
    inter = []
    for r, s in zip(sizes, full):
        inter += [r, s]
    summed = F.sum(F.reshape(g, tuple(inter)), tuple(range(0, 2 * len(sizes), 2)))
    return F.reshape(summed, src)


REPEAT = defop("repeat", lambda x, sizes, src: _repeat_np(x, sizes),
               vjps=(_repeat_vjp,),
               jvp=lambda F, t, out, x, sizes, src: F.repeat(t[0], sizes),
               save_inputs=False)


@public(function=False)
def repeat(input, *sizes):
    """Tile the tensor: ``sizes[i]`` copies along dimension ``i`` (extra leading sizes add
    new dimensions).

    >>> import chainrule as torch
    >>> torch.tensor([1., 2.]).repeat(2, 2)
    tensor([[1., 2., 1., 2.],
            [1., 2., 1., 2.]])
    """
    x = _as_tensor(input)
    sizes = _dims_arg(sizes)
    if len(sizes) < x._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: repeat sizes "
                           f"{list(sizes)} must be >= 0")
    return REPEAT.apply((x,), {"sizes": sizes, "src": x._data.shape})


def _tile_method(self, *dims):
    # x.tile(2, 3) as well as x.tile((2, 3))
    return tile(self, dims[0] if len(dims) == 1 else dims)


@public(method=_tile_method)
def tile(input, dims):
    """Like ``repeat``, but ``dims`` shorter than the tensor's rank is padded with 1s in
    front.

    >>> import chainrule as torch
    >>> torch.tile(torch.tensor([[1., 2.]]), (2,))
    tensor([[1., 2., 1., 2.]])
    """
    x = _as_tensor(input)
    dims = _dims_arg((dims,)) if isinstance(dims, (tuple, list)) else (int(dims),)
    if len(dims) < x._data.ndim:
        dims = (1,) * (x._data.ndim - len(dims)) + dims
    return repeat(x, dims)


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


@public()
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
        return tensor(np.repeat(like_device(c, np.arange(c.shape[0])), c))
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
            return index_select(x, d, tensor(np.repeat(like_device(c, np.arange(n)), c)))
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError(f"repeat_interleave: Repeats must be non-negative (got {repeats})")
    shape = x._data.shape
    wide = x.unsqueeze(d + 1).expand(*shape[:d + 1], repeats, *shape[d + 1:])
    return wide.reshape(*shape[:d], n * repeats, *shape[d + 1:])


# --- meshgrid -----------------------------------------------------------------------------

@public(method=False)
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` output ``i`` varies along
    dimension ``i``; ``'xy'`` swaps the first two dimensions (Cartesian, as NumPy).  Omitting
    ``indexing`` warns, as PyTorch does, and uses ``'ij'``.

    >>> import chainrule as torch
    >>> xs, ys = torch.meshgrid(torch.tensor([1., 2.]), torch.tensor([3., 4., 5.]), indexing='ij')
    >>> xs.shape, ys[0]
    (torch.Size([2, 3]), tensor([3., 4., 5.]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    ts = [_as_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
        if t._data.dtype != ts[0]._data.dtype:
            raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to "
                               "have the same dtype.")
    sizes = [t._data.size for t in ts]
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0          # output dimension of each input
    shape = [0] * len(ts)
    for i, pos in enumerate(order):
        shape[pos] = sizes[i]
    out = []
    for i, t in enumerate(ts):
        s = [1] * len(ts)
        s[order[i]] = sizes[i]
        out.append(broadcast_to(reshape(t, tuple(s)), tuple(shape)))
    return tuple(out)


# --- rule namespaces ---------------------------------------------------------------------

NF.repeat = _repeat_np
TF.repeat = lambda x, sizes: REPEAT.apply((x,), {"sizes": sizes, "src": x._data.shape})
