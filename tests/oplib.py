"""Shared checking machinery for the op table: every op against PyTorch (float64) and
against central finite differences, in reverse mode, forward mode and second order.

A row is an ``OpCase``: a function ``fn(lib, *xs)`` written once for both libraries
(``lib`` is ``chainrule`` or ``torch``), input shapes, an input domain, and flags.
"""
import dataclasses
from typing import Callable, Optional, Sequence

import numpy as np
import torch

import chainrule as cr
import chainrule.autograd.forward_ad as cr_fw
import torch.autograd.forward_ad as t_fw


@dataclasses.dataclass
class OpCase:
    name: str                                   # test id
    fn: Callable                                # fn(lib, *inputs) -> Tensor
    shapes: Sequence[tuple]                     # shapes of the differentiable inputs
    domain: tuple = (-2.0, 2.0)                 # inputs drawn uniformly from here
    op: Optional[str] = None                    # name(s) of the rule-table op(s) covered
    grad: bool = True                           # check VJP
    fwd: bool = True                            # check JVP
    second: bool = True                         # check reverse-over-reverse
    make: Optional[Callable] = None             # make(rng) -> list of float64 arrays
    atol: float = 1e-6
    rtol: float = 1e-5
    fd_eps: float = 1e-6
    f32: bool = True                            # float32 dtype-preservation check
    nondiff_output: bool = False                # output has no gradient (argmax ...)
    # False where PyTorch's derivative depends on the platform's floating-point rounding
    # (an exactly singular matrix: LAPACK may return 0 or the adjugate): the derivatives
    # are then checked against finite differences only (add an analytic test beside it)
    vs_torch: bool = True

    def __str__(self):
        return self.name


def inputs(case, seed=0):
    rng = np.random.default_rng(seed)
    if case.make is not None:
        return [np.asarray(a, dtype=np.float64) for a in case.make(rng)]
    lo, hi = case.domain
    return [rng.uniform(lo, hi, size=s) for s in case.shapes]


def _to(lib, arrays, rg=True, dtype=None):
    out = []
    for a in arrays:
        if lib is cr:
            t = cr.tensor(a, dtype=dtype or cr.float64)
        else:
            t = torch.tensor(a, dtype=dtype or torch.float64)
        out.append(t.requires_grad_(rg))
    return out


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return t.detach().numpy()


def _close(a, b, case, what):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                               atol=case.atol, rtol=case.rtol, err_msg=f"{case.name}: {what}")


def _fd_jvp(case, arrays, direction):
    """Central difference of fn along ``direction`` (float64, no graph)."""
    eps = case.fd_eps
    plus = [a + eps * d for a, d in zip(arrays, direction)]
    minus = [a - eps * d for a, d in zip(arrays, direction)]
    with cr.no_grad():
        fp = _np(case.fn(cr, *_to(cr, plus, rg=False)))
        fm = _np(case.fn(cr, *_to(cr, minus, rg=False)))
    return (fp - fm) / (2 * eps)


def check_value(case, seed=0):
    arrays = inputs(case, seed)
    out_c = case.fn(cr, *_to(cr, arrays, rg=False))
    out_t = case.fn(torch, *_to(torch, arrays, rg=False))
    assert tuple(out_c.shape) == tuple(out_t.shape), f"{case.name}: shape"
    assert str(out_c.dtype) == str(out_t.dtype), f"{case.name}: dtype {out_c.dtype} vs {out_t.dtype}"
    _close(_np(out_c), _np(out_t), case, "value vs torch")


def check_vjp(case, seed=0):
    arrays = inputs(case, seed)
    rng = np.random.default_rng(seed + 100)
    xc = _to(cr, arrays)
    xt = _to(torch, arrays)
    out_c = case.fn(cr, *xc)
    out_t = case.fn(torch, *xt)
    v = rng.standard_normal(tuple(out_c.shape))
    gc = cr.autograd.grad(out_c, xc, cr.tensor(v), allow_unused=True)
    gt = torch.autograd.grad(out_t, xt, torch.tensor(v), allow_unused=True)
    for i, (a, b) in enumerate(zip(gc, gt)):
        a = np.zeros(arrays[i].shape) if a is None else _np(a)
        b = np.zeros(arrays[i].shape) if b is None else _np(b)
        if case.vs_torch:
            _close(a, b, case, f"VJP input {i} vs torch")
    # against finite differences: <v, J u> == <J^T v, u>
    u = [rng.standard_normal(a.shape) for a in arrays]
    fd = float(np.sum(v * _fd_jvp(case, arrays, u)))
    an = sum(float(np.sum((0 if g is None else _np(g)) * d)) for g, d in zip(gc, u))
    np.testing.assert_allclose(an, fd, atol=max(case.atol, 1e-5), rtol=1e-4,
                               err_msg=f"{case.name}: VJP vs finite differences")


