"""Inverses, determinants, linear solves and the symmetric eigendecomposition:
``linalg.inv``, ``linalg.det``, ``linalg.solve``, ``linalg.eigh`` and ``linalg.eigvalsh``
(``LinAlgError`` on singular input).

Primitives with rules: ``linalg_inv``, ``linalg_det``, ``linalg_solve`` and
``linalg_eigvalsh`` / ``linalg_eigh_vectors`` (whose rules call each other).
"""
import collections

import numpy as np

from .._backend import as_array, like_device, to_host
from .._tensor import Tensor
from ._core import NF, TF, defop, public
from ._args import _tensorize
from .matmul import matmul
from .._creation import tensor
from .shape import permute, transpose


class LinAlgError(RuntimeError):
    """Raised by ``chainrule.linalg`` functions on singular input (as ``torch.linalg``)."""


# --- argument checks shared with linalg_norms.py ---------------------------------------

def _float_input(name, x, dtype=None):
    x = _tensorize(x)
    if not isinstance(x, Tensor):
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


@public("inverse")
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
    return INV.apply((x,))


_MINORS_MAX_N = 12        # above this size the minors' route costs too much (O(n^5))


def _cofactors(F, out, x):
    """The cofactor matrix of ``x`` (the gradient of det): ``det(X) * X^-T`` when every
    matrix is well-conditioned, else the signed determinants of the minors, which is exact
    for singular matrices too (PyTorch's gradient there is finite as well)."""
    data = x._data if isinstance(x, Tensor) else as_array(x)
    n = data.shape[-1]
    # (the condition numbers decide the formula: computed on the host for a device array)
    if n > _MINORS_MAX_N or data.size == 0 or np.all(np.linalg.cond(to_host(data)) < 1e8):
        return F.expand_dims(F.expand_dims(out, -1), -1) * _mT(F, F.inv(x))
    keep = like_device(data, np.array([[k for k in range(n) if k != i] for i in range(n)],
                                      dtype=np.intp))
    rows = keep[:, None, :, None]           # minors M_ij as (..., n, n, n-1, n-1)
    cols = keep[None, :, None, :]
    signs = like_device(data, np.array([[(-1.0) ** (i + j) for j in range(n)]
                                        for i in range(n)], dtype=data.dtype))
    return F.det(F.index(x, (Ellipsis, rows, cols))) * signs


def _det_vjp(F, g, out, x):
    # d det(X) = tr(cof(X)^T dX)  ->  grad = g * cof(X)
    return F.expand_dims(F.expand_dims(g, -1), -1) * _cofactors(F, out, x)


def _det_jvp(F, t, out, x):
    return F.sum(_cofactors(F, out, x) * t[0], (-2, -1))


DET = defop("linalg_det", lambda x: as_array(np.linalg.det(x)), vjps=(_det_vjp,),
            jvp=_det_jvp, save_out=True, backward_name="LinalgDetBackward0")


@public()
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
    return DET.apply((x,))


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
        b = tensor(b)
    if not left:
        # X A = B  <=>  A^T X^T = B^T
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
    return SOLVE.apply((a, b), {"vec": vec})


# --- symmetric eigendecomposition (and the spectral / nuclear norms built on it) --------
#
# For S = Q diag(L) Q^T (eigenvalues ascending): dL_i = q_i^T dS q_i and
# dQ = Q (E o (Q^T dS Q)) with E_ij = 1 / (L_j - L_i) off the diagonal, 0 on it.  The two
# outputs are two ops whose rules call each other, so derivatives of any order exist
# (where the eigenvalues are distinct).


def _eig_gaps(F, lam):
    n = lam.shape[-1]
    eye = like_device(lam, np.eye(n, dtype=bool))
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
    return EIGVALSH.apply((x,), {"uplo": UPLO})


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
    return _Eigh(EIGVALSH.apply((x,), {"uplo": UPLO}),
                 EIGH_VECTORS.apply((x,), {"uplo": UPLO}))


def _singular_values_squared(x, d0, d1):
    """Eigenvalues of the smaller Gram matrix of the matrices over dims (d0, d1): the
    squared singular values, ascending, in the last dimension."""
    nd = x._data.ndim
    if (d0, d1) != (nd - 2, nd - 1):
        x = permute(x, [d for d in range(nd) if d not in (d0, d1)] + [d0, d1])
    m, n = x._data.shape[-2:]
    xt = transpose(x, -1, -2)
    gram = matmul(xt, x) if m >= n else matmul(x, xt)
    return EIGVALSH.apply((gram,), {"uplo": "L"})


# --- rule namespaces ---------------------------------------------------------------------

NF.inv = _inv_np
NF.solve = lambda a, b: _solve_np(a, b, False)
NF.det = lambda x: as_array(np.linalg.det(x))
NF.eigvalsh = lambda x, uplo: np.linalg.eigvalsh(x, UPLO=uplo)
NF.eigh_vectors = lambda x, uplo: np.linalg.eigh(x, UPLO=uplo)[1]
TF.inv = lambda x: INV.apply((x,))
TF.solve = lambda a, b: SOLVE.apply((a, b), {"vec": False})
TF.det = lambda x: DET.apply((x,))
TF.eigvalsh = lambda x, uplo: EIGVALSH.apply((x,), {"uplo": uplo})
TF.eigh_vectors = lambda x, uplo: EIGH_VECTORS.apply((x,), {"uplo": uplo})
