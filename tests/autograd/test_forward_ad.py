"""Forward-mode AD (issue 4): dual_level / make_dual / unpack_dual against
torch.autograd.forward_ad, errors, nesting, and forward-over-reverse / reverse-over-forward."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import chainrule as cr
import chainrule.autograd.forward_ad as fw

X = np.array([0.3, -1.2, 0.8])
V = np.array([1.0, 0.5, -2.0])


def _t(m, a, rg=False):
    return m.tensor(a, dtype=m.float64, requires_grad=rg)


def _f(m, x):
    return (m.sin(x) * x ** 2 + m.exp(x / 3)).sum() * x


def _np(t):
    return t.detach().numpy()


def test_make_unpack_against_torch():
    with fw.dual_level():
        d = fw.make_dual(_t(cr, X), _t(cr, V))
        out = fw.unpack_dual(_f(cr, d))
    with tfw.dual_level():
        dt = tfw.make_dual(_t(torch, X), _t(torch, V))
        out_t = tfw.unpack_dual(_f(torch, dt))
    assert isinstance(out, fw.UnpackedDualTensor) and out._fields == ("primal", "tangent")
    np.testing.assert_allclose(_np(out.primal), _np(out_t.primal), atol=1e-12)
    np.testing.assert_allclose(_np(out.tangent), _np(out_t.tangent), atol=1e-12)
    primal, tangent = out                      # a real named tuple
    assert tangent is out.tangent


def test_unpack_plain_tensor_and_outside_level():
    x = _t(cr, X)
    with fw.dual_level():
        p, t = fw.unpack_dual(x)
        assert p is x and t is None
        d = fw.make_dual(x, _t(cr, V))
    p, t = fw.unpack_dual(d)                     # level closed: the tangent is gone
    assert t is None
    np.testing.assert_array_equal(_np(p), X)


def test_tangent_dtype_follows_primal_and_grad_flows_through_dual():
    x = _t(cr, X, rg=True)
    with fw.dual_level():
        d = fw.make_dual(x, cr.tensor(V, dtype=cr.float32))
        assert fw.unpack_dual(d).tangent.dtype == cr.float64
        (d * d).sum().backward()
    np.testing.assert_allclose(_np(x.grad), 2 * X)


@pytest.mark.parametrize("call, exc, text", [
    (lambda: fw.make_dual(cr.ones(2), cr.ones(3)), RuntimeError, "different size"),
    (lambda: fw.make_dual(cr.ones(2, dtype=cr.int64), cr.ones(2)), ValueError,
     "Expected primal to be floating point"),
    (lambda: fw.make_dual(cr.ones(2), cr.ones(2, dtype=cr.int64)), ValueError,
     "Expected tangent to be floating point"),
    (lambda: fw.make_dual(fw.make_dual(cr.ones(2), cr.ones(2)), cr.ones(2)), RuntimeError,
     "already has a forward gradient at the same level"),
    (lambda: fw.unpack_dual(3.0), TypeError, "must be Tensor"),
    (lambda: fw.make_dual(cr.ones(2), cr.ones(2), level=10 ** 9), RuntimeError,
     "Invalid level"),
])
def test_make_dual_errors_like_torch(call, exc, text):
    with fw.dual_level():
        with pytest.raises(exc, match=text):
            call()


def test_make_dual_without_level():
    with pytest.raises(RuntimeError, match="no level exists"):
        fw.make_dual(cr.ones(2), cr.ones(2))
    with pytest.raises(RuntimeError, match="no level exists"):
        tfw.make_dual(torch.ones(2), torch.ones(2))


def test_missing_jvp_names_the_op():
    from chainrule.ops._core import Op, apply
    op = Op("no_jvp_op", lambda x: x * 2, vjps=(lambda F, g, out, x: g * 2,), jvp=None,
            save_inputs=False)
    with fw.dual_level():
        d = fw.make_dual(cr.ones(2), cr.ones(2))
        with pytest.raises(NotImplementedError, match="no_jvp_op"):
            apply(op, (d,))


def test_nested_levels_give_second_derivative():
    """Two nested levels on the same input: the inner tangent's outer tangent is f''."""
    x = cr.tensor(0.7, dtype=cr.float64)
    with fw.dual_level() as outer:
        xo = fw.make_dual(x, cr.tensor(1.0, dtype=cr.float64), level=outer)
        with fw.dual_level() as inner:
            xi = fw.make_dual(xo, cr.tensor(1.0, dtype=cr.float64), level=inner)
            y = cr.sin(xi) * xi ** 3
            d1 = fw.unpack_dual(y, level=inner).tangent
        d2 = fw.unpack_dual(d1, level=outer).tangent
    xv = 0.7
    np.testing.assert_allclose(d1.item(), np.cos(xv) * xv ** 3 + 3 * xv ** 2 * np.sin(xv))
    expect = (-np.sin(xv) * xv ** 3 + 6 * xv ** 2 * np.cos(xv) + 6 * xv * np.sin(xv))
    np.testing.assert_allclose(d2.item(), expect, rtol=1e-12)


