"""Shape ops: reshape/view, (un)squeeze, flatten/unflatten, transpose/permute/movedim,
cat and stack.

All are linear, so each JVP applies the op to the tangent and each VJP is the inverse
rearrangement of the gradient.  ``movedim`` and ``unflatten`` are composites (of
``permute`` and ``reshape``).
"""

import numpy as np

from .._tensor import Tensor, _dim, wrap
from ._core import NF, TF, defop, public
from ._args import _as_tensor, _int
from ._numpy_names import numpy_names
from .._dtypes import result_np_dtype, to_dtype
from .._creation import tensor as _t


# --- reshape family: one forward, PyTorch's node names ----------------------------------


def _reshape_op(name, bname):
    return defop(name, lambda x, shape, src: np.reshape(x, shape),
                 vjps=(lambda F, g, out, x, shape, src: F.reshape(g, src),),
                 jvp=lambda F, t, out, x, shape, src: F.reshape(t[0], shape),
                 save_inputs=False, is_view=True, backward_name=bname)


VIEW = _reshape_op("view", "ViewBackward0")
UNSQUEEZE = _reshape_op("unsqueeze", "UnsqueezeBackward0")
SQUEEZE = _reshape_op("squeeze", "SqueezeBackward0")            # squeeze()
SQUEEZE_DIM = _reshape_op("squeeze_dim", "SqueezeBackward1")    # squeeze(dim)
SQUEEZE_DIMS = _reshape_op("squeeze_dims", "SqueezeBackward2")  # squeeze((d0, d1))


