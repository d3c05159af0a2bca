"""prod / cumsum / cumprod (ops/scan.py), var / std / amax / amin (ops/stats.py) and
sort / topk (ops/sorting.py) against PyTorch and finite differences, plus explicit checks
of zero handling (prod, cumprod), ties (amax/amin split evenly), zero variance (std), the
named-tuple results and PyTorch's errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def distinct(shape, lo=-2.0, hi=2.0, gap=0.05):
    """``make=`` for inputs whose values are pairwise at least ``gap`` apart (no ties)."""
    def make(r):
        n = int(np.prod(shape))
        grid = np.linspace(lo, hi, n)
        assert n < 2 or grid[1] - grid[0] >= gap
        return [r.permutation(grid + r.uniform(0, gap / 4, n)).reshape(shape)]
    return make


def with_zeros(r):
    # row 0: one zero, row 1: two zeros, row 2: none
    x = r.uniform(0.5, 1.5, (3, 4)) * r.choice([-1.0, 1.0], (3, 4))
    x[0, 2] = 0.0
    x[1, 0] = x[1, 3] = 0.0
    return [x]


def one_zero(r):
    x = r.uniform(0.5, 1.5, (5,)) * r.choice([-1.0, 1.0], 5)
    x[3] = 0.0
    return [x]


CASES = [
    # prod
    OpCase("prod", lambda m, a: a.prod(), [(2, 3)], domain=(0.5, 1.5), op="prod"),
    OpCase("prod_signs", lambda m, a: m.prod(a), [(5,)], op="prod"),
    OpCase("prod_0d", lambda m, a: a.prod(), [()], op="prod"),
    OpCase("prod_dim", lambda m, a: m.prod(a, 1), [(3, 4)], op="prod_dim"),
    OpCase("prod_dim0_keep", lambda m, a: a.prod(0, keepdim=True), [(3, 4)], op="prod_dim"),
    OpCase("prod_dim_0d", lambda m, a: m.prod(a, 0), [()], op="prod_dim"),
    OpCase("prod_zeros_all_one", lambda m, a: a.prod(), [(5,)], op="prod", make=one_zero),
    OpCase("prod_zeros_all_two", lambda m, a: a.prod(), [(3, 4)], op="prod", make=with_zeros),
    OpCase("prod_zeros_dim", lambda m, a: a.prod(1), [(3, 4)], op="prod_dim", make=with_zeros),
    OpCase("prod_zeros_dim0", lambda m, a: m.prod(a.t(), 0, keepdim=True), [(3, 4)],
           op="prod_dim", make=with_zeros),
    # cumsum / cumprod
    OpCase("cumsum", lambda m, a: m.cumsum(a, 0), [(5,)], op="cumsum"),
    OpCase("cumsum_dim1", lambda m, a: a.cumsum(1), [(3, 4)], op="cumsum"),
    OpCase("cumsum_neg", lambda m, a: a.cumsum(-2) * a, [(2, 3, 2)], op="cumsum"),
    OpCase("cumsum_0d", lambda m, a: m.cumsum(a, 0) * a, [()], op="cumsum"),
    OpCase("cumprod", lambda m, a: m.cumprod(a, 0), [(5,)], op="cumprod"),
    OpCase("cumprod_dim1", lambda m, a: a.cumprod(1), [(3, 4)], op="cumprod"),
    OpCase("cumprod_dim0", lambda m, a: a.cumprod(0), [(3, 2, 2)], op="cumprod"),
    OpCase("cumprod_0d", lambda m, a: m.cumprod(a, 0) * a, [()], op="cumprod"),
    OpCase("cumprod_zeros", lambda m, a: a.cumprod(1), [(3, 4)], op="cumprod", make=with_zeros),
    OpCase("cumprod_zeros_dim0", lambda m, a: a.t().cumprod(0), [(3, 4)], op="cumprod",
           make=with_zeros),
    OpCase("cumprod_one_zero", lambda m, a: m.cumprod(a, 0), [(5,)], op="cumprod",
           make=one_zero),
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
    # sort / topk (distinct values: no ties)
    OpCase("sort", lambda m, a: m.sort(a).values, [(6,)], op="sort", make=distinct((6,))),
    OpCase("sort_desc_dim0", lambda m, a: a.sort(0, descending=True).values * a,
           [(3, 4)], op="sort", make=distinct((3, 4))),
    OpCase("sort_stable_dim1", lambda m, a: m.sort(a, dim=1, stable=True)[0], [(3, 4)],
           op="sort", make=distinct((3, 4))),
    OpCase("sort_0d", lambda m, a: m.sort(a).values * a, [()], op="sort"),
    OpCase("topk", lambda m, a: m.topk(a, 3).values, [(6,)], op="topk", make=distinct((6,))),
    OpCase("topk_smallest_dim0", lambda m, a: a.topk(2, dim=0, largest=False)[0] ** 2,
           [(4, 3)], op="topk", make=distinct((4, 3))),
    OpCase("topk_all", lambda m, a: m.topk(a, 4, 1).values, [(2, 4)], op="topk",
           make=distinct((2, 4))),
    OpCase("topk_0d", lambda m, a: m.topk(a, 1).values * a, [()], op="topk"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


# --- zeros in prod / cumprod -----------------------------------------------------------------

ZERO_INPUTS = [[[2.0, 0.0, 3.0], [0.0, 0.0, 2.0], [1.0, 2.0, 3.0]],
               [[0.0, 5.0, 0.0], [4.0, 0.0, 1.0], [0.0, 0.0, 0.0]]]
ZERO_FNS = {
    "prod": lambda m, a: a.prod(),
    "prod_dim1": lambda m, a: a.prod(1),
    "prod_dim0": lambda m, a: a.prod(0),
    "cumprod1": lambda m, a: a.cumprod(1),
    "cumprod0": lambda m, a: a.cumprod(0),
}


@pytest.mark.parametrize("data", range(len(ZERO_INPUTS)))
@pytest.mark.parametrize("name", sorted(ZERO_FNS))
def test_zeros_gradients_and_hessians_match_torch(name, data):
    f = ZERO_FNS[name]
    x = np.array(ZERO_INPUTS[data])
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = f(cr, xc), f(torch, xt)
    w = np.arange(1.0, yc.numel() + 1).reshape(tuple(yc.shape))
    (gc,) = cr.autograd.grad(yc, xc, cr.tensor(w), create_graph=True)
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(w), create_graph=True)
    np.testing.assert_allclose(gc.detach().numpy(), gt.detach().numpy(), rtol=1e-12, atol=0)
    assert np.all(np.isfinite(gc.detach().numpy()))
    u = np.linspace(-1, 1, x.size).reshape(x.shape)
    (hc,) = cr.autograd.grad((gc * cr.tensor(u)).sum(), xc)
    (ht,) = torch.autograd.grad((gt * torch.tensor(u)).sum(), xt)
    np.testing.assert_allclose(hc.numpy(), ht.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", sorted(ZERO_FNS))
def test_many_zeros_first_second_order_and_jvp_match_torch(name, seed):
    # up to 4 zeros per slice, consecutive zeros, zeros at the ends
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, (3, 6)) * rng.choice([-1.0, 1.0], (3, 6))
    x[rng.random((3, 6)) < 0.45] = 0.0
    x[0, :2] = 0.0
    f = ZERO_FNS[name]
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = f(cr, xc), f(torch, xt)
    w = rng.standard_normal(tuple(yc.shape))
    u = rng.standard_normal(x.shape)
    (gc,) = cr.autograd.grad(yc, xc, cr.tensor(w), create_graph=True)
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(w), create_graph=True)
    np.testing.assert_allclose(gc.detach().numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-14)
    (hc,) = cr.autograd.grad((gc * cr.tensor(u)).sum(), xc)
    (ht,) = torch.autograd.grad((gt * torch.tensor(u)).sum(), xt)
    np.testing.assert_allclose(hc.numpy(), ht.numpy(), rtol=1e-12, atol=1e-14)
    import chainrule.autograd.forward_ad as fw
    import torch.autograd.forward_ad as tfw
    with fw.dual_level():
        tc = fw.unpack_dual(f(cr, fw.make_dual(cr.tensor(x), cr.tensor(u)))).tangent
    with tfw.dual_level():
        tt = tfw.unpack_dual(f(torch, tfw.make_dual(torch.tensor(x), torch.tensor(u)))).tangent
    np.testing.assert_allclose(tc.numpy(), tt.numpy(), rtol=1e-12, atol=1e-14)


def test_cumprod_long_slice_with_zeros():
    # the zero path is O(n) per zero: a long slice is fine
    rng = np.random.default_rng(0)
    x = rng.uniform(0.99, 1.01, (2, 4000))
    x[0, 100] = x[0, 3000] = x[1, 3999] = 0.0
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = rng.standard_normal(x.shape)
    (gc,) = cr.autograd.grad(xc.cumprod(1), xc, cr.tensor(w))
    (gt,) = torch.autograd.grad(xt.cumprod(1), xt, torch.tensor(w))
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=1e-9, atol=1e-9)


def test_prod_zero_gradient_values():
    x = cr.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]
    y = cr.tensor([0.0, 4.0, 0.0], requires_grad=True)
    y.prod().backward()
    assert y.grad.tolist() == [0.0, 0.0, 0.0]


def test_prod_cumsum_integer_dtypes():
    for name, f in (("prod", lambda m, a: a.prod()), ("prod_dim", lambda m, a: a.prod(0)),
                    ("cumsum", lambda m, a: a.cumsum(0)), ("cumprod", lambda m, a: a.cumprod(0)),
                    ("cumsum_dtype", lambda m, a: m.cumsum(a, 0, dtype=m.float64))):
        for dt in ("int32", "int64", "bool"):
            a = f(cr, cr.tensor([1, 2, 3], dtype=getattr(cr, dt)))
            b = f(torch, torch.tensor([1, 2, 3], dtype=getattr(torch, dt)))
            assert str(a.dtype) == str(b.dtype), (name, dt)
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_scan_node_names_and_errors():
    x, t = cr.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    for f in (lambda m, a: a.prod(), lambda m, a: a.prod(0), lambda m, a: a.cumsum(0),
              lambda m, a: a.cumprod(0)):
        assert f(cr, x).grad_fn.name() == f(torch, t).grad_fn.name()
    with pytest.raises(IndexError, match="Dimension out of range"):
        cr.cumsum(x, 1)
    with pytest.raises(TypeError):
        cr.cumsum(x)


# --- var / std -------------------------------------------------------------------------------

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


# --- ties ------------------------------------------------------------------------------------

TIES = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]


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


# --- sort / topk: ties, indices, named tuples ------------------------------------------------

def test_sort_stable_ties_and_nan_like_torch():
    v = [3.0, 1.0, 3.0, 2.0, 1.0, float("nan"), 2.0]
    for desc in (False, True):
        a, b = cr.sort(cr.tensor(v), descending=desc), torch.sort(torch.tensor(v),
                                                                  descending=desc, stable=True)
        np.testing.assert_array_equal(a.values.numpy(), b.values.numpy())
        assert a.indices.tolist() == b.indices.tolist()
        assert a.indices.dtype == cr.int64
    m = np.array([[3, 1, 3], [2, 2, 0]])
    a = cr.tensor(m).sort(0, descending=True)
    b = torch.tensor(m).sort(dim=0, descending=True, stable=True)
    assert a.values.tolist() == b.values.tolist() and a.indices.tolist() == b.indices.tolist()
    assert cr.argsort(cr.tensor(v[:5])).tolist() == torch.argsort(torch.tensor(v[:5]),
                                                                 stable=True).tolist()


def test_topk_ties_and_options_like_torch():
    v = [3.0, 1.0, 3.0, 2.0, 1.0]
    # (PyTorch leaves the order among tied elements unspecified for topk; these cases have a
    # unique answer, or PyTorch happens to pick the earlier index as chainrule always does)
    for k, largest in ((3, True), (2, True), (2, False), (1, False), (0, True)):
        a = cr.topk(cr.tensor(v), k, largest=largest)
        b = torch.topk(torch.tensor(v), k, largest=largest)
        assert a.values.tolist() == b.values.tolist()
        assert a.indices.tolist() == b.indices.tolist()
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        cr.topk(cr.tensor(v), 6)


def test_sort_topk_gradient_scatter_with_ties():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = np.array([1.0, 10.0, 100.0])
    (gc,) = cr.autograd.grad(cr.topk(xc, 3).values, xc, cr.tensor(w))
    (gt,) = torch.autograd.grad(torch.topk(xt, 3).values, xt, torch.tensor(w))
    np.testing.assert_array_equal(gc.numpy(), gt.numpy())


@pytest.mark.parametrize("f", [lambda m, a: m.sort(a, descending=True),
                               lambda m, a: m.topk(a, 2), lambda m, a: m.max(a, 0),
                               lambda m, a: a.min(dim=0, keepdim=True),
                               lambda m, a: m.sort(a[0]), lambda m, a: m.max(a[0], 0)],
                         ids=["sort", "topk", "max", "min", "sort0d", "max0d"])
def test_named_tuple_results_like_torch(f):
    data = [1.0, 3.0, 2.0]
    xc, xt = cr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    rc, rt = f(cr, xc), f(torch, xt)
    assert repr(rc) == repr(rt)
    assert type(rc).__name__ == type(rt).__name__
    assert isinstance(rc, getattr(cr.return_types, type(rt).__name__))
    assert isinstance(rc, tuple) and len(rc) == 2
    values, indices = rc
    assert values is rc.values and indices is rc.indices and rc[0] is values
    assert indices.dtype == cr.int64 and not indices.requires_grad
