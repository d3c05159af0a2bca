"""Custom autograd.Function (issue 4): the same Functions written for chainrule and for
torch (the class body is shared; ``m`` is the library), compared on values, gradients,
double backward, forward mode, node names and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd.function import once_differentiable as cr_once
from torch.autograd.function import once_differentiable as t_once

X = np.array([0.3, -1.2, 0.8])
Y = np.array([1.0, 0.5, -0.4])


def make(m):
    once = cr_once if m is cr else t_once

    class MyExp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)               # saves its OUTPUT
            ctx.save_for_forward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

        @staticmethod
        def jvp(ctx, t):
            (y,) = ctx.saved_tensors
            return t * y

    class MulAdd(m.autograd.Function):             # 2 tensors + a constant; 2 outputs
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_backward(x, y)
            ctx.save_for_forward(x, y)
            ctx.k = k
            out = x * y + k
            idx = out.argmax()
            ctx.mark_non_differentiable(idx)
            ctx.seen_needs = ctx.needs_input_grad
            return out, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            x, y = ctx.saved_tensors
            return (g * y if ctx.needs_input_grad[0] else None,
                    g * x if ctx.needs_input_grad[1] else None, None)

        @staticmethod
        def jvp(ctx, tx, ty, tk):
            x, y = ctx.saved_tensors
            return tx * y + ty * x, None

    class SinCos(m.autograd.Function):             # two differentiable outputs
        @staticmethod
        def forward(ctx, x):
            s, c = x.sin(), x.cos()
            ctx.save_for_backward(s, c)
            ctx.save_for_forward(s, c)
            return s, c                            # both saved tensors are outputs

        @staticmethod
        def backward(ctx, gs, gc):
            s, c = ctx.saved_tensors
            return gs * c - gc * s

        @staticmethod
        def jvp(ctx, t):
            s, c = ctx.saved_tensors
            return t * c, -t * s

    class Cube(m.autograd.Function):               # torch 2.x style: setup_context
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * t

    class Square(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @once
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class NoJvp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class WrongCount(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g.reshape(1).expand(2) * 1.0

    return {k: v for k, v in locals().items() if isinstance(v, type)}


C, T = make(cr), make(torch)
LIBS = [(cr, C), (torch, T)]


def _t(m, a, rg=True):
    return m.tensor(a, dtype=m.float64, requires_grad=rg)


def _np(t):
    return None if t is None else t.detach().numpy()


def _both(fn):
    """Run fn(m, F) for both libraries and compare every returned array."""
    rc, rt = fn(cr, C), fn(torch, T)
    assert len(rc) == len(rt)
    for a, b in zip(rc, rt):
        if isinstance(b, (str, bool, tuple)):
            assert a == b
        else:
            np.testing.assert_allclose(_np(a), _np(b), atol=1e-12)
    return rc


def test_exp_value_grad_and_node_name():
    def run(m, F):
        x = _t(m, X)
        y = F["MyExp"].apply(x)
        y.backward(_t(m, Y, rg=False))
        return y, x.grad, type(y.grad_fn).__name__, y.requires_grad
    rc = _both(run)
    assert rc[2] == "MyExpBackward"


def test_exp_double_backward_uses_saved_output():
    """backward reads the saved OUTPUT: double backward must differentiate through it."""
    def run(m, F):
        x = _t(m, X)
        y = F["MyExp"].apply(x * 2)
        (g,) = m.autograd.grad((y * y).sum(), x, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), x)
        return g, h
    g, h = _both(run)
    np.testing.assert_allclose(_np(g), 4 * np.exp(4 * X))          # d/dx e^{4x}


def test_two_outputs_and_their_double_backward():
    def run(m, F):
        x = _t(m, X)
        s, c = F["SinCos"].apply(x)
        (g,) = m.autograd.grad((s * c).sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        return s, c, g, h, type(s.grad_fn).__name__, type(c.grad_fn).__name__
    rc = _both(run)
    assert rc[4] == rc[5] == "SinCosBackward"


def test_only_one_of_two_outputs_used():
    def run(m, F):
        x = _t(m, X)
        s, c = F["SinCos"].apply(x)
        c.sum().backward()
        return (x.grad,)
    _both(run)


def test_mark_non_differentiable_and_needs_input_grad():
    def run(m, F):
        x, y = _t(m, X), _t(m, Y, rg=False)
        out, idx = F["MulAdd"].apply(x, y, 2.0)
        out.sum().backward()
        return (out, idx, x.grad, idx.requires_grad, out.requires_grad,
                tuple(bool(b) for b in (idx.dtype == m.int64,)))
    _both(run)
    x, y = _t(cr, X), _t(cr, Y, rg=False)
    seen = {}

    class Probe(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["needs"] = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, None, None
    Probe.apply(x, y, 3)
    assert seen["needs"] == (True, False, False)
    with cr.no_grad():
        Probe.apply(x, y, 3)
    assert seen["needs"] == (False, False, False)


def test_setup_context_style():
    def run(m, F):
        x = _t(m, X)
        y = F["Cube"].apply(x)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        return y, g, h
    _both(run)


@pytest.mark.parametrize("name", ["MyExp", "Cube"])
def test_jvp_single_output(name):
    def run(m, F):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(_t(m, X, rg=False), _t(m, Y, rg=False))
            out = F[name].apply(d)
            return (fw.unpack_dual(out).tangent,)
    _both(run)


def test_jvp_multi_output_and_constants():
    def run(m, F):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            d = fw.make_dual(_t(m, X, rg=False), _t(m, Y, rg=False))
            s, c = F["SinCos"].apply(d)
            o, i = F["MulAdd"].apply(d, _t(m, Y, rg=False), 1.0)
            return (fw.unpack_dual(s).tangent, fw.unpack_dual(c).tangent,
                    fw.unpack_dual(o).tangent)
    _both(run)


def test_forward_over_reverse_through_function():
    """HVP through a custom Function whose backward uses chainrule ops."""
    fw = cr.autograd.forward_ad
    x = _t(cr, X)
    with fw.dual_level():
        d = fw.make_dual(x, _t(cr, Y, rg=False))
        (g,) = cr.autograd.grad(C["Cube"].apply(d).sum(), d)
        hv = fw.unpack_dual(g).tangent
    np.testing.assert_allclose(_np(hv), 6 * X * Y, atol=1e-12)


def test_missing_jvp_raises():
    fw = cr.autograd.forward_ad
    with fw.dual_level():
        d = fw.make_dual(_t(cr, X, rg=False), _t(cr, Y, rg=False))
        with pytest.raises(NotImplementedError, match="jvp"):
            C["NoJvp"].apply(d)


def test_once_differentiable():
    for m, F in LIBS:
        x = _t(m, X)
        (g,) = m.autograd.grad(F["Square"].apply(x).sum(), x)
        np.testing.assert_allclose(_np(g), 2 * X)
    # differentiating its backward again: chainrule raises (never a silently wrong value)
    x = _t(cr, X)
    (g,) = cr.autograd.grad((C["Square"].apply(x) * x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        cr.autograd.grad(g.sum(), x)


def test_saved_tensor_modified_inplace_raises():
    for m, F in LIBS:
        x = _t(m, X)
        y = F["MyExp"].apply(x)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_wrong_number_and_shape_of_gradients():
    for m, F in LIBS:
        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            F["WrongCount"].apply(_t(m, X), _t(m, Y)).sum().backward()
        with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
            F["WrongShape"].apply(_t(m, X)).backward()


def test_no_grad_inputs_return_plain_outputs():
    y = C["MyExp"].apply(_t(cr, X, rg=False))
    assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_allclose(_np(y), np.exp(X))


def test_gradcheck_on_custom_functions():
    from chainrule.autograd import gradcheck, gradgradcheck
    for name in ("MyExp", "Cube"):
        x = _t(cr, X)
        assert gradcheck(C[name].apply, (x,), check_forward_ad=True)
        assert gradgradcheck(C[name].apply, (x,))
    x = _t(cr, X)
    assert gradcheck(lambda a: C["SinCos"].apply(a), (x,), check_forward_ad=True)
    assert gradgradcheck(lambda a: C["SinCos"].apply(a), (x,))


def test_instantiating_raises():
    with pytest.raises(RuntimeError, match="apply"):
        C["MyExp"]()


def test_function_transforms_through_custom_functions():
    """grad / jacfwd / hessian (forward-over-reverse) / jacrev(jacrev) through Functions,
    against closed forms."""
    import chainrule.func as cf
    x = _t(cr, X, rg=False)
    E, S = C["MyExp"].apply, C["SinCos"].apply
    np.testing.assert_allclose(_np(cf.grad(lambda a: E(a).sum())(x)), np.exp(X))
    np.testing.assert_allclose(_np(cf.jacfwd(E)(x)), np.diag(np.exp(X)))
    hess = np.diag(np.exp(X ** 2) * (2 + 4 * X ** 2))
    np.testing.assert_allclose(_np(cf.hessian(lambda a: E(a * a).sum())(x)), hess)
    np.testing.assert_allclose(_np(cf.jacrev(cf.jacrev(lambda a: E(a * a).sum()))(x)), hess)
    f = lambda a: (S(a)[0] * S(a)[1]).sum()            # sin(2a)/2 summed
    np.testing.assert_allclose(_np(cf.hessian(f)(x)), np.diag(-2 * np.sin(2 * X)), atol=1e-12)


def test_zero_dim_function_on_numpy_path():
    class Sq(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    (Sq.apply(x * 2) * 3).backward()
    assert x.grad.item() == 72.0


def test_broadcast_gradient_is_summed_back_like_torch():
    res = []
    for m in (cr, torch):
        class B(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return (g * 2).expand(2, 3)
        x = m.ones(3, requires_grad=True)
        B.apply(x).sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_array_equal(res[0], res[1])


def test_second_backward_without_retain_graph_raises_like_torch():
    for m, F in LIBS:
        x = _t(m, X)
        y = F["MyExp"].apply(x)
        y.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.sum().backward()
        y = F["MyExp"].apply(x)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        np.testing.assert_allclose(_np(x.grad), 3 * np.exp(X))
