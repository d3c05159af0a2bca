"""Rounding and integer division (ops/rounding.py): floor, ceil, trunc, round, frac,
floor_divide, remainder, fmod, div(rounding_mode=); exactness regressions (integer
arithmetic, large floats, -0.0/inf/nan) against PyTorch and finite differences: the OpCase
rows (value, VJP, JVP, second order in float64, float32 preservation) and the checks beyond
the table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests
from oplib import assert_same_on_grid
from oplib import assert_same as _same


def _off_half(r, shape, scale=3.0):
    # values whose rounding is unambiguous (fractional part away from .5)
    base = r.integers(-3, 4, shape).astype(float)
    return base + r.uniform(-0.35, 0.35, shape)


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


SPECIAL_A = [-0.0, 0.0, 5.0, -5.0, float("inf"), float("nan"), 3.0, -3.0, 1e9, -1e9, 7.5]


SPECIAL_B = [3.0, -3.0, float("inf"), float("inf"), 2.0, 2.0, 0.0, 0.0, 7.0, 7.0, -2.5]


INT_A = [16777217, -16777217, 2 ** 62 + 1, -(2 ** 62) - 1, 7, -7, 0, -2 ** 63]


INT_B = [1, 3, 3, -3, 2, 2, -5, 1]


def _off_int(rng, shape=(2, 3)):
    # values at least 0.1 away from integers (frac and trunc jump there)
    return [rng.integers(-3, 3, size=shape) + rng.uniform(0.1, 0.9, size=shape) *
            rng.choice([-1, 1], size=shape)]


CASES = [
    OpCase("floor", lambda m, a: m.floor(a) + a, [(4,)], op="floor"),
    OpCase("ceil", lambda m, a: m.ceil(a) * a, [(4,)], op="ceil"),
    OpCase("trunc", lambda m, a: m.trunc(a) * a, [(4,)], op="trunc"),
    OpCase("round", lambda m, a: m.round(a) * a, [(6,)], op="round",
           make=lambda r: [_off_half(r, 6)]),
    OpCase("round_only", lambda m, a: m.round(a), [(2, 3)], op="round",
           make=lambda r: [_off_half(r, (2, 3))]),
    OpCase("round_decimals", lambda m, a: a.round(decimals=1) * a, [(5,)],
           op="round_decimals", make=lambda r: [(_off_half(r, 5) + 0.04) / 10]),
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
    OpCase("frac", lambda m, a: m.frac(a) * a, [(2, 3)], op=("sub", "trunc"), make=_off_int),
    OpCase("frac_inplace", lambda m, a: a.clone().frac_() * 2, [(2, 3)], op=("sub", "trunc"),
           make=_off_int),
    OpCase("trunc_inplace", lambda m, a: a.clone().trunc_() * a, [(2, 3)], op="trunc",
           make=_off_int),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


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


@pytest.mark.parametrize("make, name", [
    (lambda m, x: x.clone().trunc_(), "TruncBackward0"),
])
def test_frac_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


def test_frac_grad_fn_differs_from_torch_but_gradient_matches():
    # frac is the composite x - trunc(x): SubBackward0 here, FracBackward0 in PyTorch
    xc = cr.tensor([-1.25, 0.5, 2.75], requires_grad=True)
    xt = torch.tensor([-1.25, 0.5, 2.75], requires_grad=True)
    yc, yt = xc.frac(), xt.frac()
    assert type(yc.grad_fn).__name__ == "SubBackward0"
    assert type(yt.grad_fn).__name__ == "FracBackward0"
    assert yc.tolist() == yt.tolist() == [-0.25, 0.5, 0.75]
    (yc * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    (yt * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert xc.grad.tolist() == xt.grad.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("fn", [
    lambda m, x: m.frac(x * 0.75),
    lambda m, x: (x * 0.75).trunc_(),
])
def test_frac_values_match_torch(fn):
    assert_same_on_grid(fn)


@pytest.mark.parametrize("fn, exc", [
    (lambda m, x: m.frac(m.tensor([1, 2])), NotImplementedError),
])
def test_frac_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))