def check_jvp(case, seed=0):
    arrays = inputs(case, seed)
    rng = np.random.default_rng(seed + 200)
    u = [rng.standard_normal(a.shape) for a in arrays]
    with cr_fw.dual_level():
        duals = [cr_fw.make_dual(x, t) for x, t in zip(_to(cr, arrays, rg=False),
                                                        _to(cr, u, rg=False))]
        tc = cr_fw.unpack_dual(case.fn(cr, *duals)).tangent
        tc = None if tc is None else _np(tc)
    with t_fw.dual_level():
        duals = [t_fw.make_dual(x, t) for x, t in zip(_to(torch, arrays, rg=False),
                                                       _to(torch, u, rg=False))]
        tt = t_fw.unpack_dual(case.fn(torch, *duals)).tangent
        tt = None if tt is None else _np(tt)
    fd = _fd_jvp(case, arrays, u)
    if tc is None:
        tc = np.zeros_like(fd)
    if tt is None:
        tt = np.zeros_like(fd)
    if case.vs_torch:
        _close(tc, tt, case, "JVP vs torch")
    np.testing.assert_allclose(tc, fd, atol=max(case.atol, 1e-5), rtol=1e-4,
                               err_msg=f"{case.name}: JVP vs finite differences")


def _vjp_dot(lib, case, xs, v, u):
    """<J^T v, u> as a differentiable scalar (reverse-over-reverse needs its gradient)."""
    out = case.fn(lib, *xs)
    gs = lib.autograd.grad(out, xs, v, create_graph=True, allow_unused=True)
    total = None
    for g, d in zip(gs, u):
        if g is None:
            continue
        term = (g * d).sum()
        total = term if total is None else total + term
    return total


def check_second_order(case, seed=0):
    arrays = inputs(case, seed)
    rng = np.random.default_rng(seed + 300)
    xc, xt = _to(cr, arrays), _to(torch, arrays)
    with cr.no_grad():
        shape = tuple(case.fn(cr, *_to(cr, arrays, rg=False)).shape)
    v = rng.standard_normal(shape)
    u = [rng.standard_normal(a.shape) for a in arrays]
    sc = _vjp_dot(cr, case, xc, cr.tensor(v), [cr.tensor(d) for d in u])
    st = _vjp_dot(torch, case, xt, torch.tensor(v), [torch.tensor(d) for d in u])
    if st is None or not st.requires_grad:
        # the op is linear (or piecewise linear): its second derivative is zero
        if sc is not None and sc.requires_grad:
            hc = cr.autograd.grad(sc, xc, allow_unused=True)
            for h in hc:
                if h is not None:
                    _close(_np(h), np.zeros(h.shape), case, "2nd order of a linear op")
        return
    if sc is None or not sc.requires_grad:
        hc = [None] * len(xc)           # chainrule's VJP does not depend on the inputs
    else:
        hc = cr.autograd.grad(sc, xc, allow_unused=True)
    ht = torch.autograd.grad(st, xt, allow_unused=True)
    for i, (a, b) in enumerate(zip(hc, ht)):
        a = np.zeros(arrays[i].shape) if a is None else _np(a)
        b = np.zeros(arrays[i].shape) if b is None else _np(b)
        if case.vs_torch:
            _close(a, b, case, f"2nd order input {i} vs torch")
    # against finite differences of the first-order VJP along a random direction w
    w = [rng.standard_normal(a.shape) for a in arrays]
    eps = 1e-5

    def vjp_u(arrs):
        xs = _to(cr, arrs)
        return float(_np(_vjp_dot(cr, case, xs, cr.tensor(v), [cr.tensor(d) for d in u])))
    fd = (vjp_u([a + eps * d for a, d in zip(arrays, w)]) -
          vjp_u([a - eps * d for a, d in zip(arrays, w)])) / (2 * eps)
    an = sum(float(np.sum((0 if h is None else _np(h)) * d)) for h, d in zip(hc, w))
    np.testing.assert_allclose(an, fd, atol=1e-4, rtol=1e-3,
                               err_msg=f"{case.name}: 2nd order vs finite differences")


