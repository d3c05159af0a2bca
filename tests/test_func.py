"""chainrule.func transforms (issue 4) against torch.func on the same functions: values,
gradients, Jacobians, Hessians, nested transforms, argnums, has_aux, pytrees, errors."""
import numpy as np
import pytest
import torch
import torch.func as tf

import chainrule as cr
import chainrule.func as cf

X = np.array([0.3, -1.2, 0.8])
Y = np.array([0.1, 0.2, -0.5])
V = np.array([1.0, -2.0, 0.5])


def f1(m):                      # scalar function of one vector
    return lambda x: (m.sin(x) * x ** 2).sum() + m.exp(x).prod()


def f2(m):                      # two inputs, two outputs (tuple)
    return lambda x, y: (x * m.exp(y), m.sin(x @ y))


def f3(m):                      # scalar of two inputs
    return lambda x, y: (m.tanh(x * y) * x).sum() ** 2


def _args(m, *arrays, rg=False):
    return [m.tensor(a, dtype=m.float64, requires_grad=rg) for a in arrays]


def _leaves(obj):
    if isinstance(obj, (tuple, list)):
        return [x for o in obj for x in _leaves(o)]
    if isinstance(obj, dict):
        return [x for k in sorted(obj) for x in _leaves(obj[k])]
    return [obj]


def same(ours, theirs, atol=1e-10, check_rg=True):
    lo, lt = _leaves(ours), _leaves(theirs)
    assert len(lo) == len(lt)
    for a, b in zip(lo, lt):
        if not isinstance(b, torch.Tensor):
            assert a == b
            continue
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=1e-9)
        if check_rg:
            assert a.requires_grad == b.requires_grad, (a, b)
            assert (a.grad_fn is None) == (b.grad_fn is None)


# --- each transform, plain and nested -------------------------------------------------------

CASES = [
    ("grad", lambda T, m: T.grad(f1(m)), [X]),
    ("grad_argnums1", lambda T, m: T.grad(f3(m), argnums=1), [X, Y]),
    ("grad_argnums_tuple", lambda T, m: T.grad(f3(m), argnums=(0, 1)), [X, Y]),
    ("grad_neg_argnum", lambda T, m: T.grad(f3(m), argnums=-1), [X, Y]),
    ("grad_and_value", lambda T, m: T.grad_and_value(f3(m), argnums=(1, 0)), [X, Y]),
    ("grad_grad", lambda T, m: T.grad(T.grad(lambda x: m.sin(x) * x ** 3)), [np.array(0.7)]),
    ("grad_grad_grad", lambda T, m: T.grad(T.grad(T.grad(lambda x: m.exp(x * x)))),
     [np.array(0.4)]),
    ("jacrev", lambda T, m: T.jacrev(f2(m)), [X, Y]),
    ("jacrev_argnums", lambda T, m: T.jacrev(f2(m), argnums=(0, 1)), [X, Y]),
    ("jacfwd", lambda T, m: T.jacfwd(f2(m)), [X, Y]),
    ("jacfwd_argnums", lambda T, m: T.jacfwd(f2(m), argnums=(0, 1)), [X, Y]),
    ("jacfwd_2d_input", lambda T, m: T.jacfwd(lambda a: a @ a.T), [np.arange(6.).reshape(2, 3)]),
    ("jacrev_2d_input", lambda T, m: T.jacrev(lambda a: a @ a.T), [np.arange(6.).reshape(2, 3)]),
    ("hessian", lambda T, m: T.hessian(f1(m)), [X]),
    ("hessian_argnums", lambda T, m: T.hessian(f3(m), argnums=(0, 1)), [X, Y]),
    ("jacfwd_jacrev", lambda T, m: T.jacfwd(T.jacrev(f1(m))), [X]),
    ("jacrev_jacrev", lambda T, m: T.jacrev(T.jacrev(f1(m))), [X]),
    ("jacfwd_jacfwd", lambda T, m: T.jacfwd(T.jacfwd(f1(m))), [X]),
    ("jacrev_jacfwd", lambda T, m: T.jacrev(T.jacfwd(f1(m))), [X]),
    ("jacrev_grad", lambda T, m: T.jacrev(T.grad(f3(m), argnums=1), argnums=0), [X, Y]),
    ("third_order", lambda T, m: T.jacfwd(T.jacrev(T.jacrev(lambda x: (x ** 4).sum()))), [X]),
    ("jvp_of_grad", lambda T, m: (lambda x, v: T.jvp(T.grad(f1(m)), (x,), (v,))), [X, V]),
    ("grad_of_jvp", lambda T, m: T.grad(lambda x, v: T.jvp(f1(m), (x,), (v,))[1]), [X, V]),
    ("vjp_of_jvp", lambda T, m: (lambda x, v: T.vjp(lambda a: T.jvp(f2(m), (a, v), (v, v))[1][0],
                                                    x)[1](v)), [X, V]),
    ("hessian_of_jvp", lambda T, m: T.hessian(lambda x: T.jvp(f1(m), (x,), (x * 0 + 1,))[1]),
     [X]),
    ("grad_closure_over_outer", lambda T, m: T.grad(
        lambda x: T.grad(lambda y: (x * y).sin().sum())(x).sum()), [X]),
    ("jvp_no_perturbation_confusion", lambda T, m: (lambda a, b: T.jvp(
        lambda x: T.jvp(lambda y: x * y * y, (b,), (b * 0 + 1,))[1], (a,), (a * 0 + 1,))),
     [np.array(2.0), np.array(3.0)]),
    ("jacfwd_jacfwd_of_jvp", lambda T, m: T.jacfwd(T.jacfwd(
        lambda x: T.jvp(lambda y: (x * y).sin(), (x,), (x * 0 + 1,))[1])), [np.array(0.5)]),
    ("jvp", lambda T, m: (lambda x, y, v: T.jvp(f2(m), (x, y), (v, v))), [X, Y, V]),
    ("vjp", lambda T, m: (lambda x, y, v: T.vjp(f2(m), x, y)[1]((v, v.sum()))), [X, Y, V]),
    ("vjp_value", lambda T, m: (lambda x, y: T.vjp(f2(m), x, y)[0]), [X, Y]),
]


