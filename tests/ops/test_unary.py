"""Elementwise math of one tensor (ops/unary.py): exp/log families, sqrt, rsqrt, square,
reciprocal, trigonometric and hyperbolic functions, abs, sign against PyTorch and finite
differences: the OpCase rows (value, VJP, JVP, second order in float64, float32
preservation) and the checks beyond the table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


P = (0.3, 2.0)         # positive domain (log, sqrt, ...)


def fn(name):
    return lambda m: getattr(m.nn.functional, name)


U = (-0.85, 0.85)       # inside (-1, 1), away from the ends


def _away_from_zero(r, shape, lo=0.5, hi=2.0):
    return r.uniform(lo, hi, shape) * r.choice([-1.0, 1.0], shape)


FLOAT_FROM_INT = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "log1p",
                  "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal", "erf"]


CASES = [
    # unary math
    OpCase("exp", lambda m, a: m.exp(a), [(2, 3)], op="exp"),
    OpCase("log", lambda m, a: m.log(a), [(2, 3)], domain=P, op="log"),
    OpCase("sin", lambda m, a: m.sin(a), [(5,)], op="sin"),
    OpCase("cos", lambda m, a: a.cos(), [(5,)], op="cos"),
    OpCase("tanh", lambda m, a: m.tanh(a), [(2, 2)], op="tanh"),
    OpCase("abs", lambda m, a: m.abs(a), [(6,)], op="abs"),
    OpCase("sqrt", lambda m, a: m.sqrt(a), [(4,)], domain=P, op="sqrt"),
    OpCase("sign", lambda m, a: m.sign(a) * a, [(4,)], op="sign"),
    OpCase("F_tanh", lambda m, a: fn("tanh")(m)(a), [(6,)], op="tanh"),
    # tanh's VJP as an op (its derivatives are what a derivative of a derivative runs)
    OpCase("tanh_backward", lambda m, g, y: (torch.ops.aten.tanh_backward if m is torch else
                                            cr.ops.unary.tanh_backward)(g, y),
           [(2, 3), (2, 3)], domain=(-1, 1), op="tanh_backward"),
    OpCase("tan", lambda m, a: m.tan(a), [(2, 3)], domain=(-1.2, 1.2), op="tan"),
    OpCase("tan_0d", lambda m, a: a.tan(), [()], domain=(-1, 1), op="tan"),
    OpCase("asin", lambda m, a: m.asin(a), [(5,)], domain=U, op="asin"),
    OpCase("arcsin", lambda m, a: m.arcsin(a), [(2, 2)], domain=U, op="asin"),
    OpCase("acos", lambda m, a: m.acos(a), [(5,)], domain=U, op="acos"),
    OpCase("acos_0d", lambda m, a: a.acos(), [()], domain=U, op="acos"),
    OpCase("atan", lambda m, a: m.atan(a), [(2, 3)], domain=(-3, 3), op="atan"),
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
    # compositions: chains of the new rules, second order through each
    OpCase("chain", lambda m, a: m.atan(m.sinh(a)) * m.log1p(m.square(a)), [(4,)],
           op="atan"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("name", FLOAT_FROM_INT + ["square", "round"])
def test_integer_input_dtype(name):
    for dt in ("int64", "int32"):
        data = [1, 2, 3] if name not in ("asin", "acos", "atanh") else [0, 0]
        a = getattr(cr, name)(cr.tensor(data, dtype=getattr(cr, dt)))
        b = getattr(torch, name)(torch.tensor(data, dtype=getattr(torch, dt)))
        assert str(a.dtype) == str(b.dtype), (name, dt)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", FLOAT_FROM_INT + ["square", "round", "atan2"])
def test_node_names(name):
    xs = [cr.tensor([0.3, 0.5], requires_grad=True)]
    ts = [torch.tensor([0.3, 0.5], requires_grad=True)]
    if name == "atan2":
        xs.append(xs[0])
        ts.append(ts[0])
    assert getattr(cr, name)(*xs).grad_fn.name() == getattr(torch, name)(*ts).grad_fn.name()


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
