"""Matrix products: ``matmul``, ``dot``/``inner``, ``mv``, ``mm``, ``bmm`` and ``addmm``
(nn.Linear's node).  ``einsum`` and the products built on it are in ``einsum.py``."""

import numpy as np

from .._tensor import Tensor
from ._core import NF, TF, defop, public
from ._args import _tensorize


def _mm_vjp_a(F, g, out, a, b):
    if a.ndim == 2 and b.ndim == 2:               # matrix @ matrix first: the common case
        return F.matmul(g, F.swapaxes(b, -1, -2))
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if b.ndim == 1:                               # (..., n, k) @ (k,) -> (..., n)
        return F.expand_dims(g, -1) * b
    if a.ndim == 1:                               # (k,) @ (..., k, m) -> (..., m)
        return F.sum_to(F.squeeze(F.matmul(b, F.expand_dims(g, -1)), -1), a.shape)
    return F.matmul(g, F.swapaxes(b, -1, -2))


def _mm_vjp_b(F, g, out, a, b):
    if a.ndim == 2 and b.ndim == 2:
        return F.matmul(F.swapaxes(a, -1, -2), g)
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:                               # (k,) @ (..., k, m) -> (..., m)
        return F.expand_dims(a, -1) * F.expand_dims(g, -2)
    if b.ndim == 1:                               # (..., n, k) @ (k,) -> (..., n)
        return F.sum_to(F.squeeze(F.matmul(F.swapaxes(a, -1, -2), F.expand_dims(g, -1)), -1),
                        b.shape)
    return F.matmul(F.swapaxes(a, -1, -2), g)


def _mm_jvp(F, t, out, a, b):
    ta, tb = t
    r = None if ta is None else F.matmul(ta, b)
    if tb is not None:
        r2 = F.matmul(a, tb)
        r = r2 if r is None else r + r2
    return r


def _mm2_vjp_a(F, g, out, a, b):
    # mm: ``b`` is a matrix, ``a`` a matrix or a vector -- g @ b.T either way (written out:
    # the MLP's hot path, one call less than the general rule)
    return F.matmul(g, b.T)


def _mm2_vjp_b(F, g, out, a, b):
    return F.matmul(a.T, g) if a.ndim == 2 else _mm_vjp_b(F, g, out, a, b)


def _matmul_op(name, bname, vjps=(_mm_vjp_a, _mm_vjp_b)):
    # matmul and its 1-D/2-D/batched special cases share one rule set; names follow PyTorch
    # each input's VJP reads only the other input's values (shapes don't change in place)
    return defop(name, np.matmul, vjps=vjps, jvp=_mm_jvp, broadcasts=True,
                 backward_name=bname, reads=((1,), (0,)))


DOT = _matmul_op("dot", "DotBackward0")
MV = _matmul_op("mv", "MvBackward0")
MM = _matmul_op("mm", "MmBackward0", (_mm2_vjp_a, _mm2_vjp_b))
BMM = _matmul_op("bmm", "BmmBackward0")
UNSAFE_MATMUL = _matmul_op("matmul_batched", "UnsafeViewBackward0")


def _mm_args(name, a, b):
    a, b = _tensorize(a), _tensorize(b)
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}(): arguments must be Tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{name}: expected both operands to have the same dtype, but got "
                           f"{a.dtype} and {b.dtype}. Convert one, e.g. b.to(a.dtype).")
    return a, b


def _shape_error(name, sa, sb):
    if len(sa) == 1 and len(sb) == 1:
        return RuntimeError(f"{name}: inconsistent tensor size, expected tensor [{sa[0]}] and "
                            f"src [{sb[0]}] to have the same number of elements, but got "
                            f"{sa[0]} and {sb[0]} elements respectively")
    fa = "x".join(str(s) for s in (sa if len(sa) > 1 else (1,) + sa))
    fb = "x".join(str(s) for s in (sb if len(sb) > 1 else sb + (1,)))
    return RuntimeError(f"{name}: mat1 and mat2 shapes cannot be multiplied ({fa} and {fb}). "
                        f"The last dimension of the first operand must equal the "
                        f"{'first' if len(sb) < 2 else 'second-to-last'} dimension of the second.")


@public()
def matmul(input, other):
    """Matrix product with NumPy/PyTorch semantics: vector·vector, matrix·vector,
    matrix·matrix and batched (broadcast) products.

    >>> import chainrule as torch
    >>> torch.matmul(torch.ones(2, 3), torch.ones(3))
    tensor([3., 3.])
    """
    if input.__class__ is Tensor and other.__class__ is Tensor:
        # fast path: matrix @ matrix of one dtype with matching inner sizes (all checks of
        # the general path below hold); anything else goes through them for its error
        sa, sb = input._data.shape, other._data.shape
        if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0] and \
                input._data.dtype == other._data.dtype:
            return MM.apply((input, other))
    a, b = _mm_args("matmul", input, other)
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, but got "
                           f"{len(sa)}D and {len(sb)}D tensors. Use * for scalar products.")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise _shape_error("matmul", sa, sb)
    if len(sa) > 2 or len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions {list(sa[:-2])} and {list(sb[:-2])} "
                               f"don't broadcast") from None
    if len(sa) == 1 and len(sb) == 1:
        op = DOT
    elif len(sb) == 1 and len(sa) == 2:
        op = MV
    elif len(sa) <= 2 and len(sb) <= 2:
        op = MM
    else:
        op = UNSAFE_MATMUL
    return op.apply((a, b))


@public("dot", "inner")
def dot(input, other):
    """Inner product of two 1-D tensors.

    >>> import chainrule as torch
    >>> torch.dot(torch.tensor([1., 2.]), torch.tensor([3., 4.]))
    tensor(11.)
    """
    a, b = _mm_args("dot", input, other)
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D "
                           f"tensors")
    if a._data.shape != b._data.shape:
        raise _shape_error("dot", a._data.shape, b._data.shape)
    return DOT.apply((a, b))


