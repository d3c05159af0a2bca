"""Linear algebra (ops/linalg_more.py, chainrule.linalg) against PyTorch and finite
differences: value, VJP, JVP and second order in float64, float32 dtype preservation; plus
einsum's equation handling, grad_fn names and error messages."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests

INF = float("inf")


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


def _away_from_zero(shape):
    return lambda r: [r.uniform(0.5, 2.0, shape) * r.choice([-1.0, 1.0], shape)]


CASES = [
    # einsum: products, traces, diagonals, broadcasting, '...', implicit output
    OpCase("einsum_mm", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)],
           op="einsum"),
    OpCase("einsum_implicit", lambda m, a, b: m.einsum("bi,bj", a, b), [(2, 3), (2, 4)],
           op="einsum"),
    OpCase("einsum_trace", lambda m, a: m.einsum("ii", a), [(3, 3)], op="einsum"),
    # the sublist form: integers 0..25 are A..Z, 26..51 a..z (implicit output sorts them)
    OpCase("einsum_sublist", lambda m, a, b: m.einsum(a, [0, 1], b, [1, 27]),
           [(2, 3), (3, 4)], op="einsum"),
    OpCase("einsum_sublist_out", lambda m, a, b: m.einsum(a, [..., 30, 1], b, [1, 2], [2, ...]),
           [(2, 3), (3, 4)], op="einsum"),
    OpCase("einsum_diag", lambda m, a: m.einsum("ii->i", a), [(3, 3)], op="einsum"),
    OpCase("einsum_repeat3", lambda m, a: m.einsum("iij->ji", a), [(2, 2, 3)], op="einsum"),
    OpCase("einsum_sum", lambda m, a: m.einsum("ij->", a), [(2, 3)], op="einsum"),
    OpCase("einsum_transpose", lambda m, a: m.einsum("ij->ji", a), [(2, 3)], op="einsum"),
    OpCase("einsum_ellipsis_bcast", lambda m, a, b: m.einsum("...ij,...jk", a, b),
           [(2, 1, 3, 4), (5, 4, 2)], op="einsum"),
    OpCase("einsum_ellipsis_sum", lambda m, a: m.einsum("i...->...", a), [(2, 3, 2)],
           op="einsum"),
    OpCase("einsum_size1_bcast", lambda m, a, b: m.einsum("ij,ij->ij", a, b),
           [(1, 3), (2, 3)], op="einsum"),
    OpCase("einsum_three", lambda m, a, b, c: m.einsum("i,ij,j->", a, b, c),
           [(3,), (3, 4), (4,)], op="einsum"),
    OpCase("einsum_list", lambda m, a, b: m.einsum("i,j->ij", [a, b]), [(2,), (3,)],
           op="einsum"),
    OpCase("einsum_0d", lambda m, a, b: m.einsum(",i->i", a, b), [(), (3,)], op="einsum"),
    OpCase("einsum_upper", lambda m, a, b: m.einsum("aB,Bc", a, b), [(2, 3), (3, 2)],
           op="einsum"),
    # products built on einsum / mul
    OpCase("outer", lambda m, a, b: m.outer(a, b), [(3,), (4,)], op=("mul", "unsqueeze")),
    OpCase("ger", lambda m, a, b: a.ger(b), [(2,), (3,)], op="mul"),
    OpCase("tensordot_int", lambda m, a, b: m.tensordot(a, b, dims=2), [(2, 3, 4), (3, 4, 2)],
           op="einsum"),
    OpCase("tensordot_lists", lambda m, a, b: m.tensordot(a, b, dims=([1, 0], [0, 2])),
           [(3, 2, 4), (2, 5, 3)], op="einsum"),
    OpCase("tensordot_0", lambda m, a, b: m.tensordot(a, b, dims=0), [(2,), (3,)],
           op="einsum"),
    # diagonals and triangles
    OpCase("trace", lambda m, a: m.trace(a), [(3, 3)], op="trace"),
    OpCase("trace_rect", lambda m, a: a.trace(), [(3, 4)], op="trace"),
    OpCase("diag_vec", lambda m, a: m.diag(a), [(3,)], op="diag_embed"),
    OpCase("diag_vec_off", lambda m, a: m.diag(a, 1), [(3,)], op="diag_embed"),
    OpCase("diag_vec_neg", lambda m, a: a.diag(-2), [(2,)], op="diag_embed"),
    OpCase("diag_mat", lambda m, a: m.diag(a), [(3, 4)], op="diagonal"),
    OpCase("diag_mat_off", lambda m, a: m.diag(a, -1), [(3, 4)], op="diagonal"),
    OpCase("diagonal_dims", lambda m, a: m.diagonal(a, 1, 1, 2), [(2, 3, 4)], op="diagonal"),
    OpCase("diagonal_swapped", lambda m, a: a.diagonal(0, 2, 0), [(3, 2, 4)],
           op=("diagonal", "permute")),
    OpCase("linalg_diagonal", lambda m, a: m.linalg.diagonal(a, offset=1), [(2, 3, 3)],
           op="diagonal"),
    OpCase("diag_embed", lambda m, a: m.diag_embed(a, -1), [(2, 3)], op="diag_embed"),
    OpCase("diag_embed_dims", lambda m, a: m.diag_embed(a, 0, 0, 2), [(2, 3)],
           op="diag_embed"),
    OpCase("tril", lambda m, a: m.tril(a), [(3, 4)], op="tril"),
    OpCase("tril_batched", lambda m, a: a.tril(-1), [(2, 3, 3)], op="tril"),
    OpCase("triu", lambda m, a: m.triu(a, 1), [(4, 3)], op="triu"),
    OpCase("triu_batched", lambda m, a: a.triu(), [(2, 3, 3)], op="triu"),
    # vector norms
    OpCase("vector_norm", lambda m, a: m.linalg.vector_norm(a), [(3, 4)],
           op="linalg_vector_norm"),
    OpCase("vector_norm_0d", lambda m, a: m.linalg.vector_norm(a), [()],
           make=lambda r: [np.array(-1.3)], op="linalg_vector_norm"),
    OpCase("vector_norm_1_dim", lambda m, a: m.linalg.vector_norm(a, 1, dim=1), [(3, 4)],
           make=_away_from_zero((3, 4)), op="linalg_vector_norm"),
    OpCase("vector_norm_inf", lambda m, a: m.linalg.vector_norm(a, INF, dim=0), [(3, 4)],
           op="linalg_vector_norm"),
    OpCase("vector_norm_-inf", lambda m, a: m.linalg.vector_norm(a, -INF), [(5,)],
           make=_away_from_zero((5,)), op="linalg_vector_norm"),
    OpCase("vector_norm_0", lambda m, a: m.linalg.vector_norm(a, 0, dim=-1) * a.sum(-1),
           [(3, 4)], op="linalg_vector_norm"),
    OpCase("vector_norm_3_keep", lambda m, a: m.linalg.vector_norm(a, 3, (0, 1), True),
           [(2, 3, 2)], op="linalg_vector_norm"),
    OpCase("vector_norm_half", lambda m, a: m.linalg.vector_norm(a, 0.5), [(4,)],
           make=_away_from_zero((4,)), op="linalg_vector_norm"),
    OpCase("vector_norm_-1", lambda m, a: m.linalg.vector_norm(a, -1, 0), [(3, 2)],
           make=_away_from_zero((3, 2)), op="linalg_vector_norm"),
    # linalg.norm: vector and matrix forms
    OpCase("linalg_norm", lambda m, a: m.linalg.norm(a), [(3, 4)], op="linalg_vector_norm"),
    OpCase("linalg_norm_0d", lambda m, a: m.linalg.norm(a) * a, [()],
           make=lambda r: [np.array(0.7)], op="linalg_vector_norm"),
    OpCase("linalg_norm_fro", lambda m, a: m.linalg.norm(a, "fro"), [(3, 4)],
           op="linalg_vector_norm"),
    OpCase("linalg_norm_vec_dim", lambda m, a: m.linalg.norm(a, 3, dim=1, keepdim=True),
           [(2, 3)], op="linalg_vector_norm"),
    OpCase("linalg_norm_vec_1d", lambda m, a: m.linalg.norm(a, INF), [(4,)],
           op="linalg_vector_norm"),
    OpCase("matrix_norm_1", lambda m, a: m.linalg.norm(a, 1), [(3, 4)],
           make=_away_from_zero((3, 4)), op=("linalg_vector_norm", "sum_dim", "abs")),
    OpCase("matrix_norm_-1", lambda m, a: m.linalg.norm(a, -1), [(3, 4)],
           make=_away_from_zero((3, 4)), op="linalg_vector_norm"),
    OpCase("matrix_norm_inf", lambda m, a: m.linalg.norm(a, INF), [(3, 4)],
           make=_away_from_zero((3, 4)), op="linalg_vector_norm"),
    OpCase("matrix_norm_-inf", lambda m, a: m.linalg.norm(a, -INF), [(4, 3)],
           make=_away_from_zero((4, 3)), op="linalg_vector_norm"),
    OpCase("matrix_norm_batched", lambda m, a: m.linalg.matrix_norm(a, INF, dim=(2, 0)),
           [(3, 2, 4)], make=_away_from_zero((3, 2, 4)), op="linalg_vector_norm"),
    OpCase("matrix_norm_keep", lambda m, a: m.linalg.matrix_norm(a, 1, keepdim=True),
           [(2, 3, 3)], make=_away_from_zero((2, 3, 3)), op="linalg_vector_norm"),
    OpCase("matrix_norm_fro_dims", lambda m, a: m.linalg.norm(a, dim=(0, 2)), [(2, 3, 2)],
           op="linalg_vector_norm"),
    OpCase("matrix_norm_2", lambda m, a: m.linalg.matrix_norm(a, 2), [(3, 3)],
           op=("linalg_eigvalsh", "matmul_batched", "sqrt")),
    OpCase("matrix_norm_-2_wide", lambda m, a: m.linalg.norm(a, -2), [(2, 4)],
           op="linalg_eigvalsh"),
    OpCase("matrix_norm_nuc", lambda m, a: m.linalg.matrix_norm(a, "nuc"), [(4, 3)],
           op="linalg_eigvalsh"),
    OpCase("matrix_norm_nuc_batched_dims",
           lambda m, a: m.linalg.matrix_norm(a, "nuc", dim=(2, 0), keepdim=True), [(3, 2, 4)],
           op="linalg_eigvalsh"),
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


# --- beyond the table -----------------------------------------------------------------------

def _both(fn):
    return fn(cr), fn(torch)


@pytest.mark.parametrize("make, name", [
    (lambda m: m.trace(m.ones(2, 2, requires_grad=True)), "TraceBackward0"),
    (lambda m: m.diagonal(m.ones(2, 2, requires_grad=True)), "DiagonalBackward0"),
    (lambda m: m.diag_embed(m.ones(2, requires_grad=True)), "DiagEmbedBackward0"),
    (lambda m: m.tril(m.ones(2, 2, requires_grad=True)), "TrilBackward0"),
    (lambda m: m.triu(m.ones(2, 2, requires_grad=True)), "TriuBackward0"),
    (lambda m: m.outer(m.ones(2, requires_grad=True), m.ones(2)), "MulBackward0"),
    (lambda m: m.linalg.vector_norm(m.ones(2, requires_grad=True)),
     "LinalgVectorNormBackward0"),
    (lambda m: m.linalg.inv(m.eye(2, requires_grad=True)), "LinalgInvExBackward0"),
    (lambda m: m.linalg.det(m.eye(2, requires_grad=True)), "LinalgDetBackward0"),
    (lambda m: m.linalg.solve(m.eye(2, requires_grad=True), m.ones(2)),
     "LinalgSolveExBackward0"),
])
def test_grad_fn_names(make, name):
    c, t = _both(make)
    assert type(t.grad_fn).__name__ == name
    assert type(c.grad_fn).__name__ == name


def test_einsum_implicit_order_and_int():
    a = np.arange(6).reshape(2, 3)
    for eq in ("ij", "ji", "ij->", "Ba,aC", "a,B"):
        n_ops = eq.split("->")[0].count(",") + 1
        if n_ops == 1:
            args = [a]
        elif eq == "a,B":
            args = [np.arange(2), np.arange(3)]
        else:
            args = [a, a.T]
        rc = cr.einsum(eq, *[cr.tensor(x) for x in args])
        rt = torch.einsum(eq, *[torch.tensor(x) for x in args])
        assert rc.dtype == cr.int64
        np.testing.assert_array_equal(rc.numpy(), rt.numpy())


@pytest.mark.parametrize("eq, shapes, msg", [
    ("ij,jk", [(2, 3)], "fewer operands"),
    ("ij->ii", [(2, 3)], "appears more than once in the output"),
    ("ij->k", [(2, 3)], "does not appear in the equation"),
    ("ii->i", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match"),
    ("ij,jk", [(2, 3), (4, 4)], "does not broadcast"),
    ("ij1", [(2, 3)], "subscripts must be in [a-zA-Z]"),
    ("ijk", [(2, 3)], "does not match the number of dimensions"),
])
def test_einsum_errors(eq, shapes, msg):
    with pytest.raises(RuntimeError) as ec:
        cr.einsum(eq, *[cr.ones(s) for s in shapes])
    with pytest.raises(RuntimeError):
        torch.einsum(eq, *[torch.ones(s) for s in shapes])
    assert msg in str(ec.value)
    assert "einsum()" in str(ec.value)


def test_einsum_third_order():
    # einsum's VJP is an einsum with constant ones/eye operands: derivatives of any order
    a0 = np.array([[1.0, 2.0], [3.0, 5.0]])
    fc = lambda m, a: m.einsum("ij,jk,ki->", a, a, a)   # trace(A^3): d3/dA3 is constant
    xs = []
    for m in (cr, torch):
        a = m.tensor(a0, dtype=m.float64, requires_grad=True)
        y = fc(m, a)
        (g,) = m.autograd.grad(y, a, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), a, create_graph=True)
        (k,) = m.autograd.grad(h.sum(), a)
        xs.append([g.detach().numpy(), h.detach().numpy(), k.numpy()])
    for u, v in zip(*xs):
        np.testing.assert_allclose(u, v, rtol=1e-10)


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(2, 3), (3, 2)]),
                                        ("i,i->", [(3,), (3,)]),
                                        ("bij,bkj->bik", [(2, 3, 4), (2, 2, 4)])])
def test_einsum_operand_changed_in_place_like_torch(eq, shapes):
    # an operand's rule reads the other operands only: changing an operand in place after
    # einsum is an error only when the *other* operand needs a gradient, as in PyTorch.
    # (Two operands: PyTorch contracts three or more pairwise, so what it saves depends on
    # its contraction order; chainrule's single node is stricter there.)
    rng = np.random.default_rng(1)
    vals = [rng.standard_normal(s) for s in shapes]
    for needs in range(1, 2 ** len(shapes)):
        for changed in range(len(shapes)):
            res = []
            for m in (cr, torch):
                leaves = [m.tensor(v, requires_grad=bool(needs >> k & 1))
                          for k, v in enumerate(vals)]
                ops = [x * 1.0 for x in leaves]         # non-leaves: changeable in place
                y = m.einsum(eq, *ops)
                ops[changed].mul_(2.0)
                try:
                    y.sum().backward()
                    res.append(("ok", [None if x.grad is None else x.grad.numpy()
                                       for x in leaves]))
                except RuntimeError as e:
                    assert "modified by an inplace operation" in str(e)
                    res.append(("raised", None))
            assert res[0][0] == res[1][0], (needs, changed, res)
            if res[0][0] == "ok":
                for u, v in zip(res[0][1], res[1][1]):
                    assert (u is None) == (v is None)
                    if u is not None:
                        np.testing.assert_allclose(u, v, rtol=1e-12)


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
    (lambda m: m.trace(m.ones(2, 2, 2)), RuntimeError),
    (lambda m: m.diag(m.ones(2, 2, 2)), RuntimeError),
    (lambda m: m.tril(m.ones(3)), RuntimeError),
    (lambda m: m.outer(m.ones(2, 2), m.ones(2)), RuntimeError),
    (lambda m: m.tensordot(m.ones(2, 3), m.ones(4, 2), dims=([1], [0])), RuntimeError),
    (lambda m: m.linalg.vector_norm(m.tensor([1, 2])), RuntimeError),
    (lambda m: m.linalg.norm(m.ones(2, 2, 2), 1), RuntimeError),
    (lambda m: m.linalg.matrix_norm(m.ones(2, 2), 3), RuntimeError),
    (lambda m: m.linalg.solve(m.eye(2, dtype=m.float64), m.ones(2)), RuntimeError),
    (lambda m: m.tensordot(m.ones(2, 2), m.ones(2, 2, dtype=m.float64)), RuntimeError),
    (lambda m: m.einsum("i,i", m.ones(2), m.arange(2)), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc):
        fn(cr)


@pytest.mark.parametrize("fn", [
    lambda m: m.linalg.inv(m.eye(2, dtype=m.int64)),
    lambda m: m.linalg.det(m.eye(2, dtype=m.int32)),
    lambda m: m.linalg.vector_norm(m.ones(2, dtype=m.bool)),
    lambda m: m.linalg.solve(m.eye(2, dtype=m.float64), m.ones(2)),
])
def test_dtype_error_messages_name_torch_scalar_types(fn):
    with pytest.raises(RuntimeError) as et:
        fn(torch)
    with pytest.raises(RuntimeError) as ec:
        fn(cr)
    assert str(ec.value).startswith(str(et.value))


def _adjugate_t(a):
    """The transposed adjugate (cofactor matrix) of a square matrix: d det(A) / dA."""
    n = a.shape[0]
    cof = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            cof[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return cof


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


def test_norm_gradient_at_zero_is_zero():
    for ord in (2, 1, 3, INF):
        x = cr.zeros(3, dtype=cr.float64, requires_grad=True)
        cr.linalg.vector_norm(x, ord).backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))
    x = cr.zeros(2, 2, requires_grad=True)
    cr.linalg.norm(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 2)))


def test_norm_inf_ties_split_evenly():
    vals = np.array([3.0, -3.0, 1.0])
    gs = []
    for m in (cr, torch):
        x = m.tensor(vals, dtype=m.float64, requires_grad=True)
        m.linalg.vector_norm(x, INF).backward()
        gs.append(x.grad.numpy())
    np.testing.assert_allclose(gs[0], gs[1])
    np.testing.assert_allclose(gs[0], [0.5, -0.5, 0.0])


def test_inplace_triangles():
    for m in (cr, torch):
        x = m.ones(3, 3)
        assert x.tril_(-1) is x
        y = m.ones(2, 3).triu_(1)
        assert x.sum().item() == 3.0 and y.tolist() == [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]


@pytest.mark.parametrize("args, exc", [
    (lambda a: (a, [0, 60]), ValueError),
    (lambda a: (a, [0, "x"]), TypeError),
    (lambda a: (a, [0, 1], [1, 0, 2]), RuntimeError),
])
def test_einsum_sublist_errors_like_torch(args, exc):
    for m in (cr, torch):
        with pytest.raises(exc):
            m.einsum(*args(m.ones(2, 3)))
