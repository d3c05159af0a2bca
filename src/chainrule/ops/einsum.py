"""``einsum`` and the products built on it: ``outer``/``ger`` and ``tensordot``.

Every operand's VJP is again an einsum (so derivatives of any order exist); ``outer`` and
``tensordot`` are composites of it.
"""

import numpy as np

from .._backend import dtype_of, like_device
from .._tensor import Tensor, _dim
from ._core import NF, OTHERS_READ, TF, defop, public
from ._args import _tensorize
from .shape import unsqueeze


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _np_dtype(x):
    return x._data.dtype if isinstance(x, Tensor) else dtype_of(x)


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
            ops.append(like_device(x, np.eye(n, dtype=dt)))
            target.append(r)
            continue
        seen.add(c)
        target.append(c)
        if c not in avail:                  # letter only this operand has: broadcast
            subs.append(c)
            ops.append(like_device(x, np.ones(n, dtype=dt)))
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


@public(method=False)
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
    return EINSUM.apply(tuple(ops), {"eq": eq})


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


@public("outer", "ger")
def outer(input, vec2):
    """Outer product of two vectors: ``out[i, j] = input[i] * vec2[j]``.

    >>> import chainrule as torch
    >>> torch.outer(torch.tensor([1., 2.]), torch.tensor([1., 10., 100.]))
    tensor([[  1.,  10., 100.],
            [  2.,  20., 200.]])
    """
    a, b = _tensorize(input), _tensorize(vec2)
    for name, x in (("self", a), ("vec2", b)):
        if not isinstance(x, Tensor) or x._data.ndim != 1:
            nd = x._data.ndim if isinstance(x, Tensor) else 0
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {nd}-D. "
                               f"Flatten it first (x.flatten()).")
    return unsqueeze(a, 1) * unsqueeze(b, 0)


@public(method=False)
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
    return EINSUM.apply((a, b), {"eq": eq})


# --- rule namespaces ---------------------------------------------------------------------

NF.einsum = _einsum_np
TF.einsum = lambda eq, *xs: EINSUM.apply(xs, {"eq": eq})
