"""Floor division, remainder, fmod and the newer elementwise ops (hypot, copysign, xlogy,
logit, lerp, nan_to_num, sinc) and median: op rows against PyTorch and finite differences,
plus exactness regressions (integer arithmetic, large floats, -0.0/inf/nan), Python-int
overflow and construction range checks."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def _away(r, shape, lo=0.5, hi=2.0):
    return r.uniform(lo, hi, shape) * r.choice([-1.0, 1.0], shape)


def _ratio_ok(r, b, shape):
    """Dividends ``a`` whose quotient ``a / b`` is well inside an integer interval (so
    floor/trunc do not jump within the finite-difference step)."""
    k = r.integers(-3, 4, shape).astype(float)
    return (k + r.uniform(0.15, 0.85, shape)) * b


def _mk_div(sa, sb):
    def make(r):
        b = _away(r, sb)
        a = _ratio_ok(r, np.broadcast_to(b, np.broadcast_shapes(sa, sb)),
                      np.broadcast_shapes(sa, sb))
        return [a, b]
    return make


def _mk_scalar_div(shape, c):
    return lambda r: [_ratio_ok(r, c, shape)]


def _logit_eps_input(r, shape, eps=0.2):
    x = r.uniform(0.02, 0.98, shape)
    near = (np.abs(x - eps) < 0.03) | (np.abs(x - (1 - eps)) < 0.03)
    return np.where(near, 0.5, x)


CASES = [
    OpCase("remainder", lambda m, a, b: m.remainder(a, b), [(2, 3), (3,)], op="remainder",
           make=_mk_div((2, 3), (3,))),
    OpCase("remainder_op", lambda m, a, b: a % b, [(4,), (4,)], op="remainder",
           make=_mk_div((4,), (4,))),
    OpCase("remainder_scalar", lambda m, a: a % 1.5, [(5,)], op="remainder_scalar",
           make=_mk_scalar_div((5,), 1.5)),
    OpCase("remainder_scalar_neg", lambda m, a: m.remainder(a, -1.5), [(5,)],
           op="remainder_scalar", make=_mk_scalar_div((5,), -1.5)),
    OpCase("fmod", lambda m, a, b: m.fmod(a, b), [(2, 3), (3,)], op="fmod",
           make=_mk_div((2, 3), (3,))),
    OpCase("fmod_scalar", lambda m, a: a.fmod(-1.5), [(5,)], op="fmod_scalar",
           make=_mk_scalar_div((5,), -1.5)),
    # zero gradient of div(rounding_mode=...): multiplied by a so that a gradient flows
    OpCase("div_floor", lambda m, a, b: m.div(a, b, rounding_mode="floor") * a,
           [(2, 3), (3,)], op="div_rounding", make=_mk_div((2, 3), (3,))),
    OpCase("div_trunc", lambda m, a, b: m.div(a, b, rounding_mode="trunc") * b,
           [(4,), (4,)], op="div_rounding", make=_mk_div((4,), (4,))),
    # floor_divide has no derivative in PyTorch (backward raises): values only
    OpCase("floor_divide", lambda m, a, b: a // b, [(2, 3), (3,)], op="floor_divide",
           make=_mk_div((2, 3), (3,)), grad=False, fwd=False, second=False),
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
    OpCase("xlogy_scalar", lambda m, a: m.xlogy(a, 2.5), [(4,)], op="xlogy"),
    OpCase("xlogy_scalar_self", lambda m, b: m.xlogy(1.5, b), [(4,)], op="xlogy",
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
    OpCase("median", lambda m, a: m.median(a), [(7,)], op="median"),
    OpCase("median_2d", lambda m, a: a.median() * a, [(2, 3)], op="median"),
    OpCase("median_dim", lambda m, a: m.median(a, 1).values, [(3, 4)], op="median_dim"),
    OpCase("median_dim_keep", lambda m, a: m.median(a, 0, keepdim=True).values, [(5, 2)],
           op="median_dim"),
]

test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


def _same(c, t):
    assert str(c.dtype) == str(t.dtype), (c.dtype, t.dtype)
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_array_equal(c.numpy(), t.numpy())
    # -0.0 against 0.0 too (a nan's sign bit is not compared)
    cn, tn = c.numpy(), t.numpy()
    if cn.dtype.kind == "f":
        keep = ~np.isnan(tn)
        np.testing.assert_array_equal(np.signbit(cn[keep]), np.signbit(tn[keep]))


# --- exactness: integer arithmetic, large floats, special values ------------------------------

SPECIAL_A = [-0.0, 0.0, 5.0, -5.0, float("inf"), float("nan"), 3.0, -3.0, 1e9, -1e9, 7.5]
SPECIAL_B = [3.0, -3.0, float("inf"), float("inf"), 2.0, 2.0, 0.0, 0.0, 7.0, 7.0, -2.5]


@pytest.mark.parametrize("fn", [
    lambda m, a, b: a // b, lambda m, a, b: a % b, lambda m, a, b: m.fmod(a, b),
    lambda m, a, b: m.floor_divide(a, b), lambda m, a, b: m.remainder(a, b),
    lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    lambda m, a, b: m.div(a, b, rounding_mode="trunc")],
    ids=["floordiv", "mod", "fmod", "floor_divide", "remainder", "div_floor", "div_trunc"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_division_special_values_match_torch(fn, dtype):
    a, b = SPECIAL_A, SPECIAL_B
    c = fn(cr, cr.tensor(a, dtype=getattr(cr, dtype)), cr.tensor(b, dtype=getattr(cr, dtype)))
    t = fn(torch, torch.tensor(a, dtype=getattr(torch, dtype)),
           torch.tensor(b, dtype=getattr(torch, dtype)))
    _same(c, t)


def test_large_float_remainder_is_accurate():
    # was 64: the remainder went through a - floor(a / b) * b
    _same(cr.tensor([1e9]) % 7, torch.tensor([1e9]) % 7)
    assert (cr.tensor([1e9]) % 7).item() == 6.0


INT_A = [16777217, -16777217, 2 ** 62 + 1, -(2 ** 62) - 1, 7, -7, 0, -2 ** 63]
INT_B = [1, 3, 3, -3, 2, 2, -5, 1]


@pytest.mark.parametrize("fn", [
    lambda m, a, b: a // b, lambda m, a, b: a % b, lambda m, a, b: m.fmod(a, b),
    lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    lambda m, a, b: m.div(a, b, rounding_mode="trunc")],
    ids=["floordiv", "mod", "fmod", "div_floor", "div_trunc"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8"])
def test_integer_division_is_exact(fn, dtype):
    info = np.iinfo(dtype)
    pairs = [(a, b) for a, b in zip(INT_A, INT_B) if info.min <= a <= info.max and
             info.min <= b <= info.max]
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    c = fn(cr, cr.tensor(a, dtype=getattr(cr, dtype)), cr.tensor(b, dtype=getattr(cr, dtype)))
    t = fn(torch, torch.tensor(a, dtype=getattr(torch, dtype)),
           torch.tensor(b, dtype=getattr(torch, dtype)))
    _same(c, t)


def test_integer_regressions_from_the_issue():
    # 2**24 + 1 went through float32
    assert (cr.tensor([16777217]) // 1).tolist() == [16777217]
    # a remainder came out negative
    assert (cr.tensor([2 ** 62 + 1]) % 3).tolist() == [2]
    assert (cr.tensor([-2 ** 63]) // -1).tolist() == [-2 ** 63]      # wraps, as in PyTorch


@pytest.mark.parametrize("expr", [
    "t // 2", "t % 2", "7 % t", "7 // t", "t % 2.5", "t // 2.5", "7.5 // t", "-7.5 % t",
    "m.remainder(5, t)", "m.fmod(t, 3)", "m.fmod(t, -2.5)", "t.float() % 3",
    "t.double() // m.tensor(2)", "t.int() // m.tensor(2)", "t.int() % 2",
    "m.div(t, 2, rounding_mode='floor')", "m.div(t, 2., rounding_mode='trunc')",
    "m.div(5, 2, rounding_mode='floor')", "m.tensor(7) // m.tensor(-2)",
    "m.tensor([5], dtype=m.int8) % m.tensor([3], dtype=m.int32)"])
def test_python_scalars_and_promotion(expr):
    def run(m):
        t = m.tensor([7, -7, 3, -3])
        return eval(expr, {"m": m, "t": t})
    _same(run(cr), run(torch))


@pytest.mark.parametrize("expr", [
    "t // 0", "t % 0", "m.fmod(t, 0)", "m.div(t, 0, rounding_mode='floor')",
    "m.div(t, 0, rounding_mode='trunc')", "t // m.tensor([1, 0])", "5 % m.tensor([0, 1])",
    "m.tensor([True]) // m.tensor([True])", "m.tensor([True]) % m.tensor([True])",
    "m.div(t, 2, rounding_mode='round')", "m.fmod(5, t)"])
def test_division_errors_match_torch(expr):
    def run(m):
        t = m.tensor([5, 6])
        return eval(expr, {"m": m, "t": t})
    with pytest.raises(Exception) as et:
        run(torch)
    with pytest.raises(type(et.value)) as ec:
        run(cr)
    if "ZeroDivisionError" in str(et.value):
        assert "ZeroDivisionError" in str(ec.value)


def test_inplace_floordiv_and_mod():
    for m in (cr, torch):
        t = m.tensor([7, -7])
        t //= 2
        assert t.tolist() == [3, -4]
        t = m.tensor([7, -7])
        t %= 3
        assert t.tolist() == [1, 2]
        t = m.tensor([7.5, -7.5])
        t %= 2
        assert t.tolist() == [1.5, 0.5]
        t = m.tensor([7])
        with pytest.raises(RuntimeError, match="can't be cast"):
            t %= 2.5
        t = m.tensor([-7.0])
        t.fmod_(2)
        assert t.tolist() == [-1.0]


def test_gradients_of_division_ops_match_torch():
    def grads(m, fn):
        a = m.tensor([5.0, -3.0, 7.5], dtype=m.float64, requires_grad=True)
        b = m.tensor([3.0, 2.0, -2.0], dtype=m.float64, requires_grad=True)
        out = fn(m, a, b)
        out.backward(m.ones_like(out))
        return out.grad_fn.name(), a.grad, b.grad
    for fn in (lambda m, a, b: m.remainder(a, b), lambda m, a, b: m.fmod(a, b),
               lambda m, a, b: m.div(a, b, rounding_mode="floor") + a * 0,
               lambda m, a, b: a % 2.0):
        nc, gac, gbc = grads(cr, fn)
        nt, gat, gbt = grads(torch, fn)
        np.testing.assert_array_equal(gac.numpy(), gat.numpy())
        assert (gbc is None) == (gbt is None)
        if gbt is not None:
            np.testing.assert_array_equal(gbc.numpy(), gbt.numpy())
    # the node names
    a = cr.tensor([5.0], requires_grad=True)
    assert (a % 2).grad_fn.name() == "RemainderBackward0"
    assert cr.remainder(a, a).grad_fn.name() == "RemainderBackward1"
    assert cr.fmod(a, 2).grad_fn.name() == "FmodBackward0"
    assert cr.div(a, 2, rounding_mode="floor").grad_fn.name() == "DivBackward2"


def test_floor_divide_has_no_derivative_as_in_torch():
    for m in (cr, torch):
        a = m.tensor([5.0, -3.0], requires_grad=True)
        out = a // 2
        assert out.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not "
                                               "implemented"):
            out.sum().backward()
    import chainrule.autograd.forward_ad as fw
    with fw.dual_level():
        d = fw.make_dual(cr.tensor([5.0]), cr.tensor([1.0]))
        with pytest.raises(NotImplementedError):
            d // 2


# --- Python ints too big, values out of a dtype's range ------------------------------------

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


# --- the new ops: special points and dtypes ------------------------------------------------

def _grads(m, fn, *xs):
    ts = [m.tensor(x, dtype=m.float64, requires_grad=True) for x in xs]
    y = fn(m, *ts)
    y.backward(m.ones_like(y))
    return [y.detach()] + [t.grad for t in ts]


NAN, INF = float("nan"), float("inf")


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
    (lambda m, a: m.median(a), ([3., 1., 1., 4.],)),
    (lambda m, a: m.median(a), ([3., 1., NAN, 4.],)),
    (lambda m, a: m.median(a, 0).values, ([3., 1., NAN, 4., NAN],)),
], ids=["hypot_origin", "copysign_zeros", "copysign_scalar", "xlogy_zeros", "xlogy_scalar",
        "xlogy_zero_self", "logit_outside", "logit_eps", "sinc_zero", "nan_to_num",
        "nan_to_num_values", "lerp_one", "lerp_tensor", "median_tie", "median_nan",
        "median_dim_nan"])
def test_special_points_value_and_gradient_match_torch(fn, xs):
    for c, t in zip(_grads(cr, fn, *xs), _grads(torch, fn, *xs)):
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("expr", [
    "m.copysign(m.tensor([3]), m.tensor([-4]))", "m.copysign(m.tensor([3]), -1)",
    "m.xlogy(m.tensor([3]), m.tensor([4]))", "m.xlogy(3, m.tensor([4]))",
    "m.xlogy(m.tensor([3]), 4)", "m.xlogy(m.tensor([3.], dtype=m.float64), 4)",
    "m.logit(m.tensor([0, 1]))", "m.sinc(m.tensor([0, 1]))",
    "m.nan_to_num(m.tensor([1, 2]))", "m.nan_to_num(m.tensor([INF, -INF], dtype=m.float16))",
    "m.nan_to_num(m.tensor([INF, -INF]))", "m.tensor([1.]).lerp(m.tensor([3.]), 2)",
    "m.lerp(m.tensor([1.]), m.tensor([3.]), m.tensor(0.5, dtype=m.float64))",
    "m.median(m.tensor([3, 1, 2, 4]))", "m.median(m.tensor([[1, 2], [3, 4]]), 0).values",
    "m.median(m.tensor([[1, 2], [3, 4]]), 0).indices", "m.median(m.tensor(5.))",
    "m.median(m.tensor(5.), 0).indices", "m.median(m.tensor([]))",
    "m.median(m.zeros(0, 3), 1).values", "m.median(m.zeros(3, 0), 0).indices",
    "m.median(m.tensor([[3., 1., 2.], [1., 5., 1.]]), 1, keepdim=True).indices",
    "m.tensor([0.5]).logit_()", "m.tensor([NAN]).nan_to_num_()",
    "m.tensor([3.]).hypot_(m.tensor([4.]))"])
def test_new_op_values_and_dtypes(expr):
    _same(eval(expr, {"m": cr, "INF": INF, "NAN": NAN}),
          eval(expr, {"m": torch, "INF": INF, "NAN": NAN}))


@pytest.mark.parametrize("expr", [
    "m.hypot(m.tensor([3]), m.tensor([4]))", "m.hypot(m.tensor([3.]), 4.)",
    "m.copysign(3., m.tensor([-1.]))", "m.lerp(m.tensor([1]), m.tensor([3]), 0.5)",
    "m.lerp(m.tensor([1.]), m.tensor([3.], dtype=m.float64), 0.5)",
    "m.lerp(m.tensor([1.]), m.tensor([3.]), m.tensor([0.5], dtype=m.float64))",
    "m.lerp(m.tensor([1.]), 3., 0.5)", "m.median(m.zeros(0, 3), 0)",
    "m.median(m.zeros(2, 3), 2)"])
def test_new_op_errors_match_torch(expr):
    with pytest.raises(Exception) as et:
        eval(expr, {"m": torch})
    with pytest.raises(type(et.value)):
        eval(expr, {"m": cr})


def test_median_returns_named_tuple():
    r = cr.median(cr.tensor([[3., 1., 2.], [6., 5., 4.]]), dim=1)
    assert isinstance(r, cr.return_types.median)
    assert r.values.tolist() == [2., 5.] and r.indices.tolist() == [2, 1]
