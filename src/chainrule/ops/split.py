"""Taking a tensor apart along one dim: ``narrow``, ``select``, ``split``, ``chunk``,
``unbind``, ``tensor_split`` and ``hsplit``/``vsplit``/``dsplit``.

The pieces are slices (views) of the input with the getitem rules under PyTorch's node
names (``SplitBackward0``, ``UnbindBackward0``, ``SelectBackward0``, ``SliceBackward0``);
``narrow``, ``select`` and the ``tensor_split`` family are composites of slicing.
"""
import math

import numpy as np

from .._tensor import Tensor, _dim
from ._args import _as_tensor, _int
from ._core import public
from .index import SELECT, SLICE, _getitem_op, getitem
from ._numpy_names import numpy_names


# --- narrow / split / chunk / unbind --------------------------------------------------------

@public()
@numpy_names
def narrow(input, dim, start, length):
    """The slice ``start:start+length`` along ``dim`` (a view; negative ``start`` counts
    from the end).

    >>> import chainrule as torch
    >>> torch.arange(5.).narrow(0, 1, 3)
    tensor([1., 2., 3.])
    """
    x = _as_tensor(input)
    nd = x._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, nd, "narrow")
    n = x._data.shape[d]
    if isinstance(start, Tensor):
        start = int(start.item())
    start, length = int(start), int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


# the pieces of split/chunk/unbind are slices (views) of the input; one rule set (the
# getitem one) under PyTorch's node names
SPLIT = _getitem_op("split", "SplitBackward0")
SPLIT_WITH_SIZES = _getitem_op("split_with_sizes", "SplitWithSizesBackward0")
UNBIND = _getitem_op("unbind", "UnbindBackward0")


def _piece(op, x, d, part):
    return op.apply((x,), {"idx": (slice(None),) * d + (part,), "shape": x._data.shape})


def _split_method(self, split_size, dim=0):
    return split(self, split_size, dim)


@public(method=_split_method)
def split(tensor, split_size_or_sections, dim=0):
    """Split into pieces along ``dim``: of ``split_size`` each (the last may be smaller), or
    of the listed sizes.  The pieces are views.

    >>> import chainrule as torch
    >>> torch.arange(5.).split(2)
    (tensor([0., 1.]), tensor([2., 3.]), tensor([4.]))
    >>> torch.arange(5.).split([1, 4])
    (tensor([0.]), tensor([1., 2., 3., 4.]))
    """
    x = _as_tensor(tensor)
    nd = x._data.ndim
    if nd == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _dim(dim, nd, "split")
    n = x._data.shape[d]
    op = SPLIT
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0:
            if n:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {n}")
            sizes = [0]
        else:
            sizes = [size] * (n // size) + ([n % size] if n % size else [])
            sizes = sizes or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        op = SPLIT_WITH_SIZES
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(_piece(op, x, d, slice(start, start + s)))
        start += s
    return tuple(out)


@public()
@numpy_names
def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size along ``dim`` (the last may be smaller;
    fewer pieces are returned when the size does not allow ``chunks``).

    >>> import chainrule as torch
    >>> torch.arange(5.).chunk(2)
    (tensor([0., 1., 2.]), tensor([3., 4.]))
    """
    x = _as_tensor(input)
    chunks = int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if x._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = _dim(dim, x._data.ndim, "chunk")
    n = x._data.shape[d]
    size = math.ceil(n / chunks) if n else 0
    return split(x, size, d)


@public()
@numpy_names
def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple of tensors (that dimension removed).

    >>> import chainrule as torch
    >>> torch.unbind(torch.tensor([[1., 2.], [3., 4.]]), 1)
    (tensor([1., 3.]), tensor([2., 4.]))
    """
    x = _as_tensor(input)
    if x._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _dim(dim, x._data.ndim, "unbind")
    return tuple(_piece(UNBIND, x, d, i) for i in range(x._data.shape[d]))


# --- select ----------------------------------------------------------------------------------

@public()
@numpy_names
def select(input, dim, index):
    """The slice at position ``index`` along ``dim``, with that dimension removed (a view;
    negative ``index`` counts from the end).  ``x.select(0, i)`` is ``x[i]``.

    >>> import chainrule as torch
    >>> torch.tensor([[1., 2., 3.], [4., 5., 6.]]).select(1, -1)
    tensor([3., 6.])
    """
    x = _as_tensor(input)
    dim = _int(dim, "select", "dim")
    index = _int(index, "select", "index")
    s = x._data.shape
    if not s:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, len(s), "select")
    if not -s[d] <= index < s[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(s)} "
                         f"at dimension {d}; use an index in [{-s[d]}, {s[d] - 1}]")
    idx = (slice(None),) * d + (index % s[d],)
    return SELECT.apply((x,), {"idx": idx, "shape": s})


# --- tensor_split / hsplit / vsplit / dsplit -------------------------------------------------

def _slice_piece(x, d, start, stop):
    return SLICE.apply((x,), {"idx": (slice(None),) * d + (slice(start, stop),),
                               "shape": x._data.shape})


