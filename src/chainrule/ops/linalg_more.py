"""More linear algebra: einsum (and the products built on it: outer, tensordot), diagonals
(diagonal, diag_embed, diag, trace), triangles (tril, triu), vector and matrix norms,
inverse, determinant, linear solves and the symmetric eigendecomposition.

Primitives with rules: ``einsum`` (every operand's VJP is again an einsum), ``diagonal`` /
``diag_embed`` (each other's transpose), ``trace``, ``tril``/``triu``, ``linalg_vector_norm``,
``linalg_inv``, ``linalg_det``, ``linalg_solve``, ``linalg_eigvalsh`` /
``linalg_eigh_vectors`` (whose rules call each other).  ``outer``, ``tensordot``, ``diag``
and the matrix norms are composites of those.
"""
import collections

import numpy as np

from .._tensor import Tensor, _dim
from ._core import NF, OTHERS_READ, TF, apply, defop
from .elementwise import _tensorize
from .index import getitem
from .index_more import embed_op
from .linalg import _safe_div, matmul
from .reduce import kept_shape, norm_dims

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class LinAlgError(RuntimeError):
    """Raised by ``chainrule.linalg`` functions on singular input (as ``torch.linalg``)."""


def _np_dtype(x):
    return x._data.dtype if isinstance(x, Tensor) else np.asarray(x).dtype


# --- einsum ------------------------------------------------------------------------------
#
# The op works on a canonical equation: explicit output, one letter per dimension, no
# ``...`` and no broadcasting between operands (``einsum()`` below rewrites the user's
# equation into that form).  The VJP for operand i is one einsum of the output gradient
# with the other operands; letters operand i has alone get a constant ``ones`` operand
# (broadcast), and repeated letters (``ii``) get a constant identity (the diagonal).


def _einsum_np(eq, *xs):
    return np.einsum(eq, *xs, optimize=len(xs) > 2)


def _parse(eq):
    ins, out = eq.split("->")
    return ins.split(","), out


def _einsum_grad(F, g, xs, terms, out_term, i):
    term = terms[i]
    x = xs[i]
    dt = _np_dtype(g)
    used = set("".join(terms)) | set(out_term)
    fresh = iter(c for c in _LETTERS if c not in used)
    avail = set(out_term)
    for j, t in enumerate(terms):
        if j != i:
            avail |= set(t)
    subs, ops = [out_term], [g]
    for j, t in enumerate(terms):
        if j != i:
            subs.append(t)
            ops.append(xs[j])
    target, seen = [], set()
    for c, n in zip(term, x.shape):
        if c in seen:                       # repeated letter: place on the diagonal
            r = next(fresh)
            subs.append(c + r)
            ops.append(np.eye(n, dtype=dt))
            target.append(r)
            continue
        seen.add(c)
        target.append(c)
        if c not in avail:                  # letter only this operand has: broadcast
            subs.append(c)
            ops.append(np.ones(n, dtype=dt))
    return F.einsum(",".join(subs) + "->" + "".join(target), *ops)


def _einsum_vjp(F, g, out, *xs, eq):
    terms, out_term = _parse(eq)
    # constant operands (the ones/eye added by a previous VJP) never need a gradient
    return [_einsum_grad(F, g, xs, terms, out_term, i)
            if F is not TF or isinstance(xs[i], Tensor) else None for i in range(len(xs))]


def _einsum_jvp(F, tangents, out, *xs, eq):
    r = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        ops = list(xs)
        ops[i] = t
        term = F.einsum(eq, *ops)
        r = term if r is None else r + term
    return r


# an operand's rule reads the other operands' values and only its own shape, so (as in
# PyTorch) changing an operand in place is an error only when another operand needs a grad
EINSUM = defop("einsum", lambda *xs, eq: _einsum_np(eq, *xs), vjps=_einsum_vjp,
               jvp=_einsum_jvp, reads=OTHERS_READ)


def _einsum_error(msg):
    return RuntimeError(f"einsum(): {msg}")