def _sizes(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def _target_shape(opname, x, shape):
    n = x._data.size
    if shape.count(-1) > 1:
        raise RuntimeError(f"{opname}: only one dimension can be inferred (got shape "
                           f"{list(shape)})")
    resolved, problem = infer_sizes(shape, n)
    if problem == "divide":
        raise RuntimeError(f"{opname}: shape '{list(shape)}' is invalid for input of size "
                           f"{n}. The known dimensions must divide the number of elements.")
    if problem == "product":
        raise RuntimeError(f"{opname}: shape '{list(shape)}' is invalid for input of size {n}. "
                           f"The new shape must have the same number of elements.")
    if problem is not None:
        raise RuntimeError(f"{opname}: invalid shape dimension {problem}")
    return resolved


def infer_sizes(sizes, n):
    """``sizes`` (at most one -1) with the -1 resolved so that the product is ``n``.
    Returns ``(sizes, None)``, or ``(None, problem)`` for the caller to word: a negative
    size, ``"divide"`` (the known sizes don't divide ``n``) or ``"product"`` (no -1 and the
    product is not ``n``)."""
    known = 1
    for k in sizes:
        if k != -1:
            if k < 0:
                return None, k
            known *= k
    if -1 in sizes:
        if known == 0 or n % known:
            return None, "divide"
        return tuple(n // known if k == -1 else k for k in sizes), None
    return (sizes, None) if known == n else (None, "product")


@public()
def reshape(input, *shape):
    """The same elements in a new shape (a view when possible; one ``-1`` is inferred).

    >>> import chainrule as torch
    >>> torch.arange(6).reshape(2, 3)
    tensor([[0, 1, 2],
            [3, 4, 5]])
    """
    shape = _target_shape("reshape", input, _sizes(shape))
    if shape == input._data.shape:
        return VIEW.apply((input,), {"shape": shape, "src": shape})
    return VIEW.apply((input,), {"shape": shape, "src": input._data.shape})


@public(function=False)
def view(input, *shape):
    """Like ``reshape`` but always a view; raises if the memory layout does not allow it."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
        d = to_dtype(shape[0])
        return wrap(input._data.view(d.np))
    shape = _target_shape("view", input, _sizes(shape))
    probe = input._data.view()
    try:
        probe.shape = shape
    except AttributeError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return VIEW.apply((input,), {"shape": shape, "src": input._data.shape})


@public(function=False)
def view_as(input, other):
    """``self.view(other.shape)``: a view sharing memory with ``self``.

    >>> import chainrule as torch
    >>> torch.arange(4).view_as(torch.zeros(2, 2))
    tensor([[0, 1],
            [2, 3]])
    """
    return view(input, other._data.shape)


def _one_dim(name, dim, axis):
    if dim is not None and axis is not None:
        raise TypeError(f"{name}() got both dim= and axis= (an alias of dim); pass only one "
                        f"of them")
    if dim is None and axis is None:
        raise TypeError(f"{name}() missing 1 required positional argument: 'dim'")
    return axis if dim is None else dim


@public(function=False)
def reshape_as(input, other):
    """``self.reshape(other.shape)``.

    >>> import chainrule as torch
    >>> torch.arange(4).reshape_as(torch.zeros(2, 2))
    tensor([[0, 1],
            [2, 3]])
    """
    return reshape(input, other._data.shape)


@public()
def unsqueeze(input, dim=None, *, axis=None):
    """Insert a size-1 dimension at ``dim`` (``axis=`` is an alias, as in PyTorch).

    >>> import chainrule as torch
    >>> torch.tensor([1., 2.]).unsqueeze(0).shape
    torch.Size([1, 2])
    """
    if dim is None or axis is not None:      # (aliases in the signature: a hot function)
        dim = _one_dim("unsqueeze", dim, axis)
    nd = input._data.ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"unsqueeze: Dimension out of range (expected to be in range of "
                         f"[{-nd}, {nd - 1}], but got {dim})")
    d = dim % nd
    shape = input._data.shape[:d] + (1,) + input._data.shape[d:]
    return UNSQUEEZE.apply((input,), {"shape": shape, "src": input._data.shape})


@public()
def squeeze(input, dim=None, *, axis=None):
    """Remove size-1 dimensions (all, or only those in ``dim``; ``axis=`` is an alias).

    >>> import chainrule as torch
    >>> torch.squeeze(torch.zeros(2, 1, 3, 1)).shape
    torch.Size([2, 3])
    >>> torch.squeeze(torch.zeros(2, 1, 3, 1), 1).shape
    torch.Size([2, 3, 1])
    """
    if axis is not None:
        dim = _one_dim("squeeze", dim, axis)
    s = input._data.shape
    if dim is None:
        dims = {i for i, n in enumerate(s) if n == 1}
    else:
        ds = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {_dim(d, len(s), "squeeze") for d in ds}
        dims = {d for d in dims if len(s) and s[d] == 1}
    shape = tuple(n for i, n in enumerate(s) if i not in dims)
    op = SQUEEZE if dim is None else SQUEEZE_DIM if isinstance(dim, int) else SQUEEZE_DIMS
    return op.apply((input,), {"shape": shape, "src": s})


@public()
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one.

    >>> import chainrule as torch
    >>> torch.zeros(2, 3, 4).flatten(1).shape
    torch.Size([2, 12])
    """
    s = input._data.shape
    if not s:
        return reshape(input, (1,))
    a = _dim(start_dim, len(s), "flatten")
    b = _dim(end_dim, len(s), "flatten")
    if a > b:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for k in s[a:b + 1]:
        n *= k
    return reshape(input, s[:a] + (n,) + s[b + 1:])


@public()
def ravel(input):
    """A 1-D tensor of ``input``'s elements in row-major order (a view when possible).

    >>> import chainrule as torch
    >>> torch.ravel(torch.tensor([[1, 2], [3, 4]]))
    tensor([1, 2, 3, 4])
    """
    return flatten(input)


# --- transpose / permute ---------------------------------------------------------------


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


PERMUTE = defop("permute", lambda x, perm: np.transpose(x, perm),
                vjps=(lambda F, g, out, x, perm: F.permute(g, _inverse(perm)),),
                jvp=lambda F, t, out, x, perm: F.permute(t[0], perm),
                save_inputs=False, is_view=True)
TRANSPOSE = defop("transpose", lambda x, perm: np.transpose(x, perm),
                  vjps=(lambda F, g, out, x, perm: F.permute(g, _inverse(perm)),),
                  jvp=lambda F, t, out, x, perm: F.permute(t[0], perm),
                  save_inputs=False, is_view=True)
T_OP = defop("t", lambda x, perm: np.transpose(x, perm),
             vjps=(lambda F, g, out, x, perm: F.permute(g, _inverse(perm)),),
             jvp=lambda F, t, out, x, perm: F.permute(t[0], perm),
             save_inputs=False, is_view=True, backward_name="TBackward0")


@public()
def permute(input, *dims):
    """Reorder dimensions.

    >>> import chainrule as torch
    >>> torch.zeros(2, 3, 4).permute(2, 0, 1).shape
    torch.Size([4, 2, 3])
    """
    dims = _sizes(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    perm = tuple(_dim(d, nd, "permute") for d in dims)
    if len(set(perm)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return PERMUTE.apply((input,), {"perm": perm})


@public("transpose", "swapaxes", "swapdims")
def transpose(input, dim0, dim1):
    """Swap two dimensions.

    >>> import chainrule as torch
    >>> torch.zeros(2, 3).transpose(0, 1).shape
    torch.Size([3, 2])
    """
    nd = input._data.ndim
    perm = list(range(nd))
    if nd:
        a, b = _dim(dim0, nd, "transpose"), _dim(dim1, nd, "transpose")
        perm[a], perm[b] = perm[b], perm[a]
    return TRANSPOSE.apply((input,), {"perm": tuple(perm)})


@public()
def t(input):
    """Transpose a matrix (0-d and 1-d tensors are returned as they are).

    >>> import chainrule as torch
    >>> torch.t(torch.tensor([[1, 2, 3]]))
    tensor([[1],
            [2],
            [3]])
    """
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D. Use transpose(dim0, dim1) or .mT instead.")
    return T_OP.apply((input,), {"perm": tuple(reversed(range(input._data.ndim)))})


# --- cat / stack ---------------------------------------------------------------------------


def _cat_vjp(F, g, out, *xs, dim, sizes):
    grads, start = [], 0
    lead = (slice(None),) * dim
    for n in sizes:
        grads.append(g[lead + (slice(start, start + n),)])
        start += n
    return grads


def _cat_jvp(F, t, out, *xs, dim, sizes):
    parts = [ti if ti is not None else F.zeros_like(x) for ti, x in zip(t, xs)]
    return F.cat(parts, dim)


CAT = defop("cat", lambda *xs, dim, sizes: np.concatenate(xs, axis=dim), vjps=_cat_vjp,
            jvp=_cat_jvp, save_inputs=False)


def _stack_vjp(F, g, out, *xs, dim):
    lead = (slice(None),) * dim
    return [g[lead + (i,)] for i in range(len(xs))]


def _stack_jvp(F, t, out, *xs, dim):
    parts = [ti if ti is not None else F.zeros_like(x) for ti, x in zip(t, xs)]
    return F.stack(parts, dim)


STACK = defop("stack", lambda *xs, dim: np.stack(xs, axis=dim), vjps=_stack_vjp,
              jvp=_stack_jvp, save_inputs=False)


def _same_dtype(opname, tensors):
    ts = [x if isinstance(x, Tensor) else _t(x) for x in tensors]
    if not ts:
        raise RuntimeError(f"{opname}(): expected a non-empty list of Tensors")
    dts = {x._data.dtype for x in ts}
    if len(dts) > 1:
        dt = result_np_dtype([x._data for x in ts])
        ts = [x.to(dt) if x._data.dtype != dt else x for x in ts]
    return ts


@public("cat", "concat", "concatenate", method=False)
def cat(tensors, dim=0, *, axis=None):
    """Concatenate tensors along an existing dimension.

    >>> import chainrule as torch
    >>> torch.cat([torch.zeros(2), torch.ones(1)])
    tensor([0., 0., 1.])
    """
    if axis is not None:
        dim = axis
    ts = _same_dtype("cat", tensors)
    if any(x._data.ndim != 1 for x in ts):
        # PyTorch's legacy rule: shape-(0,) tensors are skipped beside N-d tensors (among
        # 1-D tensors they stay, so they are in the graph and their inputs get zero grads)
        ts = [x for x in ts if not (x._data.ndim == 1 and x._data.size == 0)] or ts[:1]
    nd = ts[0]._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated. "
                           "Use torch.stack, or unsqueeze the tensors first.")
    d = _dim(dim, nd, "cat")
    for i, x in enumerate(ts):
        if x._data.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and "
                               f"{x._data.ndim}")
        for k in range(nd):
            if k != d and x._data.shape[k] != ts[0]._data.shape[k]:
                raise RuntimeError(
                    f"cat: Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ts[0]._data.shape[k]} but got size {x._data.shape[k]} for tensor "
                    f"number {i} in the list. Concatenate along the dimension that differs "
                    f"(dim=) or reshape the tensors first.")
    return CAT.apply(tuple(ts), {"dim": d, "sizes": tuple(x._data.shape[d] for x in ts)})


@public(method=False)
@numpy_names
def stack(tensors, dim=0):
    """Join tensors of the same shape along a new dimension.

    >>> import chainrule as torch
    >>> torch.stack([torch.zeros(2), torch.ones(2)]).shape
    torch.Size([2, 2])
    """
    ts = _same_dtype("stack", tensors)
    s0 = ts[0]._data.shape
    for i, x in enumerate(ts):
        if x._data.shape != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(s0)} at entry 0 and {list(x._data.shape)} at entry {i}")
    nd = len(s0) + 1
    if not -nd <= dim < nd:
        raise IndexError(f"stack: Dimension out of range (expected to be in range of "
                         f"[{-nd}, {nd - 1}], but got {dim})")
    return STACK.apply(tuple(ts), {"dim": dim % nd})


# --- movedim ---------------------------------------------------------------------------------

def _dim_list(v, nd, opname, what):
    vals = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    out = tuple(_dim(_int(d, opname, what), nd, opname) for d in vals)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{opname}: repeated dim in `{what}` ({list(vals)}); each dim may "
                           f"appear once")
    return out, list(vals)


