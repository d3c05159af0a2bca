"""Regression tests: derivatives at saturation, kinks and singular points that gave nan or
inf where PyTorch gives a finite value (or split a tie PyTorch gives to one side).  Each
checks the value, the VJP, the JVP and (where PyTorch has one) the second order against
PyTorch, NaN-aware."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.autograd.forward_ad as cr_fw
import torch.autograd.forward_ad as t_fw

NAN, INF = math.nan, math.inf

pytestmark = pytest.mark.filterwarnings(
    r"ignore:(divide by zero|invalid value|overflow|underflow) encountered:RuntimeWarning")


def _np(t):
    return t.detach().numpy()


def _same(a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=0, equal_nan=True, err_msg=what)


def check(fn, arrays, dtype="float64", second=True, fwd=True):
    """fn(lib, *xs) vs PyTorch: value, VJP (cotangent of ones), JVP (tangent of ones on every
    input) and the gradient of the summed VJP (reverse over reverse)."""
    def make(lib, rg):
        return [lib.tensor(a, dtype=getattr(lib, dtype)).requires_grad_(rg) for a in arrays]

    xc, xt = make(cr, True), make(torch, True)
    oc, ot = fn(cr, *xc), fn(torch, *xt)
    _same(_np(oc), _np(ot), "value")
    assert str(oc.dtype) == str(ot.dtype)
    gc = cr.autograd.grad(oc, xc, cr.ones_like(oc), create_graph=second, allow_unused=True)
    gt = torch.autograd.grad(ot, xt, torch.ones_like(ot), create_graph=second,
                             allow_unused=True)
    for i, (a, b) in enumerate(zip(gc, gt)):
        _same(0 * arrays[i] if a is None else _np(a), 0 * arrays[i] if b is None else _np(b),
              f"VJP of input {i}")
    if second:
        sc = sum((g.sum() for g in gc if g is not None and g.requires_grad), cr.tensor(0.))
        st = sum((g.sum() for g in gt if g is not None and g.requires_grad), torch.tensor(0.))
        if st.requires_grad:
            hc = cr.autograd.grad(sc, xc, allow_unused=True)
            ht = torch.autograd.grad(st, xt, allow_unused=True)
            for i, (a, b) in enumerate(zip(hc, ht)):
                _same(0 * arrays[i] if a is None else _np(a),
                      0 * arrays[i] if b is None else _np(b), f"second order, input {i}")
    if fwd:
        with cr_fw.dual_level():
            tc = cr_fw.unpack_dual(fn(cr, *[cr_fw.make_dual(x, cr.ones_like(x))
                                            for x in make(cr, False)])).tangent
        with t_fw.dual_level():
            tt = t_fw.unpack_dual(fn(torch, *[t_fw.make_dual(x, torch.ones_like(x))
                                              for x in make(torch, False)])).tangent
        _same(_np(tc), _np(tt), "JVP")


DTYPES = ["float64", "float32"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_zero_base_tensor_exponent(dtype):
    # d/da is 0 where the exponent is 0 (was 0 * 0**-1 = nan); d/db is 0 where a == 0 and
    # b >= 0, and inf * log(0) (not nan) where b < 0
    a = np.array([0.0, 0.0, -0.0, 0.0, 2.0, 0.0])
    b = np.array([0.0, 2.0, 0.0, -1.0, 0.0, 0.5])
    check(lambda m, x, y: x ** y, [a, b], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_scalar_half_at_negative_zero_and_inf(dtype):
    # x ** 0.5: PyTorch's derivative is 0.5 * rsqrt(x): -inf at -0, nan at -inf
    check(lambda m, x: x ** 0.5, [np.array([-0.0, -INF, INF, 4.0])], dtype, second=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_atan2_at_the_origin(dtype):
    # gradient 0 where a^2 + b^2 is 0 (the origin, or squares that underflow); was nan / inf
    tiny = 1e-200 if dtype == "float64" else 1e-30
    a = np.array([0.0, -0.0, 0.0, tiny, 1.0])
    b = np.array([0.0, 0.0, tiny, tiny, 2.0])
    check(lambda m, y, x: m.atan2(y, x), [a, b], dtype, second=False, fwd=False)
    check(lambda m, y, x: m.atan2(y, x), [a[2:], b[2:]], dtype)


def test_binary_cross_entropy_saturated_probability():
    # sigmoid(20.) is 1.0 in float32: the loss is clamped at 100 and the gradient is finite
    for m_red in ("none", "mean", "sum"):
        check(lambda m, x: m.nn.functional.binary_cross_entropy(
            m.sigmoid(x), m.zeros_like(x), reduction=m_red), [np.array([20.0, -20.0, 3.0])],
            "float32", second=False)
    for t in (np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.3, 0.8, 1.0, 0.0])):
        check(lambda m, p, y: m.nn.functional.binary_cross_entropy(p, y, reduction="sum"),
              [np.array([1.0, 0.0, 0.5, 0.25]), t], "float64", second=False)
    x = cr.tensor([20.0], requires_grad=True)
    loss = cr.nn.functional.binary_cross_entropy(cr.sigmoid(x), cr.zeros(1))
    assert loss.grad_fn.name() == "BinaryCrossEntropyBackward0"
    loss.backward()
    assert float(loss) == 100.0 and float(x.grad[0]) == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_div_gradient_of_tiny_and_huge_divisors(dtype):
    # -g * (a / b) / b: b * b no longer underflows to 0 (0 / 0 = nan) or overflows to inf
    fi = np.finfo(dtype)
    a = np.array([0.0, 1.0, float(fi.max) / 4, -0.0, 1.0])
    b = np.array([float(fi.tiny), float(fi.max) / 4, float(fi.max) / 4, float(fi.tiny) / 8, 2.0])
    check(lambda m, x, y: x / y, [a, b], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clamp_tensor_bounds_ties_go_to_the_input(dtype):
    # x on a bound: all of the gradient to x (was split with the bound); crossed bounds give
    # hi; nan gets none
    x = np.array([1.0, 2.0, 0.0, 5.0, 1.0, NAN])
    lo = np.array([1.0, 0.0, 1.0, 0.0, 3.0, 0.0])
    hi = np.array([3.0, 2.0, 4.0, 4.0, 0.0, 1.0])
    check(lambda m, a, l, h: m.clamp(a, l, h), [x, lo, hi], dtype, second=False)
    check(lambda m, a, l: m.clamp(a, min=l), [x, lo], dtype, second=False)
    check(lambda m, a, h: m.clamp(a, max=h), [x, hi], dtype, second=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_inputs_of_sign_abs_max_min(dtype):
    x = np.array([NAN, 1.0, -2.0, 0.0])
    check(lambda m, a: m.sign(a), [x], dtype, second=False)      # sign(nan) is 0
    check(lambda m, a: m.abs(a), [x], dtype, second=False)       # gradient 0 at nan
    check(lambda m, a: a.max(), [x], dtype, second=False, fwd=False)   # all to the nan
    check(lambda m, a: a.min(), [x], dtype, second=False, fwd=False)
    y = np.array([1.0, NAN, -2.0, NAN])
    check(lambda m, a, b: m.maximum(a, b), [x, y], dtype, second=False)  # both get g
    check(lambda m, a, b: m.minimum(a, b), [x, y], dtype, second=False)
    z = np.array([[NAN, 1.0], [2.0, 3.0]])
    check(lambda m, a: a.amax(1), [z], dtype, second=False)
    check(lambda m, a: a.amin(0), [z], dtype, second=False)


def test_max_forward_mode_with_nan_is_nan():
    # PyTorch's forward mode of a full max ignores nan in its mask: 0 / 0 = nan
    check(lambda m, a: a.max(), [np.array([NAN, 1.0])], second=False)


def test_prod_with_two_zeros_and_an_inf():
    # every product of the others has a zero: the gradient is 0 (was inf * 0 = nan)
    check(lambda m, a: a.prod(), [np.array([0.5, INF, 0.0, 3.0, -0.0])], second=False)


def test_mse_loss_and_norm_forward_mode_at_infinity():
    check(lambda m, a, b: m.nn.functional.mse_loss(a, b, reduction="none"),
          [np.array([0.0, 1.0, 2.0]), np.array([-INF, 1e308, 1.0])], second=False)
    check(lambda m, a: a.norm(), [np.array([1e308, -1e308, 1.0])], second=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_vector_norm_below_one_at_zero_elements(dtype):
    # p < 1: |x|^(p-1) is masked to 0 at x == 0 (was sign(0) * inf = nan); forward mode sums
    # before scaling by ||x||^(1-p) (-inf at an infinite norm, not nan); p = 0 has gradient 0
    x = np.array([0.0, 1.0, -0.0, 2.0])
    check(lambda m, a: m.linalg.vector_norm(a, ord=0.5), [x], dtype)
    check(lambda m, a: a.norm(p=0.5), [x], dtype)
    check(lambda m, a: a.norm(p=0), [x], dtype, second=False)
    check(lambda m, a: m.linalg.vector_norm(a, ord=0.5), [np.array([0.5, INF, 0.0, 3.0])],
          dtype, second=False)


def test_amax_amin_over_an_empty_dim_raise_index_error():
    # PyTorch: IndexError naming the empty dim (was RuntimeError); no dim given: RuntimeError
    for m in (torch, cr):
        with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
            m.amin(m.zeros(0, 4), 0)
        with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
            m.zeros(2, 0).amax((0, 1))
        with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
            m.zeros(2, 0).amax()


def test_clamp_and_elu_keep_the_sign_of_zero():
    # PyTorch keeps x at a tie with a scalar bound and elu(-0.) is -0. (np.maximum gave +0)
    x = [-0.0, 0.0, 1.0, -1.0, NAN]
    fns = [lambda m, a: m.clamp(a, min=0.0), lambda m, a: m.clamp(a, max=-0.0),
           lambda m, a: m.clamp(a, -0.0, 0.0), lambda m, a: m.nn.functional.elu(a),
           lambda m, a: m.clamp(a, min=NAN)]
    for fn in fns:
        c = fn(cr, cr.tensor(x)).numpy()
        t = fn(torch, torch.tensor(x)).numpy()
        np.testing.assert_array_equal(c, t)
        np.testing.assert_array_equal(np.signbit(c), np.signbit(t))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sinc_gradient_at_tiny_inputs(dtype):
    # pi x^2 underflows to 0 for subnormal / tiny x: the gradient is 0 there (was 0 / 0 = nan)
    fi = np.finfo(dtype)
    x = np.array([0.0, float(fi.tiny), -float(fi.tiny), float(fi.smallest_subnormal), 0.5])
    check(lambda m, a: m.sinc(a), [x], dtype, second=False)


def test_lerp_forward_mode_with_infinite_weight():
    # PyTorch's tangent is lerp(ta, tb, w) (from the nearer end): inf, not inf - inf = nan
    a, b, w = np.array([1.0, 2.0]), np.array([3.0, -1.0]), np.array([INF, 0.25])
    out = []
    for m, fw in ((cr, cr_fw), (torch, t_fw)):
        f64 = m.float64
        with fw.dual_level():
            duals = [fw.make_dual(m.tensor(v, dtype=f64), m.tensor(t, dtype=f64))
                     for v, t in ((a, [1.0, 2.0]), (b, [3.0, -1.0]))]
            out.append(_np(fw.unpack_dual(m.lerp(*duals, m.tensor(w, dtype=f64))).tangent))
    _same(out[0], out[1], "JVP")
    assert out[0][0] == INF


def test_median_forward_mode_with_nan_and_empty():
    # PyTorch's forward mode of a full median: x == out mask (nan median: nan), 0 when empty
    check(lambda m, a: a.median(), [np.array([NAN, 1.0, 2.0])], second=False)
    for m, fw in ((cr, cr_fw), (torch, t_fw)):
        with fw.dual_level():
            t = fw.unpack_dual(fw.make_dual(m.zeros(0, dtype=m.float64),
                                            m.zeros(0, dtype=m.float64)).median()).tangent
            assert float(t) == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_div_forward_mode_at_a_zero_divisor(dtype):
    # PyTorch's (ta - tb * (a / b)) / b: ta / b - tb * (a / b) / b is inf - inf = nan here
    a, b = [1.0, -1.0, 3.0, 0.5], [-0.0, 0.0, -0.0, 0.0]
    ta, tb = [1.0, -1.5, 2.0, 0.5], [-0.5, 1.25, -2.0, 0.75]
    out = []
    for m, fw in ((cr, cr_fw), (torch, t_fw)):
        dt = getattr(m, dtype)
        with fw.dual_level():
            x = fw.make_dual(m.tensor(a, dtype=dt), m.tensor(ta, dtype=dt))
            y = fw.make_dual(m.tensor(b, dtype=dt), m.tensor(tb, dtype=dt))
            out.append(_np(fw.unpack_dual(x / y).tangent))
    _same(out[0], out[1], "JVP")
    assert not np.isnan(out[0]).any()


@pytest.mark.parametrize("call", [
    lambda m, x: m.nn.functional.avg_pool2d(x, 2, stride=1),
    lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
    lambda m, x: m.nn.functional.avg_pool1d(x[0], 3, padding=1)])
def test_average_pooling_keeps_inf_and_nan_in_their_windows(call):
    # averaging by matrices added 0 * inf = nan from outside a window into every output
    x = np.arange(12.0).reshape(1, 3, 4)
    x[0, 0, 1], x[0, 2, 3] = INF, NAN
    ours, theirs = call(cr, cr.tensor(x)), call(torch, torch.tensor(x))
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-15)     # nan where torch's
    assert np.isfinite(_np(ours)).any()