@pytest.mark.parametrize("name, build, arrays", CASES, ids=[c[0] for c in CASES])
def test_transform_vs_torch_func(name, build, arrays):
    ours = build(cf, cr)(*_args(cr, *arrays))
    theirs = build(tf, torch)(*_args(torch, *arrays))
    same(ours, theirs)


@pytest.mark.parametrize("name, build, arrays", CASES[:12], ids=[c[0] for c in CASES[:12]])
def test_transform_stays_connected_to_user_graph(name, build, arrays):
    """Inputs that require grad: results are differentiable w.r.t. them (as torch.func)."""
    xs_c, xs_t = _args(cr, *arrays, rg=True), _args(torch, *arrays, rg=True)
    ours, theirs = build(cf, cr)(*xs_c), build(tf, torch)(*xs_t)
    same(ours, theirs)
    lc = [t for t in _leaves(ours) if t.requires_grad]
    lt = [t for t in _leaves(theirs) if t.requires_grad]
    if lt:
        sc = sum((t ** 2).sum() for t in lc)
        st = sum((t ** 2).sum() for t in lt)
        gc = cr.autograd.grad(sc, xs_c, allow_unused=True)
        gt = torch.autograd.grad(st, xs_t, allow_unused=True)
        for a, b in zip(gc, gt):
            if b is None:
                assert a is None or not np.any(a.numpy())
            else:
                np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-10)


def test_closure_tensor_requiring_grad_keeps_graph():
    w_c, w_t = _args(cr, Y, rg=True)[0], _args(torch, Y, rg=True)[0]
    g_c = cf.grad(lambda v: (w_c * v.sin()).sum())(_args(cr, X)[0])
    g_t = tf.grad(lambda v: (w_t * v.sin()).sum())(_args(torch, X)[0])
    same(g_c, g_t)
    g_c.sum().backward()
    g_t.sum().backward()
    np.testing.assert_allclose(w_c.grad.numpy(), w_t.grad.numpy())


def test_has_aux():
    def f(m):
        return lambda x: ((x ** 2).sum(), {"aux": x * 2, "c": (x.sum(), x.cos())})
    for name in ("grad", "jacrev", "jacfwd"):
        ours = getattr(cf, name)(f(cr), has_aux=True)(_args(cr, X)[0])
        theirs = getattr(tf, name)(f(torch), has_aux=True)(_args(torch, X)[0])
        same(ours, theirs)
    g_c, (v_c, a_c) = cf.grad_and_value(f(cr), has_aux=True)(_args(cr, X)[0])
    g_t, (v_t, a_t) = tf.grad_and_value(f(torch), has_aux=True)(_args(torch, X)[0])
    same((g_c, v_c, a_c), (g_t, v_t, a_t))
    o_c, fn_c, aux_c = cf.vjp(f(cr), _args(cr, X)[0], has_aux=True)
    o_t, fn_t, aux_t = tf.vjp(f(torch), _args(torch, X)[0], has_aux=True)
    same((o_c, aux_c, fn_c(cr.tensor(2.0, dtype=cr.float64))),
         (o_t, aux_t, fn_t(torch.tensor(2.0, dtype=torch.float64))))
    jc = cf.jvp(f(cr), tuple(_args(cr, X)), tuple(_args(cr, V)), has_aux=True)
    jt = tf.jvp(f(torch), tuple(_args(torch, X)), tuple(_args(torch, V)), has_aux=True)
    same(jc, jt)


