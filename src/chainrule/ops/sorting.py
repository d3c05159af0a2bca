"""Sorting: ``sort``, ``argsort`` and ``topk``.

The order is found on the raw data (a stable sort, so tied elements keep their input
order as PyTorch's ``stable=True`` does; NaN sorts as the largest value).  The values are
then a gather along ``dim`` -- linear in the input -- so the VJP scatters the gradient back
to the selected positions (``scatter_add_zeros``) and the JVP gathers the tangent.  The
indices are int64 and carry no gradient.
"""
import collections

import numpy as np

from .._backend import copy_array, index_on, zeros_as
from .._tensor import Tensor, _dim, wrap
from ._core import defop, public
from ._args import _floating, _tensorize
from .reduce import _return_types_repr
from ._numpy_names import numpy_names


def _take_fwd(x, idx, dim):
    return copy_array(x) if x.ndim == 0 else np.take_along_axis(x, idx, axis=dim)


def _take_vjp(F, g, out, x, idx, dim):
    if len(idx.shape) == 0:
        return g
    return F.scatter_add_zeros(g, idx, dim, x.shape)


def _take_jvp(F, t, out, x, idx, dim):
    return t[0] if len(idx.shape) == 0 else F.gather(t[0], dim, idx)


# one rule set; the node name says which op selected the elements
# the VJP reads only the input's shape: like PyTorch (which saves the indices), a later
# in-place change of the input is fine
SORT = defop("sort", _take_fwd, vjps=(_take_vjp,), jvp=_take_jvp, reads=((),))
TOPK = defop("topk", _take_fwd, vjps=(_take_vjp,), jvp=_take_jvp, reads=((),))

SortResult = collections.namedtuple("sort", ["values", "indices"])
TopkResult = collections.namedtuple("topk", ["values", "indices"])
SortResult.__repr__ = _return_types_repr
TopkResult.__repr__ = _return_types_repr


def _order(a, dim, descending):
    """Stable sorting permutation of ``a`` along ``dim`` (NaN counts as largest)."""
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    # descending and stable: sort the reversed array ascending, then reverse the result;
    # equal elements come out in their original order and NaN comes first, as in PyTorch
    n = a.shape[dim]
    rev = np.flip(a, axis=dim)
    idx = np.flip(np.argsort(rev, axis=dim, kind="stable"), axis=dim)
    return (n - 1) - idx


def _tensor_arg(name, input):
    x = _tensorize(input)
    return x if isinstance(x, Tensor) else _floating(x)


@public()
@numpy_names
def sort(input, dim=-1, descending=False, stable=False):
    """Sorted values along ``dim`` and the indices that sort, as a named tuple
    ``(values, indices)``.  Ties keep their input order (the sort is always stable).  The
    gradient of ``values`` flows back to the positions the values came from.

    >>> import chainrule as torch
    >>> torch.sort(torch.tensor([3.0, 1.0, 2.0]), descending=True)
    torch.return_types.sort(
    values=tensor([3., 2., 1.]),
    indices=tensor([0, 2, 1]))
    """
    x = _tensor_arg("sort", input)
    d = _dim(int(dim), x._data.ndim, "sort")
    if x._data.ndim == 0:
        idx = zeros_as(x._data, (), np.int64)
    else:
        idx = _order(x._data, d, bool(descending)).astype(np.int64, copy=False)
    values = SORT.apply((x,), {"idx": idx, "dim": d})
    # the node keeps idx: the caller gets its own copy, so changing the returned indices in
    # place cannot move the gradient
    return SortResult(values, wrap(idx.copy()))


@public()
@numpy_names
def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim`` (int64; ties keep their input order).

    >>> import chainrule as torch
    >>> torch.argsort(torch.tensor([3.0, 1.0, 2.0]))
    tensor([1, 2, 0])
    """
    return sort(input, dim, descending, stable).indices


@public()
def msort(input):
    """``input`` sorted along dim 0.

    >>> import chainrule as torch
    >>> torch.msort(torch.tensor([[2.0, 1.0], [0.0, 3.0]]))
    tensor([[0., 1.],
            [2., 3.]])
    """
    return sort(input, 0).values


@public()
@numpy_names
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim`` as a named tuple
    ``(values, indices)``, largest first.  Among ties the earlier element wins.  The
    results are always sorted (PyTorch leaves the order unspecified for ``sorted=False``).

    >>> import chainrule as torch
    >>> torch.topk(torch.tensor([1.0, 5.0, 3.0, 4.0]), 2)
    torch.return_types.topk(
    values=tensor([5., 4.]),
    indices=tensor([1, 3]))
    """
    x = _tensor_arg("topk", input)
    d = _dim(int(dim), x._data.ndim, "topk")
    size = x._data.shape[d] if x._data.ndim else 1
    k = int(k)
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: selected index k out of range (k={k}, but dim {dim} has "
                           f"size {size}). Choose 0 <= k <= {size}.")
    if x._data.ndim == 0:
        idx = zeros_as(x._data, (), np.int64)
    else:
        order = _order(x._data, d, bool(largest))
        idx = np.take(order, index_on(order, np.arange(k)), axis=d).astype(np.int64,
                                                                             copy=False)
    values = TOPK.apply((x,), {"idx": idx, "dim": d})
    return TopkResult(values, wrap(idx.copy()))     # (own copy, as in sort)
