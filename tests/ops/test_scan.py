"""Scans and products (ops/scan.py): prod, cumsum, cumprod (zeros included) against PyTorch and
finite differences: the OpCase rows (value, VJP, JVP, second order in float64, float32
preservation) and the checks beyond the table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


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


ZERO_INPUTS = [[[2.0, 0.0, 3.0], [0.0, 0.0, 2.0], [1.0, 2.0, 3.0]],
               [[0.0, 5.0, 0.0], [4.0, 0.0, 1.0], [0.0, 0.0, 0.0]]]


ZERO_FNS = {
    "prod": lambda m, a: a.prod(),
    "prod_dim1": lambda m, a: a.prod(1),
    "prod_dim0": lambda m, a: a.prod(0),
    "cumprod1": lambda m, a: a.cumprod(1),
    "cumprod0": lambda m, a: a.cumprod(0),
}


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
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


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