def test_pytree_inputs_and_outputs():
    def f(m):
        return lambda p: {"y": p["a"] * p["b"][0], "z": (p["b"][1] ** 2).sum()}
    pc = {"a": cr.tensor(X), "b": [cr.tensor(Y), cr.tensor(V)]}
    pt = {"a": torch.tensor(X), "b": [torch.tensor(Y), torch.tensor(V)]}
    for name in ("jacrev", "jacfwd"):
        same(getattr(cf, name)(f(cr))(pc), getattr(tf, name)(f(torch))(pt))
    same(cf.grad(lambda p: f(cr)(p)["z"])(pc), tf.grad(lambda p: f(torch)(p)["z"])(pt))


def test_vjp_fn_reusable_and_structured():
    out, fn = cf.vjp(f2(cr), *_args(cr, X, Y))
    a = fn((cr.tensor(V), cr.tensor(1.0, dtype=cr.float64)))
    b = fn((cr.tensor(V), cr.tensor(1.0, dtype=cr.float64)))
    for u, w in zip(a, b):
        np.testing.assert_array_equal(u.numpy(), w.numpy())
    assert isinstance(a, tuple) and len(a) == 2


def test_outputs_detached_at_top_level():
    g = cf.grad(f1(cr))(cr.tensor(X))
    assert not g.requires_grad and g.grad_fn is None and g._fw is None
    h = cf.hessian(f1(cr))(cr.tensor(X))
    assert not h.requires_grad and h._fw is None


ERRORS = [
    (lambda T, m: T.grad(lambda x: x * 2)(m.ones(3)), RuntimeError, "scalar Tensor"),
    (lambda T, m: T.grad(lambda x: x.sum(), argnums=1)(m.ones(3)), RuntimeError,
     "Got argnum=1, but only 1 positional inputs"),
    (lambda T, m: T.grad(lambda x: x.sum(), argnums=1.5)(m.ones(3)), RuntimeError,
     "argnums must be int or Tuple"),
    (lambda T, m: T.grad(lambda x: x.sum(), argnums=())(m.ones(3)), RuntimeError,
     "argnums must be non-empty"),
    (lambda T, m: T.grad(lambda x: x.sum(), has_aux=True)(m.ones(3)), RuntimeError,
     r"should be a tuple: \(output, aux\)"),
    (lambda T, m: T.grad(lambda x: 3.0)(m.ones(3)), RuntimeError, "to return a Tensor"),
    # (a Python float is taken, as a NumPy value: tests/test_numpy_interop.py)
    (lambda T, m: T.grad(lambda x: x.sum())("3.0"), ValueError, "must be Tensor"),
    (lambda T, m: T.jvp(lambda x: x, m.ones(3), m.ones(3)), RuntimeError,
     "Expected primals to be a tuple"),
    (lambda T, m: T.jvp(lambda x: x, (m.ones(3),), (m.ones(3), m.ones(3))), RuntimeError,
     "same python structure"),
    (lambda T, m: T.jvp(lambda x: x, (m.ones(3),), (m.ones(2),)), RuntimeError,
     "different size"),
    (lambda T, m: T.vjp(lambda x: x, m.ones(3))[1]((m.ones(3),)), RuntimeError,
     "Expected pytree structure of cotangents"),
    (lambda T, m: T.vjp(lambda x: x, m.ones(3))[1](m.ones(2)), RuntimeError,
     "Mismatch in shape"),
    (lambda T, m: T.jacrev(lambda x: 3.0)(m.ones(3)), RuntimeError, "unsupported type"),
]


@pytest.mark.parametrize("call, exc, text", ERRORS)
def test_errors_like_torch_func(call, exc, text):
    with pytest.raises(exc, match=text):
        call(tf, torch)
    with pytest.raises(exc, match=text):
        call(cf, cr)


def test_importable_as_module_and_attribute():
    import chainrule.func as mod
    assert cr.func is mod and callable(cr.func.jacfwd)


def test_jacobian_cost_is_one_pass_per_row_or_column():
    """jacrev: one reverse pass per output element; jacfwd: one forward pass per input
    element (counted by wrapping autograd.grad and the function)."""
    import chainrule.func as mod
    calls = {"f": 0, "grad": 0}
    real = mod._autograd_grad

    def counting_grad(*a, **k):
        calls["grad"] += 1
        return real(*a, **k)

    def f(x):
        calls["f"] += 1
        return cr.stack([x.sum(), (x * x).sum()])            # 2 outputs

    mod._autograd_grad = counting_grad
    try:
        cf.jacrev(f)(cr.ones(5))
        assert calls == {"f": 1, "grad": 2}
        calls.update(f=0, grad=0)
        cf.jacfwd(f)(cr.ones(5))
        assert calls == {"f": 5, "grad": 0}
    finally:
        mod._autograd_grad = real
