"""Special functions (ops/special.py): erf, atan2, hypot, copysign, xlogy, logit, sinc,
nan_to_num, lerp against PyTorch and finite differences: the OpCase rows (value, VJP, JVP,
second order in float64, float32 preservation) and the checks beyond the table."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr
from oplib import OpCase, check_jvp, check_value, check_vjp, table_tests
from oplib import assert_same as _same, grads_of_ones as _grads


def _away_from_zero(r, shape, lo=0.5, hi=2.0):
    return r.uniform(lo, hi, shape) * r.choice([-1.0, 1.0], shape)


def _away(r, shape, lo=0.5, hi=2.0):
    return r.uniform(lo, hi, shape) * r.choice([-1.0, 1.0], shape)


def _logit_eps_input(r, shape, eps=0.2):
    x = r.uniform(0.02, 0.98, shape)
    near = (np.abs(x - eps) < 0.03) | (np.abs(x - (1 - eps)) < 0.03)
    return np.where(near, 0.5, x)


NAN, INF = float("nan"), float("inf")


CASES = [
    OpCase("atan2", lambda m, a, b: m.atan2(a, b), [(4,), (4,)], op="atan2",
           make=lambda r: [r.uniform(-2, 2, 4), _away_from_zero(r, 4)]),
    OpCase("atan2_bcast", lambda m, a, b: m.atan2(a, b), [(2, 3), (3,)], op="atan2",
           make=lambda r: [_away_from_zero(r, (2, 3)), r.uniform(-2, 2, 3)]),
    OpCase("atan2_bcast2", lambda m, a, b: a.atan2(b), [(2, 1), (1, 3)], op="atan2",
           make=lambda r: [_away_from_zero(r, (2, 1)), _away_from_zero(r, (1, 3))]),
    OpCase("atan2_0d", lambda m, a, b: m.atan2(a, b), [(), (3,)], op="atan2",
           make=lambda r: [_away_from_zero(r, ()), _away_from_zero(r, 3)]),
    OpCase("erf", lambda m, a: m.erf(a), [(2, 3)], domain=(-3, 3), op="erf"),
    OpCase("erf_0d", lambda m, a: a.erf(), [()], op="erf"),
    OpCase("hypot", lambda m, a, b: m.hypot(a, b), [(2, 3), (3,)], op="hypot",
           make=lambda r: [_away(r, (2, 3)), _away(r, 3)]),
    OpCase("hypot_method", lambda m, a, b: a.hypot(b), [(4,), ()], op="hypot",
           make=lambda r: [_away(r, 4), _away(r, ())]),
    OpCase("copysign", lambda m, a, b: m.copysign(a, b), [(2, 3), (3,)], op="copysign",
           make=lambda r: [_away(r, (2, 3)), _away(r, 3)]),
    OpCase("copysign_scalar", lambda m, a: m.copysign(a, -1.0), [(5,)],
           op="copysign_scalar", make=lambda r: [_away(r, 5)]),
    OpCase("xlogy", lambda m, a, b: m.xlogy(a, b), [(2, 3), (3,)], op="xlogy",
           make=lambda r: [r.uniform(-2, 2, (2, 3)), r.uniform(0.3, 2, 3)]),
    OpCase("xlogy_scalar", lambda m, a: m.xlogy(a, 2.5), [(4,)], op="xlogy_scalar_other"),
    OpCase("xlogy_scalar_self", lambda m, b: m.xlogy(1.5, b), [(4,)], op="xlogy_scalar_self",
           domain=(0.3, 2)),
    OpCase("logit", lambda m, a: m.logit(a), [(2, 3)], op="logit", domain=(0.05, 0.95)),
    OpCase("logit_eps", lambda m, a: a.logit(eps=0.2), [(8,)], op="logit",
           make=lambda r: [_logit_eps_input(r, 8)]),
    OpCase("sinc", lambda m, a: m.sinc(a), [(2, 3)], op="sinc", domain=(-2.5, 2.5)),
    OpCase("nan_to_num", lambda m, a: m.nan_to_num(a, posinf=1.0) * a, [(5,)],
           op="nan_to_num"),
    OpCase("lerp", lambda m, a, b: m.lerp(a, b, 0.3), [(2, 3), (3,)], op="lerp"),
    OpCase("lerp_far", lambda m, a, b: a.lerp(b, 0.8), [(4,), (4,)], op="lerp"),
    OpCase("lerp_tensor", lambda m, a, b, w: m.lerp(a, b, w), [(2, 3), (3,), (2, 1)],
           op="lerp_tensor", make=lambda r: [r.uniform(-2, 2, (2, 3)), r.uniform(-2, 2, 3),
                                             r.uniform(-0.5, 1.5, (2, 1))]),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


def test_atan2_integers_and_errors():
    a = cr.atan2(cr.tensor([1, -2]), cr.tensor([3, 4]))
    b = torch.atan2(torch.tensor([1, -2]), torch.tensor([3, 4]))
    assert str(a.dtype) == str(b.dtype)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="atan2.*must be Tensor"):
        cr.atan2(cr.tensor([1.0]), 1.0)
    with pytest.raises(RuntimeError, match="atan2"):
        cr.atan2(cr.ones(2, 3), cr.ones(4))


def test_erf_accuracy_float64():
    import math
    x = np.linspace(-6, 6, 2001)
    got = cr.erf(cr.tensor(x, dtype=cr.float64)).numpy()
    want = torch.erf(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-16 * 8, atol=1e-300)
    assert got[1000] == 0.0 and got[-1] == math.erf(6.0)


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_atan2_broadcasting_hypothesis(shapes, seed):
    sa, sb = shapes.input_shapes
    case = OpCase("atan2_hyp", lambda m, a, b: m.atan2(a, b), [sa, sb], op="atan2",
                  make=lambda r: [r.uniform(-2, 2, sa), _away_from_zero(r, sb)])
    check_value(case, seed)
    check_vjp(case, seed)
    check_jvp(case, seed)


@pytest.mark.parametrize("fn,xs", [
    (lambda m, a, b: m.hypot(a, b), ([0., 3., -0.], [0., 4., 2.])),
    (lambda m, a, b: m.copysign(a, b), ([0., -0., 2., -2.], [-1., 1., -0., 0.])),
    (lambda m, a: m.copysign(a, -1.), ([0., -0., 2., -2.],)),
    (lambda m, a, b: m.xlogy(a, b), ([0., 0., 0., 2., 0., 1.], [0., -1., NAN, 3., 2., 0.])),
    (lambda m, a: m.xlogy(a, 2.), ([0., 1.],)),
    (lambda m, b: m.xlogy(0., b), ([0., 2.],)),
    (lambda m, a: m.logit(a), ([-0.1, 0.3, 1.2, 0., 1.],)),
    (lambda m, a: m.logit(a, eps=0.25), ([0.1, 0.25, 0.3, 0.75, 0.9],)),
    (lambda m, a: m.sinc(a), ([0., 0.5, 1., -2.],)),
    (lambda m, a: m.nan_to_num(a), ([NAN, INF, -INF, 1.],)),
    (lambda m, a: m.nan_to_num(a, nan=1., posinf=2., neginf=-3.), ([NAN, INF, -INF, 1.],)),
    (lambda m, a, b: m.lerp(a, b, 1.0), ([1., 2.], [3., 5.])),
    (lambda m, a, b, w: m.lerp(a, b, w), ([1., 2.], [3., 5.], [0.2, 0.8])),
], ids=["hypot_origin", "copysign_zeros", "copysign_scalar", "xlogy_zeros", "xlogy_scalar",
        "xlogy_zero_self", "logit_outside", "logit_eps", "sinc_zero", "nan_to_num",
        "nan_to_num_values", "lerp_one", "lerp_tensor"])
def test_special_points_value_and_gradient_match_torch(fn, xs):
    for c, t in zip(_grads(cr, fn, *xs), _grads(torch, fn, *xs)):
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("expr", [
    "m.copysign(m.tensor([3]), m.tensor([-4]))",
    "m.copysign(m.tensor([3]), -1)",
    "m.xlogy(m.tensor([3]), m.tensor([4]))",
    "m.xlogy(3, m.tensor([4]))",
    "m.xlogy(m.tensor([3]), 4)",
    "m.xlogy(m.tensor([3.], dtype=m.float64), 4)",
    "m.logit(m.tensor([0, 1]))",
    "m.sinc(m.tensor([0, 1]))",
    "m.nan_to_num(m.tensor([1, 2]))",
    "m.nan_to_num(m.tensor([INF, -INF], dtype=m.float16))",
    "m.nan_to_num(m.tensor([INF, -INF]))",
    "m.tensor([1.]).lerp(m.tensor([3.]), 2)",
    "m.lerp(m.tensor([1.]), m.tensor([3.]), m.tensor(0.5, dtype=m.float64))",
    "m.tensor([0.5]).logit_()",
    "m.tensor([NAN]).nan_to_num_()",
    "m.tensor([3.]).hypot_(m.tensor([4.]))",
])
def test_new_op_values_and_dtypes(expr):
    _same(eval(expr, {"m": cr, "INF": INF, "NAN": NAN}),
          eval(expr, {"m": torch, "INF": INF, "NAN": NAN}))


@pytest.mark.parametrize("expr", [
    "m.hypot(m.tensor([3]), m.tensor([4]))",
    "m.hypot(m.tensor([3.]), 4.)",
    "m.copysign(3., m.tensor([-1.]))",
    "m.lerp(m.tensor([1]), m.tensor([3]), 0.5)",
    "m.lerp(m.tensor([1.]), m.tensor([3.], dtype=m.float64), 0.5)",
    "m.lerp(m.tensor([1.]), m.tensor([3.]), m.tensor([0.5], dtype=m.float64))",
    "m.lerp(m.tensor([1.]), 3., 0.5)",
])
def test_new_op_errors_match_torch(expr):
    with pytest.raises(Exception) as et:
        eval(expr, {"m": torch})
    with pytest.raises(type(et.value)):
        eval(expr, {"m": cr})