def _canonical_einsum(equation, shapes):
    """Rewrite a user equation (spaces, ``...``, implicit output, size-1 broadcasting)
    into the canonical form the op runs."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
        if "->" in rhs:
            raise _einsum_error("more than one '->' found in the equation")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        few = len(terms) > len(shapes)
        raise _einsum_error(f"{'fewer' if few else 'more'} operands were provided than "
                            f"specified in the equation ({len(shapes)} operands, "
                            f"{len(terms)} in '{equation}')")
    for t in terms + ([rhs] if rhs is not None else []):
        for c in t.replace("...", ""):
            if c not in _LETTERS:
                raise _einsum_error(f"invalid subscript given at index {equation.find(c)} in "
                                    f"the equation string, subscripts must be in [a-zA-Z]")
    used = set(lhs) | set(rhs or "")
    spare = [c for c in _LETTERS if c not in used]
    # expand '...' into letters, aligned from the right across operands
    n_ell = 0
    counts = []
    for t, s in zip(terms, shapes):
        named = len(t.replace("...", ""))
        if "..." in t:
            if t.count("...") > 1:
                raise _einsum_error("found more than one ellipsis ('...') in an operand's "
                                    "subscripts")
            k = len(s) - named
            if k < 0:
                raise _einsum_error(f"the number of subscripts in the equation ({named}) is "
                                    f"more than the number of dimensions ({len(s)}) for "
                                    f"operand {len(counts)}")
            n_ell = max(n_ell, k)
            counts.append(k)
        else:
            if named != len(s):
                raise _einsum_error(f"the number of subscripts in the equation ({named}) "
                                    f"does not match the number of dimensions ({len(s)}) for "
                                    f"operand {len(counts)} and no ellipsis was given")
            counts.append(0)
    if n_ell > len(spare):
        raise _einsum_error("too many dimensions for the 52 available subscript letters")
    ell = "".join(spare[:n_ell])
    spare = spare[n_ell:]
    letters = []
    for t, k in zip(terms, counts):
        letters.append(list(t.replace("...", ell[n_ell - k:] if k else "")))
    # sizes: repeated letters within an operand must agree; across operands they broadcast
    size = {}
    for i, (ls, s) in enumerate(zip(letters, shapes)):
        own = {}
        for c, n in zip(ls, s):
            if c in own and own[c] != n:
                raise _einsum_error(f"subscript {c} is repeated for operand {i} but the sizes "
                                    f"don't match, {own[c]} != {n}")
            own[c] = n
        for c, n in own.items():
            m = size.get(c)
            if m is None or m == 1:
                size[c] = n
            elif n != 1 and n != m:
                raise _einsum_error(f"subscript {c} has size {n} for operand {i} which does "
                                    f"not broadcast with previously seen size {m}")
    # output
    if rhs is None:
        flat = [c for ls in letters for c in ls]
        out = list(ell) + sorted(c for c in set(flat) if flat.count(c) == 1 and c not in ell)
    else:
        if rhs.count("...") > 1:
            raise _einsum_error("found more than one ellipsis ('...') in the output")
        out = list(rhs.replace("...", ell))
        seen = set()
        for c in out:
            if c in seen:
                raise _einsum_error(f"output subscript {c} appears more than once in the "
                                    f"output")
            seen.add(c)
            if c not in size:
                raise _einsum_error(f"output subscript {c} does not appear in the equation "
                                    f"for any input operand")
    # a size-1 dimension broadcast against a larger one gets a letter of its own (it is
    # summed away), so every letter has one size and VJPs come back in the right shape
    for ls, s in zip(letters, shapes):
        for k, (c, n) in enumerate(zip(ls, s)):
            if n == 1 and size[c] != 1:
                if not spare:
                    raise _einsum_error("too many broadcast dimensions for the 52 available "
                                        "subscript letters")
                ls[k] = spare.pop(0)
    return ",".join("".join(ls) for ls in letters) + "->" + "".join(out)


def einsum(equation, *operands):
    """Einstein summation: sums of products of the operands' elements, with the dimensions
    named by letters in ``equation`` (``'...'`` for leading dimensions, implicit output
    when ``'->'`` is omitted, size-1 dimensions broadcast).

    >>> import chainrule as torch
    >>> a = torch.tensor([[1., 2.], [3., 4.]])
    >>> torch.einsum('ij,j->i', a, torch.tensor([1., 1.]))
    tensor([3., 7.])
    >>> torch.einsum('ii', a)
    tensor(5.)

    The sublist form names dimensions by integers in [0, 52) (and ``...``):
    ``einsum(op1, sublist1, op2, sublist2, ..., [sublist_out])``.

    >>> torch.einsum(a, [0, 1], torch.tensor([1., 1.]), [1], [0])
    tensor([3., 7.])
    """
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = [_tensorize(x) for x in operands]
    for i, x in enumerate(ops):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, got {type(x).__name__}")
    dts = {x._data.dtype for x in ops}
    if len(dts) > 1:
        names = sorted(str(x.dtype) for x in ops)
        raise RuntimeError(f"einsum(): expected all operands to have the same dtype, got "
                           f"{names[0]} and {names[-1]}. Convert them first, e.g. "
                           f"b.to(a.dtype).")
    eq = _canonical_einsum(equation, [x._data.shape for x in ops])
    return apply(EINSUM, tuple(ops), {"eq": eq})


def _sublist_letters(sub):
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
            continue
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"einsum(): a subscript list holds integers in [0, 52) or "
                            f"Ellipsis, got {s!r} of type {type(s).__name__}")
        if not 0 <= s < 52:
            raise ValueError(f"einsum(): subscript in subscript list is not within the valid "
                             f"range [0, 52): got {s}. Number the dimensions 0..51.")
        out.append(chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26))    # (as PyTorch)
    return "".join(out)


def _sublist_equation(args):
    """``(op1, sub1, op2, sub2, ..., [sub_out])`` -> ``("ab,bc->ac", (op1, op2, ...))``."""
    out = None
    if len(args) % 2:
        *args, out = args
    operands, subs = tuple(args[0::2]), args[1::2]
    for i, s in enumerate(subs):
        if not isinstance(s, (list, tuple)):
            raise TypeError(f"einsum(): in the sublist form each operand is followed by a "
                            f"list of subscripts; argument {2 * i + 1} is a "
                            f"{type(s).__name__}. Write einsum(a, [0, 1], b, [1, 2]) or use "
                            f"an equation string.")
    eq = ",".join(_sublist_letters(s) for s in subs)
    if out is not None:
        if not isinstance(out, (list, tuple)):
            raise TypeError(f"einsum(): the output subscripts must be a list, got "
                            f"{type(out).__name__}")
        eq += "->" + _sublist_letters(out)
    return eq, operands


def outer(input, vec2):
    """Outer product of two vectors: ``out[i, j] = input[i] * vec2[j]``.

    >>> import chainrule as torch
    >>> torch.outer(torch.tensor([1., 2.]), torch.tensor([1., 10., 100.]))
    tensor([[  1.,  10., 100.],
            [  2.,  20., 200.]])
    """
    from .shape import unsqueeze
    a, b = _tensorize(input), _tensorize(vec2)
    for name, x in (("self", a), ("vec2", b)):
        if not isinstance(x, Tensor) or x._data.ndim != 1:
            nd = x._data.ndim if isinstance(x, Tensor) else 0
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {nd}-D. "
                               f"Flatten it first (x.flatten()).")
    return unsqueeze(a, 1) * unsqueeze(b, 0)


ger = outer


def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` dimensions: the last ``dims`` of ``a`` with the first ``dims`` of
    ``b`` (an int), or the listed ones (a pair of lists ``([a_dims], [b_dims])``).

    >>> import chainrule as torch
    >>> torch.tensordot(torch.ones(2, 3, 4), torch.ones(3, 4, 5), dims=2).shape
    torch.Size([2, 5])
    >>> torch.tensordot(torch.ones(2, 3), torch.ones(3, 2), dims=([1], [0]))
    tensor([[3., 3.],
            [3., 3.]])
    """
    if out is not None:
        raise TypeError("tensordot: out= is not supported by chainrule; use the returned "
                        "tensor")
    a, b = _tensorize(a), _tensorize(b)
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        dims = int(dims)
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > na or dims > nb:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}"
                               f" (a has {na} and b has {nb} dimensions)")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        try:
            da, db = dims
        except (TypeError, ValueError):
            raise RuntimeError("tensordot: dims must be an int or a pair of lists of "
                               "dimensions, e.g. dims=([1], [0])") from None
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length (got {len(da)} "
                               f"and {len(db)})")
        da = [_dim(d, na, "tensordot") for d in da]
        db = [_dim(d, nb, "tensordot") for d in db]
    sa, sb = a._data.shape, b._data.shape
    for x, y in zip(da, db):
        if sa[x] != sb[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{sa[x]} in dim {x} and second has size {sb[y]} in dim {y}")
    if na + nb > len(_LETTERS):
        raise RuntimeError("tensordot: too many dimensions")
    la = list(_LETTERS[:na])
    lb = list(_LETTERS[na:na + nb])
    for x, y in zip(da, db):
        lb[y] = la[x]
    out_l = [c for k, c in enumerate(la) if k not in da] + \
            [c for k, c in enumerate(lb) if k not in db]
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"tensordot: both inputs should have same dtype (got {a.dtype} and "
                           f"{b.dtype}). Convert one, e.g. b.to(a.dtype).")
    eq = "".join(la) + "," + "".join(lb) + "->" + "".join(out_l)
    return apply(EINSUM, (a, b), {"eq": eq})


