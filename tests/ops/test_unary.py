"""Unary math ops (ops/unary.py) against PyTorch and finite differences: value, VJP, JVP
and second order in float64, float32 dtype preservation; plus integer-input dtypes,
error messages and the zero-gradient ops."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, check_jvp, check_value, check_vjp, table_tests

P = (0.3, 2.0)          # positive domain
U = (-0.85, 0.85)       # inside (-1, 1), away from the ends


def _away_from_zero(r, shape, lo=0.5, hi=2.0):
    return r.uniform(lo, hi, shape) * r.choice([-1.0, 1.0], shape)


def _off_half(r, shape, scale=3.0):
    # values whose rounding is unambiguous (fractional part away from .5)
    base = r.integers(-3, 4, shape).astype(float)
    return base + r.uniform(-0.35, 0.35, shape)


CASES = [
    OpCase("tan", lambda m, a: m.tan(a), [(2, 3)], domain=(-1.2, 1.2), op="tan"),
    OpCase("tan_0d", lambda m, a: a.tan(), [()], domain=(-1, 1), op="tan"),
    OpCase("asin", lambda m, a: m.asin(a), [(5,)], domain=U, op="asin"),
    OpCase("arcsin", lambda m, a: m.arcsin(a), [(2, 2)], domain=U, op="asin"),
    OpCase("acos", lambda m, a: m.acos(a), [(5,)], domain=U, op="acos"),
    OpCase("acos_0d", lambda m, a: a.acos(), [()], domain=U, op="acos"),
    OpCase("atan", lambda m, a: m.atan(a), [(2, 3)], domain=(-3, 3), op="atan"),
    OpCase("atan2", lambda m, a, b: m.atan2(a, b), [(4,), (4,)], op="atan2",
           make=lambda r: [r.uniform(-2, 2, 4), _away_from_zero(r, 4)]),
    OpCase("atan2_bcast", lambda m, a, b: m.atan2(a, b), [(2, 3), (3,)], op="atan2",
           make=lambda r: [_away_from_zero(r, (2, 3)), r.uniform(-2, 2, 3)]),
    OpCase("atan2_bcast2", lambda m, a, b: a.atan2(b), [(2, 1), (1, 3)], op="atan2",
           make=lambda r: [_away_from_zero(r, (2, 1)), _away_from_zero(r, (1, 3))]),
    OpCase("atan2_0d", lambda m, a, b: m.atan2(a, b), [(), (3,)], op="atan2",
           make=lambda r: [_away_from_zero(r, ()), _away_from_zero(r, 3)]),
    OpCase("sinh", lambda m, a: m.sinh(a), [(2, 3)], op="sinh"),
    OpCase("cosh", lambda m, a: m.cosh(a), [(2, 3)], op="cosh"),
    OpCase("cosh_0d", lambda m, a: a.cosh(), [()], op="cosh"),
    OpCase("asinh", lambda m, a: m.asinh(a), [(5,)], domain=(-3, 3), op="asinh"),
    OpCase("atanh", lambda m, a: m.atanh(a), [(5,)], domain=U, op="atanh"),
    OpCase("log1p", lambda m, a: m.log1p(a), [(2, 3)], domain=(-0.6, 2), op="log1p"),
    OpCase("expm1", lambda m, a: m.expm1(a), [(2, 3)], op="expm1"),
    OpCase("log2", lambda m, a: m.log2(a), [(4,)], domain=P, op="log2"),
    OpCase("log10", lambda m, a: a.log10(), [(4,)], domain=P, op="log10"),
    OpCase("log10_0d", lambda m, a: m.log10(a), [()], domain=P, op="log10"),
    OpCase("exp2", lambda m, a: m.exp2(a), [(2, 3)], op="exp2"),
    OpCase("rsqrt", lambda m, a: m.rsqrt(a), [(2, 3)], domain=P, op="rsqrt"),
    OpCase("square", lambda m, a: m.square(a), [(2, 3)], op="square"),
    OpCase("square_0d", lambda m, a: a.square(), [()], op="square"),
    OpCase("reciprocal", lambda m, a: m.reciprocal(a), [(5,)], op="reciprocal",
           make=lambda r: [_away_from_zero(r, 5)]),
    OpCase("round", lambda m, a: m.round(a) * a, [(6,)], op="round",
           make=lambda r: [_off_half(r, 6)]),
    OpCase("round_only", lambda m, a: m.round(a), [(2, 3)], op="round",
           make=lambda r: [_off_half(r, (2, 3))]),
    OpCase("round_decimals", lambda m, a: a.round(decimals=1) * a, [(5,)],
           op="round_decimals", make=lambda r: [(_off_half(r, 5) + 0.04) / 10]),
    OpCase("erf", lambda m, a: m.erf(a), [(2, 3)], domain=(-3, 3), op="erf"),
    OpCase("erf_0d", lambda m, a: a.erf(), [()], op="erf"),
    # compositions: chains of the new rules, second order through each
    OpCase("chain", lambda m, a: m.atan(m.sinh(a)) * m.log1p(m.square(a)), [(4,)],
           op="atan"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


# --- dtypes, names, errors -------------------------------------------------------------------

FLOAT_FROM_INT = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "log1p",
                  "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal", "erf"]


@pytest.mark.parametrize("name", FLOAT_FROM_INT + ["square", "round"])
def test_integer_input_dtype(name):
    for dt in ("int64", "int32"):
        data = [1, 2, 3] if name not in ("asin", "acos", "atanh") else [0, 0]
        a = getattr(cr, name)(cr.tensor(data, dtype=getattr(cr, dt)))
        b = getattr(torch, name)(torch.tensor(data, dtype=getattr(torch, dt)))
        assert str(a.dtype) == str(b.dtype), (name, dt)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_atan2_integers_and_errors():
    a = cr.atan2(cr.tensor([1, -2]), cr.tensor([3, 4]))
    b = torch.atan2(torch.tensor([1, -2]), torch.tensor([3, 4]))
    assert str(a.dtype) == str(b.dtype)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="atan2.*must be Tensor"):
        cr.atan2(cr.tensor([1.0]), 1.0)
    with pytest.raises(RuntimeError, match="atan2"):
        cr.atan2(cr.ones(2, 3), cr.ones(4))


@pytest.mark.parametrize("name", FLOAT_FROM_INT + ["square", "round", "atan2"])
def test_node_names(name):
    xs = [cr.tensor([0.3, 0.5], requires_grad=True)]
    ts = [torch.tensor([0.3, 0.5], requires_grad=True)]
    if name == "atan2":
        xs.append(xs[0])
        ts.append(ts[0])
    assert getattr(cr, name)(*xs).grad_fn.name() == getattr(torch, name)(*ts).grad_fn.name()


def test_round_halves_to_even_and_decimals():
    v = [0.5, 1.5, 2.5, -0.5, -1.5, 1.25, 2.675]
    np.testing.assert_array_equal(cr.round(cr.tensor(v)).numpy(),
                                  torch.round(torch.tensor(v)).numpy())
    for d in (2, 1, -1):
        for dt in ("float64", "float32"):
            a = np.array(v + [123.456, 75.0, 85.0], dtype=dt)
            np.testing.assert_array_equal(cr.round(cr.tensor(a), decimals=d).numpy(),
                                          torch.round(torch.tensor(a), decimals=d).numpy())
    x = cr.tensor([0.4, 1.6], requires_grad=True)
    assert cr.round(x, decimals=1).grad_fn.name() == "RoundBackward1"
    cr.round(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_erf_accuracy_float64():
    import math
    x = np.linspace(-6, 6, 2001)
    got = cr.erf(cr.tensor(x, dtype=cr.float64)).numpy()
    want = torch.erf(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-16 * 8, atol=1e-300)
    assert got[1000] == 0.0 and got[-1] == math.erf(6.0)


def test_inplace_methods():
    x = cr.tensor([0.2, 0.4], requires_grad=True)
    y = x * 1
    y.tan_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / np.cos([0.2, 0.4]) ** 2, rtol=1e-6)


def test_second_derivative_of_tan_via_create_graph():
    x = cr.tensor(np.float64(0.7), requires_grad=True)
    (g,) = cr.autograd.grad(cr.tan(x), x, create_graph=True)
    (h,) = cr.autograd.grad(g, x)
    t = np.tan(0.7)
    np.testing.assert_allclose(h.item(), 2 * t * (1 + t * t), rtol=1e-12)


# --- broadcasting shapes drawn by Hypothesis (the binary op of this family) -----------------

from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra.numpy import mutually_broadcastable_shapes  # noqa: E402


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
