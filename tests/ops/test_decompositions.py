"""Inverse, determinant, solve and eigh (ops/decompositions.py, chainrule.linalg) against
PyTorch and finite differences: the OpCase rows (value, VJP, JVP, second order in float64,
float32 preservation) and the checks beyond the table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def _well_conditioned(r, shape):
    """Square matrices (batched) with a dominant diagonal: far from singular."""
    n = shape[-1]
    return r.uniform(-1, 1, shape) + n * np.eye(n)


def _rank(r, n, k):
    """An n x n matrix of rank k (singular for k < n): its det gradient is still finite."""
    return r.uniform(-1, 1, (n, k)) @ r.uniform(-1, 1, (k, n))


def _sign_free(m, eig):
    # squares of the eigenvector entries, weighted, and the eigenvalues: no sign ambiguity
    w = m.arange(1.0, 1.0 + eig.eigenvectors.shape[-1], dtype=eig.eigenvectors.dtype)
    return m.cat([(eig.eigenvectors ** 2 * w).reshape(-1), eig.eigenvalues.reshape(-1)])


def _mats(*shapes):
    return lambda r: [_well_conditioned(r, s) for s in shapes]


def _both(fn):
    return fn(cr), fn(torch)


def _adjugate_t(a):
    """The transposed adjugate (cofactor matrix) of a square matrix: d det(A) / dA."""
    n = a.shape[0]
    cof = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            cof[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return cof


CASES = [
    # symmetric eigendecomposition (inputs symmetrised inside; eigenvectors enter through
    # sign-invariant expressions, since each one's sign is arbitrary)
    OpCase("eigvalsh", lambda m, a: m.linalg.eigvalsh(a + a.mT), [(3, 3)],
           op="linalg_eigvalsh"),
    OpCase("eigvalsh_upper_batched", lambda m, a: m.linalg.eigvalsh(a + a.mT, UPLO="U"),
           [(2, 3, 3)], op="linalg_eigvalsh"),
    OpCase("eigh_vectors", lambda m, a: _sign_free(m, m.linalg.eigh(a + a.mT)), [(3, 3)],
           op=("linalg_eigh_vectors", "linalg_eigvalsh")),
    OpCase("eigh_vectors_batched",
           lambda m, a: _sign_free(m, m.linalg.eigh(a + a.mT, UPLO="U")), [(2, 3, 3)],
           op="linalg_eigh_vectors"),
    # inverse, determinant, solve (well-conditioned inputs)
    OpCase("inv", lambda m, a: m.linalg.inv(a), [(3, 3)], make=_mats((3, 3)),
           op="linalg_inv"),
    OpCase("inv_batched", lambda m, a: m.inverse(a), [(2, 3, 3)], make=_mats((2, 3, 3)),
           op="linalg_inv"),
    OpCase("det", lambda m, a: m.linalg.det(a), [(3, 3)], make=_mats((3, 3)),
           op="linalg_det"),
    OpCase("det_batched", lambda m, a: m.det(a), [(2, 3, 3)], make=_mats((2, 3, 3)),
           op="linalg_det"),
    # exactly singular: PyTorch's gradient there depends on LAPACK's rounding (0 on some
    # CPUs, the adjugate on others), so these rows check against finite differences and
    # test_det_gradient_at_singular_matrices_is_the_adjugate against the analytic value
    OpCase("det_singular", lambda m, a: m.linalg.det(a), [(3, 3)],
           make=lambda r: [_rank(r, 3, 2)], op="linalg_det", vs_torch=False),
    OpCase("det_singular_batched", lambda m, a: a.det(), [(2, 2, 2)],
           make=lambda r: [np.stack([_rank(r, 2, 1), _well_conditioned(r, (2, 2))])],
           op="linalg_det", vs_torch=False),
    OpCase("det_1x1", lambda m, a: a.det(), [(1, 1)], make=_mats((1, 1)), op="linalg_det"),
    OpCase("solve_vec", lambda m, a, b: m.linalg.solve(a, b), [(3, 3), (3,)],
           make=lambda r: [_well_conditioned(r, (3, 3)), r.uniform(-2, 2, (3,))],
           op="linalg_solve"),
    OpCase("solve_mat", lambda m, a, b: m.linalg.solve(a, b), [(3, 3), (3, 2)],
           make=lambda r: [_well_conditioned(r, (3, 3)), r.uniform(-2, 2, (3, 2))],
           op="linalg_solve"),
    OpCase("solve_batch_bcast", lambda m, a, b: m.linalg.solve(a, b), [(2, 3, 3), (3, 2)],
           make=lambda r: [_well_conditioned(r, (2, 3, 3)), r.uniform(-2, 2, (3, 2))],
           op="linalg_solve"),
    OpCase("solve_batch_vec", lambda m, a, b: m.linalg.solve(a, b), [(2, 3, 3), (2, 3)],
           make=lambda r: [_well_conditioned(r, (2, 3, 3)), r.uniform(-2, 2, (2, 3))],
           op="linalg_solve"),
    OpCase("solve_a_bcast", lambda m, a, b: m.linalg.solve(a, b), [(3, 3), (2, 3, 4)],
           make=lambda r: [_well_conditioned(r, (3, 3)), r.uniform(-2, 2, (2, 3, 4))],
           op="linalg_solve"),
    OpCase("solve_right", lambda m, a, b: m.linalg.solve(a, b, left=False), [(3, 3), (2, 3)],
           make=lambda r: [_well_conditioned(r, (3, 3)), r.uniform(-2, 2, (2, 3))],
           op="linalg_solve"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m: m.linalg.inv(m.eye(2, requires_grad=True)), "LinalgInvExBackward0"),
    (lambda m: m.linalg.det(m.eye(2, requires_grad=True)), "LinalgDetBackward0"),
    (lambda m: m.linalg.solve(m.eye(2, requires_grad=True), m.ones(2)),
         "LinalgSolveExBackward0"),
])
def test_grad_fn_names(make, name):
    c, t = _both(make)
    assert type(t.grad_fn).__name__ == name
    assert type(c.grad_fn).__name__ == name


def test_inverse_of_singular_raises_linalg_error():
    for fn in (lambda m, a: m.linalg.inv(a), lambda m, a: m.linalg.solve(a, m.ones(2))):
        with pytest.raises(cr.linalg.LinAlgError) as ec:
            fn(cr, cr.zeros(2, 2))
        with pytest.raises(torch.linalg.LinAlgError):
            fn(torch, torch.zeros(2, 2))
        assert isinstance(ec.value, RuntimeError) and "singular" in str(ec.value)


@pytest.mark.parametrize("fn, exc", [
    (lambda m: m.linalg.inv(m.ones(2, 3)), RuntimeError),
    (lambda m: m.linalg.det(m.tensor([[1, 2], [3, 4]])), RuntimeError),
    (lambda m: m.linalg.solve(m.eye(3), m.ones(2, 3)), RuntimeError),
    (lambda m: m.linalg.solve(m.eye(2, dtype=m.float64), m.ones(2)), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc):
        fn(cr)


@pytest.mark.parametrize("fn", [
    lambda m: m.linalg.inv(m.eye(2, dtype=m.int64)),
    lambda m: m.linalg.det(m.eye(2, dtype=m.int32)),
    lambda m: m.linalg.solve(m.eye(2, dtype=m.float64), m.ones(2)),
])
def test_dtype_error_messages_name_torch_scalar_types(fn):
    with pytest.raises(RuntimeError) as et:
        fn(torch)
    with pytest.raises(RuntimeError) as ec:
        fn(cr)
    assert str(ec.value).startswith(str(et.value))


@pytest.mark.parametrize("a", [
    [[1.0, 2.0], [2.0, 4.0]],                                   # rank 1
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]],        # rank 2
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]],        # rank 1: adjugate 0
])
def test_det_gradient_at_singular_matrices_is_the_adjugate(a):
    a = np.array(a)
    x = cr.tensor(a, dtype=cr.float64, requires_grad=True)
    cr.linalg.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), _adjugate_t(a), atol=1e-12)
    # batched, beside a regular matrix
    b = np.stack([a, a + 3 * np.eye(len(a))])
    xb = cr.tensor(b, dtype=cr.float64, requires_grad=True)
    xb.det().sum().backward()
    np.testing.assert_allclose(xb.grad.numpy()[0], _adjugate_t(a), atol=1e-12)
    np.testing.assert_allclose(xb.grad.numpy()[1], _adjugate_t(b[1]), atol=1e-10)


def test_det_derivatives_at_the_zero_matrix():
    # cofactors from the minors: the gradient and Hessian of det at 0 (3 x 3) are 0
    # (PyTorch's SVD-based double backward gives NaN there)
    x = cr.zeros(3, 3, dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(cr.linalg.det(x), x, create_graph=True)
    (h,) = cr.autograd.grad((g * cr.ones(3, 3, dtype=cr.float64)).sum(), x)
    np.testing.assert_array_equal(g.detach().numpy(), np.zeros((3, 3)))
    np.testing.assert_array_equal(h.numpy(), np.zeros((3, 3)))


def test_eigh_returns_named_tuple_and_node_names():
    for m in (cr, torch):
        r = m.linalg.eigh(m.tensor([[2.0, 1.0], [1.0, 2.0]], requires_grad=True))
        assert type(r).__name__ == "linalg_eigh"
        assert r.eigenvalues.tolist() == pytest.approx([1.0, 3.0])
        assert type(r.eigenvectors.grad_fn).__name__ == "LinalgEighBackward0"
        assert abs(float((r.eigenvectors[:, 0] * r.eigenvectors[:, 1]).sum())) < 1e-6