def _one_of(opname, **given):
    named = {k: v for k, v in given.items() if v is not None}
    if len(named) != 1:
        raise TypeError(f"{opname}() expects exactly one of the arguments {', '.join(given)}, "
                        f"got {sorted(named) or 'none'}; pass the sections (an int) or the "
                        f"indices (a list) once")
    return next(iter(named.values()))


@public()
@numpy_names
def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """Split along ``dim`` into ``sections`` nearly equal pieces (the first ``n % sections``
    one element longer) or at the listed ``indices``.  The pieces are views.

    >>> import chainrule as torch
    >>> torch.arange(7.).tensor_split(3)
    (tensor([0., 1., 2.]), tensor([3., 4.]), tensor([5., 6.]))
    >>> torch.tensor_split(torch.arange(7.), [1, 5])
    (tensor([0.]), tensor([1., 2., 3., 4.]), tensor([5., 6.]))
    """
    ios = _one_of("tensor_split", indices_or_sections=indices_or_sections, sections=sections,
                  indices=indices, tensor_indices_or_sections=tensor_indices_or_sections)
    x = _as_tensor(input)
    nd = x._data.ndim
    if nd == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    dim = _int(dim, "tensor_split", "dim")
    d = _dim(dim, nd, "tensor_split")
    n = x._data.shape[d]
    if isinstance(ios, Tensor):
        if ios._data.dtype != np.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have "
                               f"long dtype, but got {ios.dtype}")
        if ios._data.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {ios._data.ndim} dims")
        ios = int(ios._data) if ios._data.ndim == 0 else [int(i) for i in ios._data]
    if isinstance(ios, (int, np.integer)) and not isinstance(ios, bool):
        sections = int(ios)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(n, sections)
        out, start = [], 0
        for i in range(sections):
            size = small + (1 if i < extra else 0)
            out.append(_slice_piece(x, d, start, start + size))
            start += size
        return tuple(out)
    if not isinstance(ios, (tuple, list)):
        raise TypeError(f"tensor_split(): argument 'indices_or_sections' must be an int, a "
                        f"sequence of ints or an integer tensor, not {type(ios).__name__}")
    cuts = [_int(i, "tensor_split", "indices") for i in ios]
    bounds = [0] + cuts + [None]
    return tuple(_slice_piece(x, d, a, b) for a, b in zip(bounds[:-1], bounds[1:]))


def _dir_split(opname, x, ios, d, need):
    x = _as_tensor(x)
    nd = x._data.ndim
    if nd < need:
        raise RuntimeError(f"torch.{opname} requires a tensor with at least {need} dimension"
                           f"{'s' if need > 1 else ''}, but got a tensor with {nd} dimensions!")
    if isinstance(ios, (int, np.integer)) and not isinstance(ios, bool):
        n = x._data.shape[d]
        if ios == 0 or n % ios:
            raise RuntimeError(f"torch.{opname} attempted to split along dimension {d}, but "
                               f"the size of the dimension {n} is not divisible by the "
                               f"split_size {ios}!")
    return tensor_split(x, ios, d)


def _sections_method(name):
    def method(self, *indices_or_sections, sections=None, indices=None):
        # x.hsplit(2), x.hsplit([1, 2]) and x.hsplit(1, 2) (indices as varargs)
        fn, a = globals()[name], indices_or_sections
        a = None if not a else a[0] if len(a) == 1 else list(a)
        return fn(self, a, sections=sections, indices=indices)
    method.__name__ = name
    return method


@public(method=_sections_method("hsplit"))
def hsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """``tensor_split`` along dimension 1 (dimension 0 for a 1-D tensor); an int number of
    sections must divide that dimension.

    >>> import chainrule as torch
    >>> [p.shape for p in torch.zeros(2, 4).hsplit(2)]
    [torch.Size([2, 2]), torch.Size([2, 2])]
    """
    x = _as_tensor(input)
    ios = _one_of("hsplit", indices_or_sections=indices_or_sections, sections=sections,
                  indices=indices)
    return _dir_split("hsplit", x, ios, 1 if x._data.ndim > 1 else 0, 1)


@public(method=_sections_method("vsplit"))
def vsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """``tensor_split`` along dimension 0 of a tensor with at least 2 dimensions; an int
    number of sections must divide that dimension.

    >>> import chainrule as torch
    >>> torch.vsplit(torch.arange(4.).reshape(2, 2), [1])
    (tensor([[0., 1.]]), tensor([[2., 3.]]))
    """
    ios = _one_of("vsplit", indices_or_sections=indices_or_sections, sections=sections,
                  indices=indices)
    return _dir_split("vsplit", input, ios, 0, 2)


@public(method=_sections_method("dsplit"))
def dsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """``tensor_split`` along dimension 2 of a tensor with at least 3 dimensions; an int
    number of sections must divide that dimension.

    >>> import chainrule as torch
    >>> [p.shape for p in torch.zeros(1, 2, 6).dsplit(3)]
    [torch.Size([1, 2, 2]), torch.Size([1, 2, 2]), torch.Size([1, 2, 2])]
    """
    ios = _one_of("dsplit", indices_or_sections=indices_or_sections, sections=sections,
                  indices=indices)
    return _dir_split("dsplit", input, ios, 2, 3)
