"""Arithmetic (ops/arithmetic.py): add, sub, rsub, mul, div, neg, pow, their in-place forms,
alpha=, and Python-int range checks against PyTorch and finite differences: the OpCase rows
(value, VJP, JVP, second order in float64, float32 preservation) and the checks beyond the
table."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests
from oplib import assert_same as _same


P = (0.3, 2.0)         # positive domain (log, sqrt, ...)


def _inplace(a, op):
    """Apply an in-place op to a non-leaf copy of ``a`` and return the modified tensor."""
    y = a * 1.0
    r = op(y)
    assert r is y
    return y


CASES = [
    # arithmetic, with broadcasting and 0-d inputs
    OpCase("add", lambda m, a, b: a + b, [(3,), (3,)], op="add"),
    OpCase("add_bcast", lambda m, a, b: a + b, [(2, 3), (3,)], op="add"),
    OpCase("add_bcast2", lambda m, a, b: a + b, [(2, 1), (1, 3)], op="add"),
    OpCase("add_col", lambda m, a, b: a + b, [(2, 3), (2, 1)], op="add"),
    OpCase("add_0d", lambda m, a, b: a + b, [(), (2, 3)], op="add"),
    OpCase("add_scalar", lambda m, a: 2.5 + a, [(3,)], op="add"),
    OpCase("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.0), [(3,), (3,)], op="add"),
    OpCase("sub", lambda m, a, b: a - b, [(2, 3), (2, 1)], op="sub"),
    OpCase("sub_bcast", lambda m, a, b: a - b, [(2, 3), (3,)], op="sub"),
    OpCase("sub_0d", lambda m, a, b: a - b, [(2, 3), ()], op="sub"),
    OpCase("rsub", lambda m, a: 1.0 - a, [(3,)], op="rsub"),
    OpCase("rsub_alpha", lambda m, a: m.rsub(a * a, 2, alpha=3), [(2, 3)], op="rsub"),
    OpCase("rsub_0d", lambda m, a: 2 - a, [()], op="rsub"),
    OpCase("mul", lambda m, a, b: a * b, [(2, 3), (3,)], op="mul"),
    OpCase("mul_0d", lambda m, a, b: a * b, [(), ()], op="mul"),
    OpCase("mul_scalar", lambda m, a: a * 3.0, [(4,)], op="mul"),
    OpCase("div", lambda m, a, b: a / b, [(2, 3), (3,)], op="div",
           make=lambda r: [r.uniform(-2, 2, (2, 3)), r.uniform(0.5, 2, (3,))]),
    OpCase("rdiv", lambda m, a: 2.0 / a, [(3,)], domain=P, op="div"),
    OpCase("neg", lambda m, a: -a, [(2, 2)], op="neg"),
    OpCase("rmul", lambda m, a: 3.0 * a, [(2, 2)], op="mul"),
    OpCase("radd_int", lambda m, a: 2 + a, [(3,)], op="add"),
    OpCase("rsub_tensor", lambda m, a, b: b.sum() - a, [(3,), (2,)], op="sub"),
    # in-place forms recorded in the graph (on a non-leaf copy)
    OpCase("iadd", lambda m, a, b: _inplace(a, lambda y: y.__iadd__(b)), [(2, 3), (3,)],
           op="add"),
    OpCase("isub", lambda m, a, b: _inplace(a, lambda y: y.__isub__(b)), [(2, 3), (2, 1)],
           op="sub"),
    OpCase("imul", lambda m, a, b: _inplace(a, lambda y: y.__imul__(b)), [(2, 3), (3,)],
           op="mul"),
    OpCase("idiv", lambda m, a, b: _inplace(a, lambda y: y.__itruediv__(b)), [(3,), (3,)],
           op="div", make=lambda r: [r.uniform(-2, 2, (3,)), r.uniform(0.5, 2, (3,))]),
    OpCase("ipow", lambda m, a: _inplace(a, lambda y: y.__ipow__(3)), [(4,)], op="pow"),
    OpCase("ipow_tensor", lambda m, a, b: _inplace(a, lambda y: y.__ipow__(b)), [(3,), (3,)],
           op="pow_tensor", make=lambda r: [r.uniform(0.5, 2, (3,)), r.uniform(-1, 1, (3,))]),
    OpCase("pow_scalar", lambda m, a: a ** 3, [(3,)], op="pow"),
    OpCase("pow_frac", lambda m, a: a ** 2.5, [(3,)], domain=P, op="pow"),
    OpCase("pow_neg", lambda m, a: a ** -1.5, [(3,)], domain=P, op="pow"),
    OpCase("pow_fn", lambda m, a: m.pow(a, 2), [(2, 2)], op="pow"),
    OpCase("pow_tensor", lambda m, a, b: a ** b, [(2, 3), (3,)], op="pow_tensor",
           make=lambda r: [r.uniform(0.5, 2, (2, 3)), r.uniform(-2, 2, (3,))]),
    OpCase("rpow", lambda m, a: 2.0 ** a, [(3,)], op="pow_scalar_base"),
    OpCase("rpow_fn", lambda m, a: m.pow(0.5, a), [(2, 2)], op="pow_scalar_base"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("base", [0, 0.0, -2.0, 3])
def test_number_to_tensor_power_edges_like_torch(base):
    # d(base**x)/dx = base**x log(base), 0 where base == 0 and x >= 0; NaN for a negative
    # base; first and second order, bit for bit with PyTorch (NaN and inf included)
    res = []
    for m in (cr, torch):
        x = m.tensor([-1.0, 0.0, 2.0], dtype=m.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            y = base ** x
            g, = m.autograd.grad(y.sum(), x, create_graph=True)
            g2, = m.autograd.grad(g.sum(), x)
        res.append([v.detach().numpy() for v in (y, g, g2)])
    for mine, ref in zip(*res):
        np.testing.assert_array_equal(mine, ref)


def test_alpha_rules_like_torch():
    # a float alpha is refused when the result would be integral (even alpha=1.0); a
    # Python-number operand scaled by alpha stays weak in type promotion
    for f in (lambda m, x: m.add(x, 2, alpha=1.0), lambda m, x: m.sub(x, x, alpha=2.0),
              lambda m, x: m.rsub(x, 2, alpha=1.5)):
        with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
            f(cr, cr.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
            f(torch, torch.tensor([1, 2]))
    for f in (lambda m, x: m.add(x, 2.5, alpha=1.5), lambda m, x: m.sub(x, 2, alpha=3),
              lambda m, x: m.rsub(x, 2.5, alpha=2), lambda m, x: 1.5 - x, lambda m, x: 3 - x,
              lambda m, x: m.rsub(x.double(), 2, alpha=0.5)):
        a, b = f(cr, cr.tensor([1, 2])), f(torch, torch.tensor([1, 2]))
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("expr", [
    "m.tensor([300], dtype=m.int8)", "m.tensor(300, dtype=m.int8)",
    "m.tensor([300.0], dtype=m.int8)", "m.tensor([2**40], dtype=m.int32)",
    "m.tensor([-1, 256], dtype=m.uint8)", "m.tensor([float('nan')], dtype=m.int32)",
    "m.tensor(2**63)", "m.tensor([2**70])", "m.tensor([1, 2**64])", "m.tensor(-2**63 - 1)",
    "m.full((2,), 2**40, dtype=m.int32)", "m.full((2,), 300, dtype=m.uint8)",
    "m.full((2,), 2**63)", "m.full((2,), 2**64)", "m.full((1,), float('inf'), dtype=m.int32)",
    "m.tensor([5]) + 2**64", "m.tensor([5]) * 2**64", "m.tensor([5]) - 2**64",
    "m.tensor([5]) == 2**64", "m.tensor([5]) // 2**64",
    "m.add(m.tensor([1]), m.tensor([3]), alpha=2**70)",
    "m.add(m.tensor([1, 2]), 2, alpha=1.5)", "m.sub(m.tensor([1, 2]), 2, alpha=1.5)",
    "m.add(m.tensor([1, 2]), m.tensor([3, 4]), alpha=True)"])
def test_out_of_range_raises_as_torch(expr):
    with pytest.raises(Exception) as et:
        eval(expr, {"m": torch})
    with pytest.raises(type(et.value)):
        eval(expr, {"m": cr})


@pytest.mark.parametrize("expr", [
    "m.tensor([-1], dtype=m.uint8)", "m.tensor([2**64], dtype=m.float32)",
    "m.tensor(2**70, dtype=m.float64)", "m.tensor([1.0, 2**70])",
    "m.full((1,), -1, dtype=m.uint8)", "m.tensor([5]) + 2**63",
    "m.tensor([5], dtype=m.int32) + 2**40", "m.tensor([5], dtype=m.int8) + 300",
    "m.tensor([5], dtype=m.uint8) - 300", "m.tensor([127], dtype=m.int8)",
    "m.add(m.tensor([1, 2]), m.tensor([0.5, 0.25]), alpha=3)",
    "m.add(m.tensor([1, 2]), m.tensor([0.5, 0.25]), alpha=1.5)",
    "m.add(m.tensor([1, 2]), 2.5, alpha=1.5)", "m.add(m.tensor([1., 2]), 2, alpha=1.5)",
    "m.sub(m.tensor([1, 2]), m.tensor([0.5, 0.25]), alpha=3)",
    "m.add(m.tensor([1], dtype=m.int8), m.tensor([100], dtype=m.int8), alpha=3)",
    # alpha applies after promotion: 2**24 + 1 is first rounded to float32, then tripled
    "m.add(m.tensor([1.]), m.tensor([2**24 + 1]), alpha=3)",
    "m.sub(m.tensor([1.]), m.tensor([2**24 + 1]), alpha=3)",
    "m.add(m.tensor([2**24 + 1]), m.tensor([0.0], dtype=m.float64), alpha=2)",
    # bool results: alpha acts as a bool
    "m.add(m.tensor([True, False]), m.tensor([True, True]), alpha=2)",
    "m.add(m.tensor([True, False]), m.tensor([True, True]), alpha=0)",
    "m.add(m.tensor([True, False]), m.tensor([True, True]), alpha=False)",
    "m.add(m.tensor([True, False]), m.tensor([True, True]), alpha=True)"])
def test_in_range_values_match_torch(expr):
    _same(eval(expr, {"m": cr}), eval(expr, {"m": torch}))