@public()
def mv(input, vec):
    """Matrix-vector product.

    >>> import chainrule as torch
    >>> torch.mv(torch.tensor([[1., 2.], [3., 4.]]), torch.tensor([1., 1.]))
    tensor([3., 7.])
    """
    a, b = _mm_args("mv", input, vec)
    if a._data.ndim != 2 or b._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {a._data.ndim}, "
                           f"{b._data.ndim} dims (mv needs a 2-D matrix and a 1-D vector)")
    if a._data.shape[1] != b._data.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got input ({a._data.shape[0]}), mat "
                           f"({a._data.shape[0]}x{a._data.shape[1]}), vec ({b._data.shape[0]}). "
                           f"The vector's length must equal the matrix's number of columns.")
    return MV.apply((a, b))


@public()
def mm(input, mat2):
    """Product of two 2-D matrices.

    >>> import chainrule as torch
    >>> torch.mm(torch.tensor([[1., 2.], [3., 4.]]), torch.eye(2))
    tensor([[1., 2.],
            [3., 4.]])
    """
    a, b = _mm_args("mm", input, mat2)
    if a._data.ndim != 2 or b._data.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix (got {a._data.ndim}-D) and mat2 must be "
                           f"a matrix (got {b._data.ndim}-D)")
    if a._data.shape[1] != b._data.shape[0]:
        raise _shape_error("mm", a._data.shape, b._data.shape)
    return MM.apply((a, b))


def _addmm_fwd(c, a, b, beta=1, alpha=1):
    r = np.matmul(a, b)
    if alpha != 1:
        r *= alpha
    if beta == 1:
        r += c                  # r is this op's own fresh array: adding in place is safe
    elif beta != 0:
        r += beta * c
    return r


def _addmm_jvp(F, t, out, c, a, b, beta=1, alpha=1):
    tc, ta, tb = t
    r = None
    if ta is not None:
        r = F.matmul(ta, b)
    if tb is not None:
        r2 = F.matmul(a, tb)
        r = r2 if r is None else r + r2
    if r is not None and alpha != 1:
        r = r * alpha
    if tc is not None and beta != 0:
        tc = tc if beta == 1 else tc * beta
        r = F.broadcast_to(tc, out.shape) if r is None else r + tc
    return r


# beta * input + alpha * (mat1 @ mat2) (nn.Linear's node); PyTorch ignores input when
# beta is 0 (its nan/inf do not propagate) and gives it a zero gradient
ADDMM = defop("addmm", _addmm_fwd,
              vjps=(lambda F, g, out, c, a, b, beta=1, alpha=1: g if beta == 1 else g * beta,
                    lambda F, g, out, c, a, b, beta=1, alpha=1:
                        F.matmul(g, b.T) if alpha == 1 else F.matmul(g, b.T) * alpha,
                    lambda F, g, out, c, a, b, beta=1, alpha=1:
                        F.matmul(a.T, g) if alpha == 1 else F.matmul(a.T, g) * alpha),
              jvp=_addmm_jvp, broadcasts=True, reads=((), (2,), (1,)))


@public(method=False)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices ``mat1`` (n, m) and ``mat2``
    (m, p); ``input`` broadcasts to (n, p).  ``nn.Linear`` records this node.

    >>> import chainrule as torch
    >>> torch.addmm(torch.tensor([1., 2.]), torch.ones(1, 3), torch.ones(3, 2))
    tensor([[4., 5.]])
    """
    c, a = _mm_args("addmm", input, mat1)
    a, b = _mm_args("addmm", a, mat2)
    for name, t in (("mat1", a), ("mat2", b)):
        if t._data.ndim != 2:
            raise RuntimeError(f"addmm: {name} must be a matrix, got {t._data.ndim}-D tensor")
    if a._data.shape[1] != b._data.shape[0]:
        raise _shape_error("addmm", a._data.shape, b._data.shape)
    target = (a._data.shape[0], b._data.shape[1])
    try:
        if np.broadcast_shapes(c._data.shape, target) != target:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"addmm: the input of shape {list(c._data.shape)} must broadcast "
                           f"to the product's shape {list(target)}") from None
    params = {}
    if beta != 1:
        params["beta"] = beta
    if alpha != 1:
        params["alpha"] = alpha
    return ADDMM.apply((c, a, b), params)


@public()
def bmm(input, mat2):
    """Batched product of two 3-D tensors ``(b, n, k) @ (b, k, m)``.

    >>> import chainrule as torch
    >>> a = torch.arange(6.).reshape(2, 1, 3)
    >>> torch.bmm(a, torch.ones(2, 3, 1)).shape, torch.bmm(a, torch.ones(2, 3, 1)).flatten()
    (torch.Size([2, 1, 1]), tensor([ 3., 12.]))
    """
    a, b = _mm_args("bmm", input, mat2)
    for name, t in (("batch1", a), ("batch2", b)):
        if t._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor (bmm got {t._data.ndim}D, shape "
                               f"{list(t._data.shape)}); use matmul for other ranks or "
                               f"reshape to (batch, n, m)")
    if a._data.shape[0] != b._data.shape[0] or a._data.shape[2] != b._data.shape[1]:
        raise RuntimeError(f"bmm: Expected size for first two dimensions of batch2 tensor to "
                           f"be: [{a._data.shape[0]}, {a._data.shape[2]}] but got: "
                           f"[{b._data.shape[0]}, {b._data.shape[1]}].")
    return BMM.apply((a, b))


# --- rule namespaces ---------------------------------------------------------------------

NF.matmul = np.matmul
TF.matmul = matmul
