"""Statistics (ops/stats.py): var, std, amax, amin, median against PyTorch and finite
differences: the OpCase rows (value, VJP, JVP, second order in float64, float32
preservation) and the checks beyond the table."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests
from oplib import assert_same as _same, grads_of_ones as _grads


NAN, INF = float("nan"), float("inf")


def distinct(shape, lo=-2.0, hi=2.0, gap=0.05):
    """``make=`` for inputs whose values are pairwise at least ``gap`` apart (no ties)."""
    def make(r):
        n = int(np.prod(shape))
        grid = np.linspace(lo, hi, n)
        assert n < 2 or grid[1] - grid[0] >= gap
        return [r.permutation(grid + r.uniform(0, gap / 4, n)).reshape(shape)]
    return make


TIES = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]


CASES = [
    OpCase("median", lambda m, a: m.median(a), [(7,)], op="median"),
    OpCase("median_2d", lambda m, a: a.median() * a, [(2, 3)], op="median"),
    OpCase("median_dim", lambda m, a: m.median(a, 1).values, [(3, 4)], op="median_dim"),
    OpCase("median_dim_keep", lambda m, a: m.median(a, 0, keepdim=True).values, [(5, 2)],
           op="median_dim"),
    # var / std
    OpCase("var", lambda m, a: a.var(), [(3, 4)], op="var"),
    OpCase("var_dim", lambda m, a: m.var(a, 1), [(3, 4)], op="var"),
    OpCase("var_dims_keep", lambda m, a: m.var(a, (0, 2), keepdim=True), [(2, 3, 2)], op="var"),
    OpCase("var_correction0", lambda m, a: a.var(0, correction=0), [(3, 4)], op="var"),
    OpCase("var_correction2", lambda m, a: a.var(dim=1, correction=2), [(3, 5)], op="var"),
    OpCase("var_unbiased_false", lambda m, a: m.var(a, 1, False, True), [(3, 4)], op="var"),
    OpCase("var_unbiased_pos", lambda m, a: a.var(False), [(5,)], op="var"),
    OpCase("var_0d", lambda m, a: a.var(correction=0) + a, [()], op="var"),
    OpCase("std", lambda m, a: a.std(), [(3, 4)], op="std"),
    OpCase("std_dim", lambda m, a: m.std(a, 0), [(3, 4)], op="std"),
    OpCase("std_keep_corr0", lambda m, a: a.std(-1, keepdim=True, correction=0), [(2, 3, 4)],
           op="std"),
    OpCase("std_unbiased_false", lambda m, a: m.std(a, unbiased=False), [(6,)], op="std"),
    # amax / amin (distinct values: no ties)
    OpCase("amax", lambda m, a: a.amax(), [(3, 4)], op="amax", make=distinct((3, 4))),
    OpCase("amax_dim", lambda m, a: m.amax(a, 1), [(3, 4)], op="amax", make=distinct((3, 4))),
    OpCase("amax_dims_keep", lambda m, a: m.amax(a, (0, 2), keepdim=True), [(2, 3, 2)],
           op="amax", make=distinct((2, 3, 2))),
    OpCase("amax_0d", lambda m, a: m.amax(a) * a, [()], op="amax"),
    OpCase("amin", lambda m, a: m.amin(a), [(3, 4)], op="amin", make=distinct((3, 4))),
    OpCase("amin_dim", lambda m, a: a.amin(0, True), [(3, 4)], op="amin", make=distinct((3, 4))),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("fn,xs", [
    (lambda m, a: m.median(a), ([3., 1., 1., 4.],)),
    (lambda m, a: m.median(a), ([3., 1., NAN, 4.],)),
    (lambda m, a: m.median(a, 0).values, ([3., 1., NAN, 4., NAN],)),
], ids=["median_tie", "median_nan", "median_dim_nan"])
def test_special_points_value_and_gradient_match_torch(fn, xs):
    for c, t in zip(_grads(cr, fn, *xs), _grads(torch, fn, *xs)):
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("expr", [
    "m.median(m.tensor([3, 1, 2, 4]))",
    "m.median(m.tensor([[1, 2], [3, 4]]), 0).values",
    "m.median(m.tensor([[1, 2], [3, 4]]), 0).indices",
    "m.median(m.tensor(5.))",
    "m.median(m.tensor(5.), 0).indices",
    "m.median(m.tensor([]))",
    "m.median(m.zeros(0, 3), 1).values",
    "m.median(m.zeros(3, 0), 0).indices",
    "m.median(m.tensor([[3., 1., 2.], [1., 5., 1.]]), 1, keepdim=True).indices",
])
def test_new_op_values_and_dtypes(expr):
    _same(eval(expr, {"m": cr, "INF": INF, "NAN": NAN}),
          eval(expr, {"m": torch, "INF": INF, "NAN": NAN}))


@pytest.mark.parametrize("expr", [
    "m.median(m.zeros(0, 3), 0)",
    "m.median(m.zeros(2, 3), 2)",
])
def test_new_op_errors_match_torch(expr):
    with pytest.raises(Exception) as et:
        eval(expr, {"m": torch})
    with pytest.raises(type(et.value)):
        eval(expr, {"m": cr})


def test_median_returns_named_tuple():
    r = cr.median(cr.tensor([[3., 1., 2.], [6., 5., 4.]]), dim=1)
    assert isinstance(r, cr.return_types.median)
    assert r.values.tolist() == [2., 5.] and r.indices.tolist() == [2, 1]


def test_std_gradient_at_zero_variance_is_zero_like_torch():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gc,) = cr.autograd.grad(xc.std(1).sum(), xc)
    (gt,) = torch.autograd.grad(xt.std(1).sum(), xt)
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=1e-12)
    assert gc.numpy()[0].tolist() == [0.0, 0.0, 0.0]


def test_var_errors_and_warnings_like_torch():
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        cr.tensor([1, 2]).var()
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        cr.std(cr.tensor([1, 2]))
    with pytest.raises(TypeError):
        cr.arange(3.0).var(unbiased=True, correction=0)
    for m in (cr, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            v = m.tensor([1.0]).var()
        assert np.isnan(v.item())
        assert any("degrees of freedom is <= 0" in str(x.message) for x in w)


def test_var_std_forms_match_torch():
    a = np.arange(12.0).reshape(3, 4) ** 1.5
    for f in (lambda m, x: m.var(x, 0, True), lambda m, x: x.var(1, True, True),
              lambda m, x: x.std(True), lambda m, x: x.std(dim=None, correction=3),
              lambda m, x: m.var_mean(x, 1)[0], lambda m, x: m.var_mean(x, 1)[1],
              lambda m, x: m.std_mean(x, correction=0)[0], lambda m, x: x.var(dim=(), correction=0)):
        np.testing.assert_allclose(f(cr, cr.tensor(a)).numpy(), f(torch, torch.tensor(a)).numpy(),
                                   rtol=1e-12)


def test_var_node_names():
    x, t = cr.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    for f in (lambda a: a.var(), lambda a: a.std(0), lambda a: a.amax(), lambda a: a.amin(0)):
        assert f(x).grad_fn.name() == f(t).grad_fn.name()


@pytest.mark.parametrize("f", [lambda m, a: a.amax(), lambda m, a: a.amax(1),
                               lambda m, a: m.amin(a, 0), lambda m, a: a.amin(),
                               lambda m, a: m.amax(a, (0, 1), keepdim=True),
                               lambda m, a: a.max(), lambda m, a: a.min()],
                         ids=["amax", "amax1", "amin0", "amin", "amax01", "max", "min"])
def test_ties_split_evenly_like_torch(f):
    x = np.array(TIES)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = f(cr, xc), f(torch, xt)
    w = np.arange(1.0, yc.numel() + 1).reshape(tuple(yc.shape))
    (gc,) = cr.autograd.grad(yc, xc, cr.tensor(w))
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(w))
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=1e-12)
    import chainrule.autograd.forward_ad as fw
    import torch.autograd.forward_ad as tfw
    u = np.linspace(-1, 1, 6).reshape(2, 3)
    with fw.dual_level():
        tc = fw.unpack_dual(f(cr, fw.make_dual(cr.tensor(x), cr.tensor(u)))).tangent
    with tfw.dual_level():
        tt = tfw.unpack_dual(f(torch, tfw.make_dual(torch.tensor(x), torch.tensor(u)))).tangent
    np.testing.assert_allclose(tc.numpy(), tt.numpy(), rtol=1e-12)


def test_amax_split_values():
    x = cr.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.amax(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_amax_integer_and_empty():
    assert cr.tensor([[1, 5], [7, 2]]).amax(1).tolist() == [5, 7]
    assert str(cr.tensor([1, 5]).amax().dtype) == "torch.int64"
    with pytest.raises(RuntimeError, match="amax.*numel\\(\\) == 0"):
        cr.zeros(0, 3).amax()
    assert cr.zeros(0, 3).amax(1).shape == torch.zeros(0, 3).amax(1).shape
