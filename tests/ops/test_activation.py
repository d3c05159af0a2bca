"""Activations (ops/activation.py): sigmoid, relu, softplus, gelu, silu, leaky_relu, elu,
logsigmoid, and the softmax family against PyTorch and finite differences: the OpCase rows
(value, VJP, JVP, second order in float64, float32 preservation) and the checks beyond the
table."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def _away(r, shape, points=(0.0,), gap=0.1, lo=-2.0, hi=2.0):
    """Uniform draws kept ``gap`` away from the kinks in ``points``."""
    x = r.uniform(lo, hi, shape)
    for p in points:
        near = np.abs(x - p) < gap
        x = np.where(near, p + np.sign(x - p + 1e-12) * gap * 2, x)
    return x


def fn(name):
    return lambda m: getattr(m.nn.functional, name)


BIG = [-1000.0, -50.0, -1.0, 0.0, 2.0, 50.0, 1000.0]


STABLE = {
    "sigmoid": lambda m, x: m.sigmoid(x),
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "softplus_beta": lambda m, x: m.nn.functional.softplus(x, beta=3.0, threshold=5.0),
    "logsigmoid": lambda m, x: m.nn.functional.logsigmoid(x),
    "silu": lambda m, x: m.nn.functional.silu(x),
    "elu": lambda m, x: m.nn.functional.elu(x),
    "gelu": lambda m, x: m.nn.functional.gelu(x),
    "gelu_tanh": lambda m, x: m.nn.functional.gelu(x, approximate="tanh"),
    "logsumexp": lambda m, x: m.logsumexp(x, 0),
    "softmax": lambda m, x: m.softmax(x, 0),
    "log_softmax": lambda m, x: m.log_softmax(x, 0),
}


KINKS = {
    "relu": lambda m, x: m.nn.functional.relu(x),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x, 0.2),
    "elu": lambda m, x: m.nn.functional.elu(x, alpha=0.5),
    "softplus_threshold": lambda m, x: m.nn.functional.softplus(x, beta=2.0, threshold=0.0),
}


def _book_masked_softmax(torch, nn):
    # (d2l, "Attention Scoring Functions"; run with torch = chainrule or PyTorch)
    def masked_softmax(X, valid_lens):  #@save
        """Perform softmax operation by masking elements on the last axis."""
        # X: 3D tensor, valid_lens: 1D or 2D tensor
        def _sequence_mask(X, valid_len, value=0):
            maxlen = X.size(1)
            mask = torch.arange((maxlen), dtype=torch.float32,
                                device=X.device)[None, :] < valid_len[:, None]
            X[~mask] = value
            return X

        if valid_lens is None:
            return nn.functional.softmax(X, dim=-1)
        else:
            shape = X.shape
            if valid_lens.dim() == 1:
                valid_lens = torch.repeat_interleave(valid_lens, shape[1])
            else:
                valid_lens = valid_lens.reshape(-1)
            # On the last axis, replace masked elements with a very large negative
            # value, whose exponentiation outputs 0
            X = _sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
            return nn.functional.softmax(X.reshape(shape), dim=-1)
    return masked_softmax


CASES = [
    OpCase("sigmoid", lambda m, a: m.sigmoid(a), [(4,)], domain=(-5, 5), op="sigmoid"),
    OpCase("relu", lambda m, a: m.relu(a), [(6,)], op="relu"),
    # the VJPs of sigmoid and relu as ops (a derivative of a derivative runs their rules)
    OpCase("sigmoid_backward", lambda m, g, y: (torch.ops.aten.sigmoid_backward if m is torch
                                               else cr.ops.activation.sigmoid_backward)(g, y),
           [(2, 3), (2, 3)], domain=(0, 1), op="sigmoid_backward"),
    OpCase("threshold_backward",
           lambda m, g, y: (torch.ops.aten.threshold_backward(g, y, 0) if m is torch
                            else cr.ops.activation.relu_backward(g, y)),
           [(7,), (7,)], op="threshold_backward",
           make=lambda r: [r.uniform(-2, 2, 7), _away(r, 7)]),
    OpCase("softplus", lambda m, a: fn("softplus")(m)(a), [(2, 3)], domain=(-4, 4),
           op="softplus"),
    OpCase("softplus_beta_threshold", lambda m, a: fn("softplus")(m)(a, beta=2.0, threshold=1.0),
           [(7,)], op="softplus", make=lambda r: [_away(r, 7, points=(0.5,))]),
    OpCase("softplus_0d", lambda m, a: fn("softplus")(m)(a, 0.5), [()], op="softplus"),
    OpCase("logsigmoid", lambda m, a: fn("logsigmoid")(m)(a), [(2, 3)], domain=(-5, 5),
           op="logsigmoid"),
    OpCase("gelu", lambda m, a: fn("gelu")(m)(a), [(2, 3)], domain=(-3, 3), op="gelu"),
    OpCase("gelu_tanh", lambda m, a: fn("gelu")(m)(a, approximate="tanh"), [(2, 3)],
           domain=(-3, 3), op="gelu"),
    OpCase("gelu_0d", lambda m, a: fn("gelu")(m)(a), [()], op="gelu"),
    OpCase("silu", lambda m, a: fn("silu")(m)(a), [(2, 3)], domain=(-4, 4), op="silu"),
    OpCase("leaky_relu", lambda m, a: fn("leaky_relu")(m)(a), [(6,)], op="leaky_relu",
           make=lambda r: [_away(r, 6)]),
    OpCase("leaky_relu_slope", lambda m, a: fn("leaky_relu")(m)(a, 0.3) * a, [(2, 3)],
           op="leaky_relu", make=lambda r: [_away(r, (2, 3))]),
    OpCase("elu", lambda m, a: fn("elu")(m)(a), [(6,)], op="elu",
           make=lambda r: [_away(r, 6)]),
    OpCase("elu_alpha", lambda m, a: fn("elu")(m)(a, alpha=0.5), [(2, 3)], op="elu",
           make=lambda r: [_away(r, (2, 3))]),
    OpCase("F_relu", lambda m, a: fn("relu")(m)(a) * a, [(6,)], op="relu",
           make=lambda r: [_away(r, 6)]),
    OpCase("F_sigmoid", lambda m, a: fn("sigmoid")(m)(a), [(6,)], op="sigmoid"),
    # softmax family
    OpCase("softmax", lambda m, a: m.softmax(a, dim=-1), [(3, 4)], op="softmax"),
    OpCase("softmax_dim0", lambda m, a: m.softmax(a, 0), [(3, 4)], op="softmax"),
    OpCase("softmax_3d", lambda m, a: a.softmax(1), [(2, 3, 2)], op="softmax"),
    OpCase("softmax_0d", lambda m, a: m.softmax(a, 0) * a, [()], op="softmax"),
    OpCase("F_softmax", lambda m, a: fn("softmax")(m)(a, dim=1), [(2, 5)], op="softmax"),
    OpCase("F_softmax_dtype", lambda m, a: fn("softmax")(m)(a, dim=1, dtype=m.float64),
           [(2, 5)], op="softmax"),
    OpCase("log_softmax", lambda m, a: m.log_softmax(a, dim=-1), [(3, 4)], op="log_softmax"),
    OpCase("log_softmax_dim0", lambda m, a: a.log_softmax(0), [(3, 4)], op="log_softmax"),
    OpCase("log_softmax_0d", lambda m, a: m.log_softmax(a, -1) + a, [()], op="log_softmax"),
    OpCase("F_log_softmax", lambda m, a: fn("log_softmax")(m)(a, 1), [(2, 3, 2)],
           op="log_softmax"),
    OpCase("logsumexp", lambda m, a: m.logsumexp(a, 1), [(3, 4)], op="logsumexp"),
    OpCase("logsumexp_keep", lambda m, a: a.logsumexp(0, keepdim=True), [(3, 4)],
           op="logsumexp"),
    OpCase("logsumexp_dims", lambda m, a: m.logsumexp(a, (0, 2)), [(2, 3, 2)],
           op="logsumexp"),
    OpCase("logsumexp_0d", lambda m, a: m.logsumexp(a, 0), [()], op="logsumexp"),
    OpCase("logsumexp_large", lambda m, a: m.logsumexp(a * 300, 1), [(2, 3)],
           op="logsumexp", atol=1e-5),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(STABLE))
def test_stable_for_large_inputs(name, dtype):
    f = STABLE[name]
    xc = cr.tensor(np.array(BIG, dtype=dtype), requires_grad=True)
    xt = torch.tensor(np.array(BIG, dtype=dtype), requires_grad=True)
    yc, yt = f(cr, xc), f(torch, xt)
    assert np.all(np.isfinite(yc.detach().numpy())), name
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    w = np.linspace(-1, 1, yc.numel()).reshape(tuple(yc.shape)).astype(dtype)
    (gc,) = cr.autograd.grad(yc, xc, cr.tensor(w))
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(w))
    assert np.all(np.isfinite(gc.numpy())), name
    assert gc.dtype == xc.dtype
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["softplus", "logsigmoid", "logsumexp", "log_softmax",
                                  "softmax", "sigmoid", "elu"])
def test_stable_second_order_and_forward(name):
    f = STABLE[name]
    x = np.array(BIG)
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    w = np.linspace(-1, 1, len(x))
    yc, yt = f(cr, xc), f(torch, xt)
    v = np.linspace(-1, 1, yc.numel()).reshape(tuple(yc.shape))
    (gc,) = cr.autograd.grad(yc, xc, cr.tensor(v), create_graph=True)
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(v), create_graph=True)
    (hc,) = cr.autograd.grad((gc * cr.tensor(w)).sum(), xc)
    (ht,) = torch.autograd.grad((gt * torch.tensor(w)).sum(), xt)
    assert np.all(np.isfinite(hc.numpy()))
    np.testing.assert_allclose(hc.numpy(), ht.numpy(), rtol=1e-6, atol=1e-9)
    import chainrule.autograd.forward_ad as fw
    with fw.dual_level():
        tc = fw.unpack_dual(f(cr, fw.make_dual(cr.tensor(x), cr.tensor(w)))).tangent
    import torch.autograd.forward_ad as tfw
    with tfw.dual_level():
        tt = tfw.unpack_dual(f(torch, tfw.make_dual(torch.tensor(x), torch.tensor(w)))).tangent
    np.testing.assert_allclose(tc.numpy(), tt.numpy(), rtol=1e-6, atol=1e-9)


def test_logsumexp_infinities_match_torch():
    for v in ([-np.inf, -np.inf], [np.inf, 0.0], [-np.inf, 1.0]):
        xc = cr.tensor(np.array(v), requires_grad=True)
        xt = torch.tensor(np.array(v), requires_grad=True)
        yc, yt = cr.logsumexp(xc, 0), torch.logsumexp(xt, 0)
        np.testing.assert_array_equal(yc.detach().numpy(), yt.detach().numpy())
        (gc,), (gt,) = cr.autograd.grad(yc, xc), torch.autograd.grad(yt, xt)
        np.testing.assert_array_equal(gc.numpy(), gt.numpy())


@pytest.mark.parametrize("name", sorted(KINKS))
def test_kinks_at_zero_follow_torch(name):
    x = np.array([0.0, -0.0, 1.0, -1.0])
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    (gc,) = cr.autograd.grad(KINKS[name](cr, xc).sum(), xc)
    (gt,) = torch.autograd.grad(KINKS[name](torch, xt).sum(), xt)
    np.testing.assert_array_equal(gc.numpy(), gt.numpy())


def test_leaky_relu_at_zero_is_slope():
    x = cr.tensor([0.0], requires_grad=True)
    cr.nn.functional.leaky_relu(x, 0.25).sum().backward()
    assert x.grad.tolist() == [0.25]


def test_node_names():
    x, t = cr.tensor([0.5, -0.5], requires_grad=True), torch.tensor([0.5, -0.5], requires_grad=True)
    for f in [lambda m, a: m.nn.functional.softplus(a), lambda m, a: m.nn.functional.gelu(a),
              lambda m, a: m.nn.functional.silu(a), lambda m, a: m.nn.functional.elu(a),
              lambda m, a: m.nn.functional.leaky_relu(a), lambda m, a: m.nn.functional.logsigmoid(a),
              lambda m, a: m.softmax(a, 0), lambda m, a: m.log_softmax(a, 0),
              lambda m, a: m.logsumexp(a, 0)]:
        assert f(cr, x).grad_fn.name() == f(torch, t).grad_fn.name()


def test_integer_inputs_raise_like_torch():
    for f in [lambda m, a: m.nn.functional.softplus(a), lambda m, a: m.nn.functional.gelu(a),
              lambda m, a: m.nn.functional.silu(a), lambda m, a: m.nn.functional.elu(a),
              lambda m, a: m.nn.functional.leaky_relu(a), lambda m, a: m.nn.functional.logsigmoid(a),
              lambda m, a: m.softmax(a, 0), lambda m, a: m.log_softmax(a, 0)]:
        with pytest.raises(NotImplementedError):
            f(torch, torch.tensor([1, 2]))
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            f(cr, cr.tensor([1, 2]))
    # logsumexp and softmax(dtype=) accept integers, as in PyTorch
    for f in [lambda m, a: m.logsumexp(a, 0), lambda m, a: m.softmax(a, 0, dtype=m.float64)]:
        a, b = f(cr, cr.tensor([1, 2])), f(torch, torch.tensor([1, 2]))
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_dim_is_required_and_checked():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(TypeError):
        cr.softmax(x)
    with pytest.raises(TypeError):
        cr.logsumexp(x)
    with pytest.raises(IndexError, match="Dimension out of range"):
        cr.softmax(x, 1)
    with pytest.raises(RuntimeError, match="approximate"):
        cr.nn.functional.gelu(x, approximate="fast")


def test_functional_softmax_implicit_dim_warns_like_torch():
    a = np.arange(6.0).reshape(2, 3)
    for f in ("softmax", "log_softmax"):
        with warnings.catch_warnings(record=True) as wc:
            warnings.simplefilter("always")
            yc = getattr(cr.nn.functional, f)(cr.tensor(a))
        with warnings.catch_warnings(record=True) as wt:
            warnings.simplefilter("always")
            yt = getattr(torch.nn.functional, f)(torch.tensor(a))
        np.testing.assert_allclose(yc.numpy(), yt.numpy(), rtol=1e-6)
        assert wc and "Implicit dimension choice" in str(wc[0].message)
        assert wt and "Implicit dimension choice" in str(wt[0].message)


def test_inplace_activations():
    for name, kw in (("relu", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {}),
                     ("silu", {})):
        a = cr.tensor([-1.0, 2.0])
        b = torch.tensor([-1.0, 2.0])
        ra = getattr(cr.nn.functional, name)(a, inplace=True, **kw)
        getattr(torch.nn.functional, name)(b, inplace=True, **kw)
        assert ra is a
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "silu"])
def test_inplace_activation_on_graph_tensor_backpropagates_like_torch(name):
    data = [-1.5, -0.2, 0.3, 2.0]
    grads = []
    for m in (cr, torch):
        a = m.tensor(np.array(data), requires_grad=True)
        x = a * 2
        y = getattr(m.nn.functional, name)(x, inplace=True)
        assert y is x
        (x * x).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5,), (), (2, 5)], ids=["vector", "0-d", "matrix"])
def test_relu_gradient_is_thresholded_not_multiplied(dtype, shape):
    # PyTorch's threshold_backward: where(out <= 0, +0, g).  A product with a 0/1 mask would
    # give -0 (printed "-0.") for a negative g, NaN for an inf/NaN g at an inactive unit, and
    # 0 where the output is NaN; the bits must match, in reverse mode, double backward and
    # forward mode
    x0 = np.array([-1.0, 2.0, -3.0, np.nan, 0.0])
    g0 = np.array([-1.0, -1.0, np.nan, 5.0, -np.inf])
    if shape == ():
        x0, g0 = x0[0], g0[0]
    elif shape == (2, 5):
        x0, g0 = np.stack([x0, x0[::-1]]), np.stack([g0, -g0])
    res = []
    for m in (cr, torch):
        fa = m.autograd.forward_ad
        dt = getattr(m, dtype)
        x = m.tensor(x0, dtype=dt, requires_grad=True)
        g = m.tensor(g0, dtype=dt, requires_grad=True)
        m.relu(x).backward(g)
        gx, = m.autograd.grad(m.relu(x), x, g, create_graph=True)
        ggx, = m.autograd.grad(gx, g, m.ones_like(gx))     # d(gx)/dg: the mask
        with fa.dual_level():
            tan = fa.unpack_dual(m.relu(fa.make_dual(x.detach(), g.detach()))).tangent
        res.append([v.detach().numpy() for v in (x.grad, gx, ggx, tan)])
    for mine, ref in zip(*res):
        assert mine.dtype == ref.dtype and mine.shape == ref.shape
        np.testing.assert_array_equal(mine, ref)
        np.testing.assert_array_equal(np.signbit(mine), np.signbit(ref))


@pytest.mark.parametrize("lens", [[2, 3], [[1, 3], [2, 4]], None])
def test_book_masked_softmax_with_bmm_matches_torch(lens):
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 4, 3))
    w = rng.standard_normal((2, 2, 4))
    res = {}
    for m in (torch, cr):
        qt, kt = m.tensor(q, requires_grad=True), m.tensor(k, requires_grad=True)
        scores = m.bmm(qt, kt.transpose(1, 2)) / np.sqrt(3)
        valid = None if lens is None else m.tensor(lens)
        attn = _book_masked_softmax(m, m.nn)(scores, valid)
        (attn * m.tensor(w)).sum().backward()
        res[m] = [attn.detach().numpy(), qt.grad.numpy(), kt.grad.numpy()]
    for c, t in zip(res[cr], res[torch]):
        np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12)
    if lens == [2, 3]:
        assert np.all(res[cr][0][0, :, 2:] == 0) and np.all(res[cr][0][1, :, 3:] == 0)