def _hvp_torch(x, v):
    xt = _t(torch, x, rg=True)
    with tfw.dual_level():
        d = tfw.make_dual(xt, _t(torch, v))
        (g,) = torch.autograd.grad(_f(torch, d).sum(), d, create_graph=True)
        return _np(tfw.unpack_dual(g).primal), _np(tfw.unpack_dual(g).tangent)


def test_forward_over_reverse_hvp():
    x = _t(cr, X, rg=True)
    with fw.dual_level():
        d = fw.make_dual(x, _t(cr, V))
        (g,) = cr.autograd.grad(_f(cr, d).sum(), d)
        hv = fw.unpack_dual(g).tangent
    gp, hvt = _hvp_torch(X, V)
    np.testing.assert_allclose(_np(g), gp, atol=1e-12)
    np.testing.assert_allclose(_np(hv), hvt, atol=1e-12)
    # against the Hessian from torch
    H = torch.autograd.functional.hessian(lambda a: _f(torch, a).sum(), _t(torch, X)).numpy()
    np.testing.assert_allclose(_np(hv), H @ V, atol=1e-10)


def test_reverse_over_forward():
    """grad of a JVP: d/dx <J(x), v> (tangent computed with grad mode on)."""
    x = _t(cr, X, rg=True)
    with fw.dual_level():
        d = fw.make_dual(x, _t(cr, V))
        t = fw.unpack_dual(_f(cr, d).sum()).tangent
    (g,) = cr.autograd.grad(t, x)
    xt = _t(torch, X, rg=True)
    with tfw.dual_level():
        dt = tfw.make_dual(xt, _t(torch, V))
        tt = tfw.unpack_dual(_f(torch, dt).sum()).tangent
    (gt,) = torch.autograd.grad(tt, xt)
    np.testing.assert_allclose(_np(g), _np(gt), atol=1e-12)


def test_inplace_and_setitem_propagate_tangents():
    for m, F in ((cr, fw), (torch, tfw)):
        with F.dual_level():
            x = F.make_dual(_t(m, [1.0, 2.0]), _t(m, [1.0, 1.0]))
            y = x.clone()
            y.mul_(3)
            z = m.zeros(2, dtype=m.float64)
            z[0] = x[1] * x[1]
            res = (_np(F.unpack_dual(y).tangent), _np(F.unpack_dual(z).tangent))
        if m is cr:
            ours = res
        else:
            for a, b in zip(ours, res):
                np.testing.assert_allclose(a, b)


def test_tensor_with_explicit_float64_is_exact():
    """Regression (found here): tensor(0.7, dtype=float64) used to round through float32."""
    for data in (0.7, [0.7, 1.1], [[0.1], [0.7]]):
        a = cr.tensor(data, dtype=cr.float64)
        b = torch.tensor(data, dtype=torch.float64)
        assert a.tolist() == b.tolist()
    assert cr.tensor(0.7).dtype == cr.float32          # inference without dtype unchanged