def check_float32(case, seed=0):
    arrays = inputs(case, seed)
    xc = _to(cr, arrays, dtype=cr.float32)
    xt = _to(torch, arrays, dtype=torch.float32)
    out_c, out_t = case.fn(cr, *xc), case.fn(torch, *xt)
    assert str(out_c.dtype) == str(out_t.dtype), f"{case.name}: float32 output dtype"
    np.testing.assert_allclose(_np(out_c), _np(out_t), rtol=1e-4, atol=1e-4,
                               err_msg=f"{case.name}: float32 value")
    if case.grad and not case.nondiff_output:
        out_c.sum().backward()
        for x in xc:
            if x.grad is not None:
                assert x.grad.dtype == cr.float32, f"{case.name}: float32 grad dtype"


def table_tests(cases):
    """The five table tests for a module's rows, parametrised over ``cases``.

    A test module writes ``test_value, test_vjp, test_jvp, test_second_order,
    test_float32 = table_tests(CASES)`` and pytest collects them by those names.
    """
    import pytest

    def rows(flag):
        return [c for c in cases if flag is None or getattr(c, flag)]

    def make(check, flag):
        @pytest.mark.parametrize("case", rows(flag), ids=str)
        def test(case):
            check(case)
        return test

    return (make(check_value, None), make(check_vjp, "grad"), make(check_jvp, "fwd"),
            make(check_second_order, "second"), make(check_float32, "f32"))


# --- comparison helpers shared by the op test files ----------------------------------------

def assert_same(c, t):
    """chainrule result ``c`` equals PyTorch's ``t``: dtype, shape, values, and the sign of
    zero (a nan's sign bit is not compared)."""
    assert str(c.dtype) == str(t.dtype), (c.dtype, t.dtype)
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_array_equal(c.numpy(), t.numpy())
    cn, tn = c.numpy(), t.numpy()
    if cn.dtype.kind == "f":
        keep = ~np.isnan(tn)
        np.testing.assert_array_equal(np.signbit(cn[keep]), np.signbit(tn[keep]))


def grads_of_ones(m, fn, *xs):
    """``[fn(m, *ts), ts[0].grad, ...]`` for float64 leaves made from ``xs`` and an
    all-ones output gradient (``m`` is chainrule or torch)."""
    ts = [m.tensor(x, dtype=m.float64, requires_grad=True) for x in xs]
    y = fn(m, *ts)
    y.backward(m.ones_like(y))
    return [y.detach()] + [t.grad for t in ts]


def assert_same_list(a, b):
    """Same shape, dtype and values (compared through ``tolist``)."""
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)
    np.testing.assert_array_equal(np.asarray(a.tolist()), np.asarray(b.tolist()))


def grads_seeded(m, fn, arrays, seed=1):
    """``(fn(m, *xs), [x.grad ...])`` for leaves made from ``arrays`` and a standard-normal
    output gradient drawn from ``seed``."""
    xs = [m.tensor(a, requires_grad=True) for a in arrays]
    out = fn(m, *xs)
    g = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(m.tensor(g, dtype=out.dtype))
    return out, [x.grad for x in xs]


def assert_same_on_grid(fn):
    """``fn(m, x)`` on an arange(-6, 12) grid of shape (2, 3, 3) gives the same results
    (one tensor or a tuple of them: shapes, dtypes and values) in chainrule and PyTorch."""
    xc = cr.arange(-6.0, 12.0).reshape(2, 3, 3)
    xt = torch.arange(-6.0, 12.0).reshape(2, 3, 3)
    rc, rt = fn(cr, xc), fn(torch, xt)
    if isinstance(rt, tuple):
        assert isinstance(rc, tuple) and len(rc) == len(rt)
    else:
        rc, rt = (rc,), (rt,)
    for a, b in zip(rc, rt):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype)
        assert a.tolist() == b.tolist()