@public("movedim", "moveaxis")
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


# --- unflatten -------------------------------------------------------------------------------

@public()
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


# --- rule namespaces ---------------------------------------------------------------------

# the ndarray methods are called directly (np.reshape/np.swapaxes/np.squeeze are Python
# wrappers adding ~0.5-1 us; np.expand_dims ~2 us); the np.* function remains the fallback
# for values without the method (Python numbers)

def _np_reshape(x, shape):
    try:
        return x.reshape(shape)
    except AttributeError:
        return np.reshape(x, shape)


def _np_swapaxes(x, a, b):
    try:
        return x.swapaxes(a, b)
    except AttributeError:
        return np.swapaxes(x, a, b)


def _np_squeeze(x, dim=None):
    try:
        return x.squeeze(dim)
    except AttributeError:
        return np.squeeze(x, axis=dim)


def _np_expand_dims(x, axis):
    # one int axis of an ndarray: indexing with None (always a view, as np.expand_dims)
    if axis.__class__ is int and x.__class__ is np.ndarray:
        n = x.ndim + 1
        if -n <= axis < 0:
            return x[(Ellipsis, None) + (slice(None),) * (-1 - axis)]
        if 0 <= axis < n:
            return x[(slice(None),) * axis + (None, Ellipsis)]
    return np.expand_dims(x, axis)


NF.reshape = _np_reshape
NF.permute = np.transpose
NF.swapaxes = _np_swapaxes
NF.expand_dims = _np_expand_dims
NF.squeeze = _np_squeeze
NF.cat = lambda xs, dim: np.concatenate(xs, axis=dim)
NF.stack = lambda xs, dim: np.stack(xs, axis=dim)
TF.reshape = reshape
TF.permute = permute
TF.swapaxes = transpose
TF.expand_dims = unsqueeze
TF.squeeze = squeeze
TF.cat = cat
TF.stack = stack