# --- diagonals ----------------------------------------------------------------------------


def _diag_index(n, m, offset):
    """Row and column indices of diagonal ``offset`` of an ``n x m`` matrix."""
    if offset >= 0:
        k = max(0, min(n, m - offset))
        r = np.arange(k)
        return r, r + offset
    k = max(0, min(n + offset, m))
    r = np.arange(k)
    return r - offset, r


def _diagonal_view(x, idx, shape):
    """``x[idx]`` (the diagonal of the last two dimensions) as a view of ``x``, as PyTorch's
    diagonal is: it follows later in-place changes of ``x`` and writes into ``x``."""
    rows, cols = idx[1], idx[2]
    if not len(rows):
        return x[idx]
    r = np.diagonal(x, int(cols[0] - rows[0]), -2, -1)
    if x.flags.writeable:
        r.flags.writeable = True        # NumPy's diagonal is a read-only view
    return r


DIAGONAL = defop("diagonal", _diagonal_view,
                 vjps=(lambda F, g, out, x, idx, shape: F.index_scatter(g, idx, shape),),
                 jvp=lambda F, t, out, x, idx, shape: F.index(t[0], idx),
                 save_inputs=False, is_view=True, backward_name="DiagonalBackward0")
DIAG_EMBED = embed_op("diag_embed", "DiagEmbedBackward0")


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the matrices formed by dimensions ``dim1``, ``dim2``,
    appended as the last dimension.

    >>> import chainrule as torch
    >>> torch.diagonal(torch.arange(9.).reshape(3, 3), 1)
    tensor([1., 5.])
    """
    from .shape import permute
    x = _tensorize(input)
    nd = x._data.ndim
    if nd < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dimensions, but got "
                           f"{nd}. Use diag_embed to build a matrix from a vector.")
    d1, d2 = _dim(dim1, nd, "diagonal"), _dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if (d1, d2) != (nd - 2, nd - 1):
        x = permute(x, [d for d in range(nd) if d not in (d1, d2)] + [d1, d2])
    s = x._data.shape
    rows, cols = _diag_index(s[-2], s[-1], int(offset))
    return apply(DIAGONAL, (x,), {"idx": (Ellipsis, rows, cols), "shape": s})


_diagonal = diagonal


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose diagonal ``offset`` (over ``dim1``, ``dim2`` of the result) holds the
    last dimension of ``input``; zeros elsewhere.

    >>> import chainrule as torch
    >>> torch.diag_embed(torch.tensor([1., 2.]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    from .shape import permute
    x = _tensorize(input)
    if x._data.ndim < 1:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dimension, got a "
                           "0-d tensor. Use x.reshape(1) first.")
    n = x._data.shape[-1]
    big = n + abs(int(offset))
    shape = x._data.shape[:-1] + (big, big)
    rows, cols = _diag_index(big, big, int(offset))
    y = apply(DIAG_EMBED, (x,), {"idx": (Ellipsis, rows, cols), "shape": shape})
    nd = len(shape)
    d1, d2 = _dim(dim1, nd, "diag_embed"), _dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if (d1, d2) == (nd - 2, nd - 1):
        return y
    perm, rest = [None] * nd, iter(range(nd - 2))
    perm[d1], perm[d2] = nd - 2, nd - 1
    perm = [p if p is not None else next(rest) for p in perm]
    return permute(y, perm)


def diag(input, diagonal=0):
    """A vector's square diagonal matrix, or a matrix's diagonal ``diagonal`` as a vector.

    >>> import chainrule as torch
    >>> torch.diag(torch.tensor([1., 2.]))
    tensor([[1., 0.],
            [0., 2.]])
    >>> torch.diag(torch.tensor([[1., 2.], [3., 4.]]))
    tensor([1., 4.])
    """
    x = _tensorize(input)
    nd = x._data.ndim
    if nd == 1:
        return diag_embed(x, diagonal)
    if nd == 2:
        return _diagonal(x, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D. Use torch.diagonal or "
                       f"torch.diag_embed for batches.")


def _trace_vjp(F, g, out, x, idx, shape):
    return F.index_scatter(F.broadcast_to(g, (len(idx[0]),)), idx, shape)


TRACE = defop("trace", lambda x, idx, shape: np.asarray(np.trace(x)),
              vjps=(_trace_vjp,),
              jvp=lambda F, t, out, x, idx, shape: F.sum(F.index(t[0], idx)),
              save_inputs=False)


def trace(input):
    """Sum of the main diagonal of a 2-D matrix.

    >>> import chainrule as torch
    >>> torch.trace(torch.tensor([[1., 2.], [3., 4.]]))
    tensor(5.)
    """
    x = _tensorize(input)
    if x._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{x._data.ndim}. Use torch.diagonal(x, dim1=-2, dim2=-1).sum(-1) "
                           f"for a batch.")
    if x._data.dtype.kind in "biu":
        from .._tensor import wrap
        return wrap(np.asarray(np.trace(x._data), dtype=np.int64))
    n, m = x._data.shape
    rows, cols = _diag_index(n, m, 0)
    return apply(TRACE, (x,), {"idx": (rows, cols), "shape": x._data.shape})


# --- triangles ----------------------------------------------------------------------------

TRIL = defop("tril", lambda x, k: np.tril(x, k),
             vjps=(lambda F, g, out, x, k: F.tril(g, k),),
             jvp=lambda F, t, out, x, k: F.tril(t[0], k), save_inputs=False)
TRIU = defop("triu", lambda x, k: np.triu(x, k),
             vjps=(lambda F, g, out, x, k: F.triu(g, k),),
             jvp=lambda F, t, out, x, k: F.triu(t[0], k), save_inputs=False)


def _tri(op, name, input, diagonal):
    x = _tensorize(input)
    if x._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions (got "
                           f"{x._data.ndim}). Reshape a vector into a matrix first.")
    return apply(op, (x,), {"k": int(diagonal)})


def tril(input, diagonal=0):
    """Lower triangle of the last two dimensions (elements on and below diagonal
    ``diagonal``); zeros above.

    >>> import chainrule as torch
    >>> torch.tril(torch.ones(2, 2))
    tensor([[1., 0.],
            [1., 1.]])
    """
    return _tri(TRIL, "tril", input, diagonal)


def triu(input, diagonal=0):
    """Upper triangle of the last two dimensions; zeros below diagonal ``diagonal``.

    >>> import chainrule as torch
    >>> torch.triu(torch.ones(2, 2), 1)
    tensor([[0., 1.],
            [0., 0.]])
    """
    return _tri(TRIU, "triu", input, diagonal)


# --- norms ---------------------------------------------------------------------------------

_INF = float("inf")


def _vnorm_fwd(x, p, dim, keepdim):
    a = np.abs(x)
    if p == 2:
        r = np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
    elif p == 1:
        r = np.sum(a, axis=dim, keepdims=keepdim)
    elif p == _INF:
        r = np.max(a, axis=dim, keepdims=keepdim)
    elif p == -_INF:
        r = np.min(a, axis=dim, keepdims=keepdim)
    elif p == 0:
        r = np.sum(a != 0, axis=dim, keepdims=keepdim)
    else:
        with np.errstate(divide="ignore"):
            r = np.sum(a ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)
    return np.asarray(r, dtype=x.dtype)


def _vnorm_vjp(F, g, out, x, p, dim, keepdim):
    if p == 0:                              # piecewise constant: zero gradient
        return F.zeros_like(x)
    shape = x.shape
    if not keepdim:
        g = F.reshape(g, kept_shape(shape, dim))
        out = F.reshape(out, kept_shape(shape, dim))
    if p == 2:
        return g * _safe_div(F, x, out)     # 0 at x = 0, not NaN
    if p == 1:
        return g * F.sign(x)
    a = F.abs(x)
    if p == _INF or p == -_INF:
        mask = (a == out) * F.ones_like(a)  # ties share the gradient evenly
        return g * F.sign(x) * _safe_div(F, mask, F.sum(mask, dim, True))
    if p < 1:
        # PyTorch's sgn(x) |x|^(p-1) (masked to 0 at x == 0, where it is inf) * ||x||^(1-p)
        return g * F.sign(x) * F.where(x == 0, 0, a ** (p - 1)) * out ** (1 - p)
    return g * F.sign(x) * _safe_div(F, a ** (p - 1), out ** (p - 1))


def _vnorm_jvp(F, t, out, x, p, dim, keepdim):
    if p == 0:
        return F.zeros_like(out)
    if -_INF < p < 1:                       # as linalg.py's _norm_jvp
        s = F.sum(F.sign(x) * F.where(x == 0, 0, F.abs(x) ** (p - 1)) * t[0], dim, keepdim)
        return s * out ** (1 - p)
    ones = F.ones_like(out)
    return F.sum(_vnorm_vjp(F, ones, out, x, p, dim, keepdim) * t[0], dim, keepdim)


VECTOR_NORM = defop("linalg_vector_norm", _vnorm_fwd, vjps=(_vnorm_vjp,), jvp=_vnorm_jvp,
                    save_out=True, backward_name="LinalgVectorNormBackward0")


def _float_input(name, x, dtype=None):
    x = _tensorize(x)
    if not isinstance(x, Tensor):
        from .._creation import tensor
        x = tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_scalar_type(x)}. Convert it first, e.g. x.double().")
    return x


_SCALAR_TYPES = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                 "bool": "Bool"}


def _scalar_type(x):
    """PyTorch's ScalarType name of a tensor's dtype (``Long`` for int64 ...)."""
    n = x._data.dtype.name
    return _SCALAR_TYPES.get(n, n)


def _ord_value(name, ord):
    if isinstance(ord, str):
        raise RuntimeError(f"{name}: ord must be a number (int, float, inf or -inf) for a "
                           f"vector norm, got {ord!r}. Use linalg.matrix_norm for 'fro'/'nuc'.")
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """Vector ``ord``-norm over all elements or over ``dim``: ``sum(|x|**ord)**(1/ord)``,
    ``max|x|`` (``inf``), ``min|x|`` (``-inf``) or the count of non-zeros (``0``).
    The gradient at 0 is 0.

    >>> import chainrule as torch
    >>> torch.linalg.vector_norm(torch.tensor([3., -4.]))
    tensor(5.)
    >>> torch.linalg.vector_norm(torch.tensor([3., -4.]), ord=float('inf'))
    tensor(4.)
    """
    x = _float_input("linalg.vector_norm", x, dtype)
    p = _ord_value("linalg.vector_norm", ord)
    dims = norm_dims("linalg.vector_norm", dim, x._data.ndim)
    if x._data.size == 0 and p < 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                           f"tensor because the operation does not have an identity")
    return apply(VECTOR_NORM, (x,), {"p": p, "dim": dims, "keepdim": bool(keepdim)})


def _matrix_dims(name, dim, nd):
    if nd < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions "
                           f"(got {nd}).")
    try:
        d0, d1 = dim
    except (TypeError, ValueError):
        raise RuntimeError(f"{name}: dim must be a 2-tuple of ints, got {dim!r}") from None
    d0, d1 = _dim(d0, nd, name), _dim(d1, nd, name)
    if d0 == d1:
        raise RuntimeError(f"{name}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norm over dimensions ``dim``: ``'fro'`` (Frobenius), ``'nuc'`` (sum of singular
    values), ``2`` / ``-2`` (largest / smallest singular value), ``1`` / ``-1`` (max / min
    absolute column sum), ``inf`` / ``-inf`` (max / min absolute row sum).  Singular values
    come from the eigenvalues of the Gram matrix, so their derivatives need them distinct
    and non-zero.

    >>> import chainrule as torch
    >>> A = torch.tensor([[1., -2.], [3., 4.]])
    >>> torch.linalg.matrix_norm(A, ord=1)
    tensor(6.)
    >>> torch.linalg.matrix_norm(A, ord=float('inf'))
    tensor(7.)
    """
    from .reduce import sum as _sum
    from .elementwise import abs as _abs
    from .shape import squeeze
    x = _float_input("linalg.matrix_norm", A, dtype)
    d0, d1 = _matrix_dims("linalg.matrix_norm", dim, x._data.ndim)
    if ord == "fro":
        return apply(VECTOR_NORM, (x,), {"p": 2.0, "dim": tuple(sorted((d0, d1))),
                                         "keepdim": bool(keepdim)})
    if ord in ("nuc", 2, -2):
        # singular values: square roots of the Gram matrix's eigenvalues
        from .elementwise import sqrt
        from .shape import unsqueeze
        sv = sqrt(_singular_values_squared(x, d0, d1))
        if ord == "nuc":
            r = _sum(sv, -1)
        else:
            r = getitem(sv, (Ellipsis, -1 if ord == 2 else 0))
        if keepdim:
            for d in sorted((d0, d1)):
                r = unsqueeze(r, d)
        return r
    if isinstance(ord, str) or ord not in (1, -1, _INF, -_INF):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported. Use 'fro', 'nuc', "
                           f"2, -2, 1, -1, inf or -inf.")
    # 1 / -1: sum |a| over rows, then max / min over columns; inf / -inf the other way round
    inner, outer_d = (d0, d1) if abs(ord) == 1 else (d1, d0)
    s = _sum(_abs(x), inner, keepdim=True)
    r = apply(VECTOR_NORM, (s,), {"p": _INF if ord > 0 else -_INF, "dim": (outer_d,),
                                  "keepdim": True})
    return r if keepdim else squeeze(r, (d0, d1))


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: a vector norm (``dim`` an int, or a 1-D input) or a matrix norm
    (``dim`` a pair, or a 2-D input with ``ord`` given).  With ``ord`` and ``dim`` both None,
    the 2-norm of all elements.

    >>> import chainrule as torch
    >>> torch.linalg.norm(torch.tensor([[1., 2.], [2., 4.]]))
    tensor(5.)
    >>> torch.linalg.norm(torch.tensor([[1., 2.], [2., 4.]]), ord=1)
    tensor(6.)
    """
    x = _float_input("linalg.norm", A, dtype)
    nd = x._data.ndim
    if dim is not None and not isinstance(dim, (int, np.integer)):
        dim = tuple(dim)
        if len(dim) == 1:
            dim = dim[0]
    if ord is None:
        if isinstance(dim, tuple) and len(dim) == 2:
            return matrix_norm(x, "fro", dim, keepdim)
        return vector_norm(x, 2, dim, keepdim)
    if dim is None:
        if nd == 1:
            return vector_norm(x, ord, None, keepdim)
        if nd == 2:
            return matrix_norm(x, ord, (-2, -1), keepdim)
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {nd}D. Pass dim=... to choose the dimensions.")
    if isinstance(dim, tuple):
        if len(dim) != 2:
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dim)}")
        return matrix_norm(x, ord, dim, keepdim)
    return vector_norm(x, ord, dim, keepdim)


# --- inverse, determinant, solve -----------------------------------------------------------


def _inv_np(x):
    try:
        return np.linalg.inv(x)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg.inv: The input matrix is singular, so it has no inverse "
                          "(its determinant is 0). Check the input, or add a small multiple of "
                          "the identity to it.") from None


def _mT(F, x):
    return F.swapaxes(x, -1, -2)


INV = defop("linalg_inv", lambda x: _inv_np(x),
            vjps=(lambda F, g, out, x: -F.matmul(F.matmul(_mT(F, out), g), _mT(F, out)),),
            jvp=lambda F, t, out, x: -F.matmul(F.matmul(out, t[0]), out),
            save_inputs=False, save_out=True, backward_name="LinalgInvExBackward0")


def _square(name, x):
    s = x._data.shape
    if len(s) < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if s[-1] != s[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{s[-2]} by {s[-1]} matrices")


def inv(A):
    """Inverse of a square matrix (or of each matrix in a batch).  Raises
    ``linalg.LinAlgError`` if a matrix is singular.

    >>> import chainrule as torch
    >>> torch.linalg.inv(torch.tensor([[2., 0.], [0., 4.]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    x = _float_input("linalg.inv", A)
    _square("linalg.inv", x)
    return apply(INV, (x,))


inverse = inv


_MINORS_MAX_N = 12        # above this size the minors' route costs too much (O(n^5))


def _cofactors(F, out, x):
    """The cofactor matrix of ``x`` (the gradient of det): ``det(X) * X^-T`` when every
    matrix is well-conditioned, else the signed determinants of the minors, which is exact
    for singular matrices too (PyTorch's gradient there is finite as well)."""
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    n = data.shape[-1]
    if n > _MINORS_MAX_N or data.size == 0 or np.all(np.linalg.cond(data) < 1e8):
        return F.expand_dims(F.expand_dims(out, -1), -1) * _mT(F, F.inv(x))
    keep = np.array([[k for k in range(n) if k != i] for i in range(n)], dtype=np.intp)
    rows = keep[:, None, :, None]           # minors M_ij as (..., n, n, n-1, n-1)
    cols = keep[None, :, None, :]
    signs = np.array([[(-1.0) ** (i + j) for j in range(n)] for i in range(n)],
                     dtype=data.dtype)
    return F.det(F.index(x, (Ellipsis, rows, cols))) * signs


def _det_vjp(F, g, out, x):
    # d det(X) = tr(cof(X)^T dX)  ->  grad = g * cof(X)
    return F.expand_dims(F.expand_dims(g, -1), -1) * _cofactors(F, out, x)


def _det_jvp(F, t, out, x):
    return F.sum(_cofactors(F, out, x) * t[0], (-2, -1))


DET = defop("linalg_det", lambda x: np.asarray(np.linalg.det(x)), vjps=(_det_vjp,),
            jvp=_det_jvp, save_out=True, backward_name="LinalgDetBackward0")


def det(A):
    """Determinant of a square matrix (or of each matrix in a batch).  The gradient is
    the cofactor matrix, ``det(A) * inv(A)^T``; for singular or ill-conditioned matrices up to
    12 x 12 it is computed from the minors' determinants (finite, as in PyTorch); larger
    singular matrices raise ``linalg.LinAlgError`` in backward.

    >>> import chainrule as torch
    >>> torch.linalg.det(torch.tensor([[2., 1.], [0., 3.]]))
    tensor(6.)
    """
    x = _float_input("linalg.det", A)
    _square("linalg.det", x)
    return apply(DET, (x,))


def _solve_np(a, b, vec):
    try:
        if vec:
            return np.linalg.solve(a, b[..., None])[..., 0]
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is "
                          "singular. Check A, or use a least-squares method.") from None


def _solve_vjp_b(F, g, out, a, b, vec):
    if vec:
        return F.squeeze(F.solve(_mT(F, a), F.expand_dims(g, -1)), -1)
    return F.solve(_mT(F, a), g)


def _solve_vjp_a(F, g, out, a, b, vec):
    gb = _solve_vjp_b(F, g, out, a, b, vec)
    if vec:
        return -(F.expand_dims(gb, -1) * F.expand_dims(out, -2))
    return -F.matmul(gb, _mT(F, out))


def _solve_jvp(F, t, out, a, b, vec):
    ta, tb = t
    x = F.expand_dims(out, -1) if vec else out
    r = None
    if tb is not None:
        r = F.expand_dims(tb, -1) if vec else tb
    if ta is not None:
        r = -F.matmul(ta, x) if r is None else r - F.matmul(ta, x)
    dx = F.solve(a, r)
    return F.squeeze(dx, -1) if vec else dx


SOLVE = defop("linalg_solve", _solve_np, vjps=(_solve_vjp_a, _solve_vjp_b), jvp=_solve_jvp,
              save_out=True, broadcasts=True, backward_name="LinalgSolveExBackward0",
              reads=((0,), (0,)))     # B is not saved (PyTorch keeps A and the solution)


def solve(A, B, *, left=True):
    """The solution ``X`` of ``A @ X = B`` for square ``A`` (batched, broadcasting); ``B``
    is a vector (``(*, n)``) or a matrix (``(*, n, k)``) right-hand side.

    >>> import chainrule as torch
    >>> A = torch.tensor([[2., 0.], [0., 4.]])
    >>> torch.linalg.solve(A, torch.tensor([2., 2.]))
    tensor([1.0000, 0.5000])
    """
    a = _float_input("linalg.solve", A)
    b = _tensorize(B)
    if not isinstance(b, Tensor):
        from .._creation import tensor
        b = tensor(b)
    if not left:
        # X A = B  <=>  A^T X^T = B^T
        from .shape import transpose
        return transpose(solve(transpose(a, -1, -2), transpose(b, -1, -2)), -1, -2)
    _square("linalg.solve", a)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {_scalar_type(a)} and B of type {_scalar_type(b)} "
                           f"instead. Convert one, e.g. B.to(A.dtype).")
    sa, sb = a._data.shape, b._data.shape
    vec = len(sb) == 1 or (len(sb) == len(sa) - 1 and sb == sa[:-1])
    n = sa[-1]
    if (vec and sb[-1] != n) or (not vec and (len(sb) < 2 or sb[-2] != n)):
        shown = f"{sb[-1]}" if len(sb) == 1 else f"{sb[-2]}x{sb[-1]}"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({n}x{n} and {shown})")
    try:
        np.broadcast_shapes(sa[:-2], sb[:-1] if vec else sb[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dimensions of A {list(sa[:-2])} and B "
                           f"{list(sb[:-1] if vec else sb[:-2])} don't broadcast") from None
    return apply(SOLVE, (a, b), {"vec": vec})


# --- symmetric eigendecomposition (and the spectral / nuclear norms built on it) --------
#
# For S = Q diag(L) Q^T (eigenvalues ascending): dL_i = q_i^T dS q_i and
# dQ = Q (E o (Q^T dS Q)) with E_ij = 1 / (L_j - L_i) off the diagonal, 0 on it.  The two
# outputs are two ops whose rules call each other, so derivatives of any order exist
# (where the eigenvalues are distinct).


def _eig_gaps(F, lam):
    n = lam.shape[-1]
    eye = np.eye(n, dtype=bool)
    diff = F.expand_dims(lam, -2) - F.expand_dims(lam, -1)       # [i, j] = L_j - L_i
    return F.where(eye, 0, 1 / F.where(eye, 1, diff))


def _eigvalsh_vjp(F, g, out, x, uplo):
    q = F.eigh_vectors(x, uplo)
    return F.matmul(q * F.expand_dims(g, -2), _mT(F, q))


def _eigvalsh_jvp(F, t, out, x, uplo):
    q = F.eigh_vectors(x, uplo)
    return F.sum(q * F.matmul(t[0], q), -2)


def _eigvecs_vjp(F, g, out, x, uplo):
    e = _eig_gaps(F, F.eigvalsh(x, uplo))
    return F.matmul(F.matmul(out, e * F.matmul(_mT(F, out), g)), _mT(F, out))


def _eigvecs_jvp(F, t, out, x, uplo):
    e = _eig_gaps(F, F.eigvalsh(x, uplo))
    return F.matmul(out, e * F.matmul(F.matmul(_mT(F, out), t[0]), out))


EIGVALSH = defop("linalg_eigvalsh", lambda x, uplo: np.linalg.eigvalsh(x, UPLO=uplo),
                 vjps=(_eigvalsh_vjp,), jvp=_eigvalsh_jvp, backward_name="LinalgEighBackward0")
EIGH_VECTORS = defop("linalg_eigh_vectors", lambda x, uplo: np.linalg.eigh(x, UPLO=uplo)[1],
                     vjps=(_eigvecs_vjp,), jvp=_eigvecs_jvp, save_out=True,
                     backward_name="LinalgEighBackward0")

_Eigh = collections.namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
_Eigh.__repr__ = lambda self: (f"torch.return_types.linalg_eigh(\neigenvalues="
                               f"{self.eigenvalues!r},\neigenvectors={self.eigenvectors!r})")


def _eigh_input(name, A, UPLO):
    x = _float_input(name, A)
    _square(name, x)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{name}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return x


def eigvalsh(A, UPLO="L"):
    """Eigenvalues (ascending) of a symmetric matrix, or a batch of them; only the ``UPLO``
    triangle is read.  The gradient is ``Q diag(g) Q^T``.

    >>> import chainrule as torch
    >>> torch.linalg.eigvalsh(torch.tensor([[2., 1.], [1., 2.]]))
    tensor([1., 3.])
    """
    x = _eigh_input("linalg.eigvalsh", A, UPLO)
    return apply(EIGVALSH, (x,), {"uplo": UPLO})


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric matrix,
    as a named tuple ``(eigenvalues, eigenvectors)``.  An eigenvector's sign is arbitrary,
    and its gradient is defined only for distinct eigenvalues.

    >>> import chainrule as torch
    >>> L, Q = torch.linalg.eigh(torch.tensor([[2., 0.], [0., 1.]]))
    >>> L
    tensor([1., 2.])
    """
    x = _eigh_input("linalg.eigh", A, UPLO)
    return _Eigh(apply(EIGVALSH, (x,), {"uplo": UPLO}),
                 apply(EIGH_VECTORS, (x,), {"uplo": UPLO}))


def _singular_values_squared(x, d0, d1):
    """Eigenvalues of the smaller Gram matrix of the matrices over dims (d0, d1): the
    squared singular values, ascending, in the last dimension."""
    from .shape import permute, transpose
    nd = x._data.ndim
    if (d0, d1) != (nd - 2, nd - 1):
        x = permute(x, [d for d in range(nd) if d not in (d0, d1)] + [d0, d1])
    m, n = x._data.shape[-2:]
    xt = transpose(x, -1, -2)
    gram = matmul(xt, x) if m >= n else matmul(x, xt)
    return apply(EIGVALSH, (gram,), {"uplo": "L"})


# --- rule namespaces ---------------------------------------------------------------------

NF.einsum = _einsum_np
NF.tril = np.tril
NF.triu = np.triu
NF.inv = _inv_np
NF.solve = lambda a, b: _solve_np(a, b, False)
NF.det = lambda x: np.asarray(np.linalg.det(x))
NF.eigvalsh = lambda x, uplo: np.linalg.eigvalsh(x, UPLO=uplo)
NF.eigh_vectors = lambda x, uplo: np.linalg.eigh(x, UPLO=uplo)[1]
TF.einsum = lambda eq, *xs: apply(EINSUM, xs, {"eq": eq})
TF.tril = lambda x, k: apply(TRIL, (x,), {"k": k})
TF.triu = lambda x, k: apply(TRIU, (x,), {"k": k})
TF.inv = lambda x: apply(INV, (x,))
TF.solve = lambda a, b: apply(SOLVE, (a, b), {"vec": False})
TF.det = lambda x: apply(DET, (x,))
TF.eigvalsh = lambda x, uplo: apply(EIGVALSH, (x,), {"uplo": uplo})
TF.eigh_vectors = lambda x, uplo: apply(EIGH_VECTORS, (x,), {"uplo": uplo})
