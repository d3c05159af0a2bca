"""chainrule.autograd.functional (issue 4) against torch.autograd.functional: jacobian
(both strategies), hessian, vjp, jvp, hvp, vhp; create_graph, strict, tuple inputs/outputs,
and PyTorch's errors."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TA

import chainrule as cr
import chainrule.autograd.functional as CA

X = np.array([0.3, 1.2, -0.7])
Y = np.array([0.1, 0.2, 0.5])
V = np.array([1.0, -2.0, 0.5])


def f(m):
    return lambda x: (m.sin(x) * x ** 2).sum()


def g(m):
    return lambda x, y: (x * y.exp(), (x @ y).sin())


def h(m):
    return lambda a, b: (a * b.sin()).sum() * a.sum()


def _leaves(o):
    return [x for e in o for x in _leaves(e)] if isinstance(o, (tuple, list)) else [o]


def _run(name, call, arrays, rg, check_rg=True):
    xc = [cr.tensor(a, dtype=cr.float64, requires_grad=rg) for a in arrays]
    xt = [torch.tensor(a, dtype=torch.float64, requires_grad=rg) for a in arrays]
    rc, rt = call(CA, cr, *xc), call(TA, torch, *xt)
    lc, lt = _leaves(rc), _leaves(rt)
    assert len(lc) == len(lt), name
    for a, b in zip(lc, lt):
        assert tuple(a.shape) == tuple(b.shape), name
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-10,
                                   err_msg=name)
        if check_rg:
            assert a.requires_grad == b.requires_grad, name
    return lc, lt, xc, xt


CALLS = [
    ("jacobian", lambda A, m, x: A.jacobian(f(m), x), [X]),
    ("jacobian_tuple", lambda A, m, x, y: A.jacobian(g(m), (x, y)), [X, Y]),
    ("jacobian_cg", lambda A, m, x, y: A.jacobian(g(m), (x, y), create_graph=True), [X, Y]),
    ("jacobian_single_out_tuple_in", lambda A, m, x, y: A.jacobian(h(m), (x, y)), [X, Y]),
    ("jacobian_tuple_out_single_in", lambda A, m, x: A.jacobian(lambda a: (a * 2, a.sum()), x),
     [X]),
    ("hessian", lambda A, m, x: A.hessian(f(m), x), [X]),
    ("hessian_cg", lambda A, m, x: A.hessian(f(m), x, create_graph=True), [X]),
    ("hessian_tuple", lambda A, m, x, y: A.hessian(h(m), (x, y)), [X, Y]),
    ("vjp", lambda A, m, x, y, v: A.vjp(g(m), (x, y), (v, v.sum())), [X, Y, V]),
    ("vjp_cg", lambda A, m, x, y, v: A.vjp(g(m), (x, y), (v, v.sum()), create_graph=True),
     [X, Y, V]),
    ("vjp_scalar_no_v", lambda A, m, x: A.vjp(f(m), x), [X]),
    ("jvp", lambda A, m, x, y, v: A.jvp(g(m), (x, y), (v, v)), [X, Y, V]),
    ("jvp_cg", lambda A, m, x, y, v: A.jvp(g(m), (x, y), (v, v), create_graph=True), [X, Y, V]),
    ("hvp", lambda A, m, x, v: A.hvp(f(m), x, v), [X, V]),
    ("hvp_cg", lambda A, m, x, v: A.hvp(f(m), x, v, create_graph=True), [X, V]),
    ("hvp_tuple", lambda A, m, x, y, v: A.hvp(h(m), (x, y), (v, v)), [X, Y, V]),
    ("vhp", lambda A, m, x, v: A.vhp(f(m), x, v), [X, V]),
    ("vhp_cg", lambda A, m, x, v: A.vhp(f(m), x, v, create_graph=True), [X, V]),
    ("vhp_tuple", lambda A, m, x, y, v: A.vhp(h(m), (x, y), (v, v)), [X, Y, V]),
]


@pytest.mark.parametrize("rg", [False, True])
@pytest.mark.parametrize("name, call, arrays", CALLS, ids=[c[0] for c in CALLS])
def test_against_torch(name, call, arrays, rg):
    lc, lt, xc, xt = _run(name, call, arrays, rg)
    # with create_graph and inputs requiring grad, results differentiate like torch's
    if rg and name.endswith("_cg"):
        sc = sum((t ** 2).sum() for t in lc if t.requires_grad)
        st = sum((t ** 2).sum() for t in lt if t.requires_grad)
        for a, b in zip(cr.autograd.grad(sc, xc, allow_unused=True),
                        torch.autograd.grad(st, xt, allow_unused=True)):
            if b is None:
                assert a is None or not np.any(a.numpy())
            else:
                np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-9)


def test_forward_mode_strategies():
    _run("jac_fwd", lambda A, m, x, y: A.jacobian(g(m), (x, y), vectorize=True,
                                                  strategy="forward-mode"), [X, Y], False)
    # torch's forward-mode Hessian keeps a grad_fn on its result; values must match
    _run("hess_fwd", lambda A, m, x, y: A.hessian(h(m), (x, y), vectorize=True,
                                                  outer_jacobian_strategy="forward-mode"),
         [X, Y], False, check_rg=False)


def test_vectorize_accepted():
    _run("jac_vec", lambda A, m, x: A.jacobian(f(m), x, vectorize=True), [X], False)


def test_independent_output_gives_zeros_or_strict_error():
    for A, m in ((CA, cr), (TA, torch)):
        x = m.tensor(X, dtype=m.float64)
        J = A.jacobian(lambda a: m.ones(2, dtype=m.float64), x)
        assert tuple(J.shape) == (2, 3) and not np.any(J.numpy())
        with pytest.raises(RuntimeError, match="does not require gradients"):
            A.jacobian(lambda a: m.ones(2, dtype=m.float64), x, strict=True)
        with pytest.raises(RuntimeError, match="independent of input 1"):
            A.vjp(lambda a, b: a * 2, (x, x), x, strict=True)


ERRORS = [
    (lambda A, m, x: A.jacobian(lambda a: a * 2, x, strategy="forward-mode"),
     NotImplementedError, "only implemented for `vectorize=True`"),
    (lambda A, m, x: A.jacobian(lambda a: a * 2, x, strategy="bad"), AssertionError,
     "Expected strategy"),
    (lambda A, m, x: A.jacobian(lambda a: a * 2, x, strict=True, vectorize=True), RuntimeError,
     "not supported together"),
    (lambda A, m, x: A.vjp(lambda a: a * 2, x), RuntimeError, "v can only be None"),
    (lambda A, m, x: A.jvp(lambda a: a.sum(), x), RuntimeError, "v can only be None"),
    (lambda A, m, x: A.hvp(lambda a: a ** 3, x, x), RuntimeError, "should contain a single"),
    (lambda A, m, x: A.hessian(lambda a: a ** 3, x), RuntimeError, "should contain a single"),
    (lambda A, m, x: A.vjp(lambda a: 3, x), TypeError, "must be either a Tensor or a tuple"),
    (lambda A, m, x: A.vjp(lambda a: a * 2, [1.0]), TypeError, "inputs given to vjp"),
    (lambda A, m, x: A.hvp(lambda a: (a ** 2).sum(), x, m.ones(2)), RuntimeError,
     "v has invalid size"),
]


@pytest.mark.parametrize("call, exc, text", ERRORS)
def test_errors_like_torch(call, exc, text):
    for A, m in ((TA, torch), (CA, cr)):
        with pytest.raises(exc, match=text):
            call(A, m, m.tensor(X, dtype=m.float64))
