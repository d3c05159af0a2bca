"""Norms: ``torch.norm`` and ``linalg.vector_norm`` (ops with rules), ``linalg.matrix_norm``
and ``linalg.norm`` (composites; the spectral and nuclear norms use the symmetric
eigendecomposition of ``decompositions.py``).  The gradient at a zero vector is zero, as in
PyTorch."""

import numpy as np

from .._backend import as_array
from .._tensor import _dim
from ._core import defop, public
from ._args import _floating
from .decompositions import _float_input, _singular_values_squared
from .index import getitem
from .reduce import kept_shape, norm_dims, sum as _sum
from .unary import abs as _abs, sqrt
from .shape import squeeze, unsqueeze


# --- torch.norm --------------------------------------------------------------------------


def _safe_div(F, a, b):
    # a / b, and 0 where b == 0 (the norm's gradient at 0 is 0, not NaN)
    return F.where(b == 0, 0, a / F.where(b == 0, 1, b))


def _norm_vjp(F, g, out, x, p, dim, keepdim):
    if p == 0:                              # a count: piecewise constant, zero gradient
        return F.zeros_like(x)
    shape = x.shape
    if not keepdim:
        g = F.reshape(g, kept_shape(shape, dim))
        out = F.reshape(out, kept_shape(shape, dim))
    if p == 2:
        return g * _safe_div(F, x, out)
    if p == 1:
        return g * F.sign(x)
    if p == float("inf") or p == -float("inf"):
        a = F.abs(x)
        mask = a == out
        cnt = F.sum(mask * 1, dim, True)
        return g * F.sign(x) * _safe_div(F, mask * 1, cnt)
    a = F.abs(x)
    if p < 1:
        # PyTorch's sgn(x) |x|^(p-1) (masked to 0 at x == 0, where it is inf) * ||x||^(1-p)
        return g * F.sign(x) * F.where(x == 0, 0, a ** (p - 1)) * out ** (1 - p)
    return g * F.sign(x) * _safe_div(F, a ** (p - 1), out ** (p - 1))


def _norm_jvp(F, t, out, x, p, dim, keepdim):
    if p == 2:
        # PyTorch's sum(x * t) / ||x||, 0 where the norm is 0 (an overflowing sum(x * t)
        # over an infinite norm gives nan, as there)
        return _safe_div(F, F.sum(x * t[0], dim, keepdim), out)
    if p == 0:
        return F.zeros_like(out)
    if -float("inf") < p < 1:
        # PyTorch's sum(sgn(x) |x|^(p-1) t) * ||x||^(1-p), |x|^(p-1) masked to 0 at x == 0
        # (summed before the scaling: -inf, not inf * 0 = nan, at an infinite norm)
        s = F.sum(F.sign(x) * F.where(x == 0, 0, F.abs(x) ** (p - 1)) * t[0], dim, keepdim)
        return s * out ** (1 - p)
    # d||x|| = sum(grad-direction * t): reuse the VJP with g = 1 and contract with t
    ones = F.ones_like(out)
    return F.sum(_norm_vjp(F, ones, out, x, p, dim, keepdim) * t[0], dim, keepdim)


def _norm_fwd(x, p, dim, keepdim):
    a = np.abs(x)
    if p == 2:
        r = np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
    elif p == 1:
        r = np.sum(a, axis=dim, keepdims=keepdim)
    elif p == float("inf"):
        r = np.max(a, axis=dim, keepdims=keepdim)
    elif p == -float("inf"):
        r = np.min(a, axis=dim, keepdims=keepdim)
    elif p == 0:
        r = np.sum(a != 0, axis=dim, keepdims=keepdim).astype(x.dtype)
    else:
        r = np.sum(a ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)
    return as_array(r).astype(x.dtype, copy=False)


NORM = defop("norm", _norm_fwd, vjps=(_norm_vjp,), jvp=_norm_jvp, save_out=True,
             backward_name="LinalgVectorNormBackward0")


@public()
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over all elements or over ``dim`` (``p`` = 2 / ``"fro"`` by default,
    1, ``inf``, ``-inf`` or any positive number).  At 0 the gradient is 0.

    >>> import chainrule as torch
    >>> torch.norm(torch.tensor([3., 4.]))
    tensor(5.)
    """
    x = _floating(input)
    if dtype is not None:
        x = x.to(dtype)
    if p == "fro" or p is None:
        p = 2
    if p == "nuc" or isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} is not supported here; use chainrule.linalg.norm")
    dims = norm_dims("norm", dim, x._data.ndim)
    return NORM.apply((x,), {"p": float(p) if not isinstance(p, int) else p, "dim": dims,
                              "keepdim": bool(keepdim)})


# --- linalg.vector_norm, matrix_norm, norm ------------------------------------------------

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
    return as_array(r).astype(x.dtype, copy=False)


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
    if -_INF < p < 1:                       # as _norm_jvp above
        s = F.sum(F.sign(x) * F.where(x == 0, 0, F.abs(x) ** (p - 1)) * t[0], dim, keepdim)
        return s * out ** (1 - p)
    ones = F.ones_like(out)
    return F.sum(_vnorm_vjp(F, ones, out, x, p, dim, keepdim) * t[0], dim, keepdim)


VECTOR_NORM = defop("linalg_vector_norm", _vnorm_fwd, vjps=(_vnorm_vjp,), jvp=_vnorm_jvp,
                    save_out=True, backward_name="LinalgVectorNormBackward0")


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
    return VECTOR_NORM.apply((x,), {"p": p, "dim": dims, "keepdim": bool(keepdim)})


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
    x = _float_input("linalg.matrix_norm", A, dtype)
    d0, d1 = _matrix_dims("linalg.matrix_norm", dim, x._data.ndim)
    if ord == "fro":
        return VECTOR_NORM.apply((x,), {"p": 2.0, "dim": tuple(sorted((d0, d1))),
                                         "keepdim": bool(keepdim)})
    if ord in ("nuc", 2, -2):
        # singular values: square roots of the Gram matrix's eigenvalues
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
    r = VECTOR_NORM.apply((s,), {"p": _INF if ord > 0 else -_INF, "dim": (outer_d,),
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
