"""Norms (ops/linalg_norms.py): torch.norm, linalg.vector_norm, linalg.matrix_norm, linalg.norm
against PyTorch and finite differences: the OpCase rows (value, VJP, JVP, second order in
float64, float32 preservation) and the checks beyond the table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


INF = float("inf")


def _away_from_zero(shape):
    return lambda r: [r.uniform(0.5, 2.0, shape) * r.choice([-1.0, 1.0], shape)]


def _both(fn):
    return fn(cr), fn(torch)


CASES = [
    OpCase("norm", lambda m, a: a.norm(), [(3, 2)], op="norm"),
    OpCase("norm_dim", lambda m, a: m.norm(a, dim=1), [(3, 2)], op="norm"),
    OpCase("norm_p1", lambda m, a: m.norm(a, p=1), [(4,)], op="norm"),
    OpCase("norm_p3", lambda m, a: m.norm(a, p=3, dim=0, keepdim=True), [(4, 2)], op="norm"),
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
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m: m.linalg.vector_norm(m.ones(2, requires_grad=True)),
         "LinalgVectorNormBackward0"),
])
def test_grad_fn_names(make, name):
    c, t = _both(make)
    assert type(t.grad_fn).__name__ == name
    assert type(c.grad_fn).__name__ == name


@pytest.mark.parametrize("fn, exc", [
    (lambda m: m.linalg.vector_norm(m.tensor([1, 2])), RuntimeError),
    (lambda m: m.linalg.norm(m.ones(2, 2, 2), 1), RuntimeError),
    (lambda m: m.linalg.matrix_norm(m.ones(2, 2), 3), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc):
        fn(cr)


@pytest.mark.parametrize("fn", [
    lambda m: m.linalg.vector_norm(m.ones(2, dtype=m.bool)),
])
def test_dtype_error_messages_name_torch_scalar_types(fn):
    with pytest.raises(RuntimeError) as et:
        fn(torch)
    with pytest.raises(RuntimeError) as ec:
        fn(cr)
    assert str(ec.value).startswith(str(et.value))


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
