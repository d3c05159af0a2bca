"""More shape ops, written as composites of existing ops (so their gradients, forward-mode
tangents and second derivatives come from those ops' rules): ``select``, ``movedim`` /
``moveaxis``, ``unflatten``, ``tensor_split``, ``hsplit`` / ``vsplit`` / ``dsplit`` and
``frac``.

Node names: ``select`` gives ``SelectBackward0``, ``movedim`` ``PermuteBackward0``,
``unflatten`` ``ViewBackward0`` and the pieces of the splits ``SliceBackward0``, as in
PyTorch.  ``frac`` is ``x - trunc(x)`` and shows ``SubBackward0`` (PyTorch:
``FracBackward0``); its gradient is the same (one).
"""
import numpy as np

from .._tensor import Tensor, _dim
from ._core import apply
from ._numpy_names import numpy_names
from .elementwise import sub, trunc
from .index import SELECT, SLICE
from .index_more import _as_tensor
from .shape import _sizes, infer_sizes, permute, reshape

__all__ = ["select", "movedim", "moveaxis", "unflatten", "tensor_split", "hsplit", "vsplit",
           "dsplit", "frac"]


def _int(v, opname, what):
    if isinstance(v, Tensor):
        if v._data.ndim != 0 or v._data.dtype.kind not in "iu":
            raise TypeError(f"{opname}(): argument '{what}' must be an int or a 0-d integer "
                            f"tensor, got a tensor of shape {list(v._data.shape)} and dtype "
                            f"{v.dtype}")
        return int(v._data)
    if isinstance(v, (bool, float)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{opname}(): argument '{what}' must be int, not {type(v).__name__}")
    return int(v)


# --- select ----------------------------------------------------------------------------------

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
    return apply(SELECT, (x,), {"idx": idx, "shape": s})


# --- movedim ---------------------------------------------------------------------------------

def _dim_list(v, nd, opname, what):
    vals = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    out = tuple(_dim(_int(d, opname, what), nd, opname) for d in vals)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{opname}: repeated dim in `{what}` ({list(vals)}); each dim may "
                           f"appear once")
    return out, list(vals)


def movedim(input, source, destination):
    """Move the dimension(s) ``source`` to position(s) ``destination``; the other dimensions
    keep their order (a view, ``PermuteBackward0``).

    >>> import chainrule as torch
    >>> torch.zeros(2, 3, 4).movedim(0, -1).shape
    torch.Size([3, 4, 2])
    >>> torch.movedim(torch.zeros(2, 3, 4), (0, 1), (2, 0)).shape
    torch.Size([3, 4, 2])
    """
    x = _as_tensor(input)
    nd = x._data.ndim
    src, src_given = _dim_list(source, nd, "movedim", "source")
    dst, dst_given = _dim_list(destination, nd, "movedim", "destination")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source "
                           f"({src_given} dims) should contain the same number of dims as "
                           f"destination ({dst_given} dims); pass one destination per source")
    if nd == 0:
        return permute(x, ())
    perm = [None] * nd
    for a, b in zip(src, dst):
        perm[b] = a
    rest = iter(d for d in range(nd) if d not in src)
    perm = tuple(p if p is not None else next(rest) for p in perm)
    return permute(x, perm)


moveaxis = movedim


# --- unflatten -------------------------------------------------------------------------------

def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into several of the given ``sizes`` (one may be ``-1``,
    inferred); the inverse of ``flatten`` (a view).

    >>> import chainrule as torch
    >>> torch.zeros(2, 12).unflatten(1, (3, -1)).shape
    torch.Size([2, 3, 4])
    """
    x = _as_tensor(input)
    dim = _int(dim, "unflatten", "dim")
    if isinstance(sizes, (int, np.integer)) or isinstance(sizes, Tensor):
        raise TypeError(f"unflatten(): argument 'sizes' must be a tuple or list of ints, got "
                        f"{type(sizes).__name__}")
    sizes = _sizes((tuple(sizes),))
    s = x._data.shape
    if not s:
        raise RuntimeError(f"unflatten: Dimension specified as {dim} but tensor has no "
                         f"dimensions; unflatten needs a tensor with at least one dimension")
    d = _dim(dim, len(s), "unflatten")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty; pass at least one size")
    n = s[d]
    if sizes.count(-1) > 1:
        raise RuntimeError(f"unflatten: only one dimension can be inferred, got sizes "
                           f"{list(sizes)}")
    resolved, problem = infer_sizes(sizes, n)
    if problem == "divide":
        raise RuntimeError(f"unflatten: sizes {list(sizes)} cannot make dimension {d} of "
                           f"size {n}; the known sizes must divide {n}")
    if problem == "product":
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({n}) in the input tensor; their product must "
                           f"be {n}")
    if problem is not None:
        raise RuntimeError(f"unflatten: invalid size {problem} in sizes {list(sizes)}; "
                           f"sizes must be non-negative or -1")
    return reshape(x, s[:d] + resolved + s[d + 1:])


# --- tensor_split / hsplit / vsplit / dsplit -------------------------------------------------

def _slice_piece(x, d, start, stop):
    return apply(SLICE, (x,), {"idx": (slice(None),) * d + (slice(start, stop),),
                               "shape": x._data.shape})


def _one_of(opname, **given):
    named = {k: v for k, v in given.items() if v is not None}
    if len(named) != 1:
        raise TypeError(f"{opname}() expects exactly one of the arguments {', '.join(given)}, "
                        f"got {sorted(named) or 'none'}; pass the sections (an int) or the "
                        f"indices (a list) once")
    return next(iter(named.values()))


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


# --- frac ------------------------------------------------------------------------------------

def frac(input):
    """The fractional part ``input - trunc(input)`` (sign of ``input``); gradient one.

    >>> import chainrule as torch
    >>> torch.frac(torch.tensor([-1.5, 2.25]))
    tensor([-0.5000,  0.2500])
    """
    x = _as_tensor(input)
    if x._data.dtype.kind not in "fc":
        raise NotImplementedError(f"frac: expected a floating point tensor, got dtype "
                                  f"{x.dtype}; convert it with .double() or .float() first")
    return sub(x, trunc(x))
