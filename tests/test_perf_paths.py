"""The fast paths of the hot path give the same results as the general ones (vs PyTorch).

Covers: binary_args shortcuts (same-dtype Tensors, float Tensor with a Python number),
gradient buffers adopted as ``.grad`` without a copy only when nothing else sees them,
the lean backward loop on DAGs, repeated inputs and retained graphs.
"""
import numpy as np
import pytest
import torch

import chainrule as cr


def _both(fn, *arrays, rg=True):
    """Run ``fn(module, *tensors)`` on chainrule and torch; return (outs, grads) of each."""
    res = []
    for m in (cr, torch):
        ts = [m.tensor(a, requires_grad=rg and a.dtype.kind == "f") for a in arrays]
        try:
            out = fn(m, *ts)
        except Exception as e:          # noqa: BLE001 -- compared with torch's below
            res.append(e)
            continue
        if out.requires_grad:
            out.sum().backward()
        res.append((out, [t.grad for t in ts]))
    if isinstance(res[1], Exception) or isinstance(res[0], Exception):
        assert type(res[0]) is type(res[1]), res     # both raise, with the same class
        return None
    return res


@pytest.mark.parametrize("fn", [
    lambda m, a: a * 0.5, lambda m, a: 0.5 * a, lambda m, a: a + 2, lambda m, a: 2 + a,
    lambda m, a: a - 3, lambda m, a: 3 - a, lambda m, a: a / 4, lambda m, a: 4 / a,
    lambda m, a: a * True, lambda m, a: a ** 2,
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_tensor_with_python_number(fn, dtype):
    a = np.array([1.5, 2.0, 3.0]).astype(dtype)
    if dtype == "bool":
        a = np.array([True, False, True])
    r = _both(fn, a)
    if r is None:
        return
    (c, gc), (t, gt) = r
    assert str(c.dtype) == str(t.dtype)
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-6)
    if gt[0] is not None:
        assert gc[0].dtype == cr.float32 if dtype == "float32" else True
        np.testing.assert_allclose(gc[0].numpy(), gt[0].numpy(), rtol=1e-6)


@pytest.mark.parametrize("da,db", [("float32", "float32"), ("float32", "float64"),
                                   ("int64", "float32"), ("int32", "int64"),
                                   ("float64", "bool")])
@pytest.mark.parametrize("shape_b", [(3,), (2, 3), (1,)])
def test_tensor_with_tensor(da, db, shape_b):
    a = (np.arange(6.0).reshape(2, 3) + 1).astype(da)
    b = (np.arange(np.prod(shape_b)).reshape(shape_b) + 2).astype(db)
    for fn in (lambda m, x, y: x * y, lambda m, x, y: x + y, lambda m, x, y: x - y,
               lambda m, x, y: x / y):
        r = _both(fn, a, b)
        if r is None:
            continue
        (c, gc), (t, gt) = r
        assert str(c.dtype) == str(t.dtype)
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-6)
        for g1, g2 in zip(gc, gt):
            assert (g1 is None) == (g2 is None)
            if g1 is not None:
                assert str(g1.dtype) == str(g2.dtype) and g1.shape == g2.shape
                np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-6)


def test_shared_gradient_is_not_aliased_between_leaves():
    # add's VJP hands the same array to both inputs: each .grad must own its memory
    for m in (cr, torch):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        b = m.tensor([3.0, 4.0], requires_grad=True)
        (a + b).backward(m.tensor([1.0, 1.0]))
        (a * 3).sum().backward()            # accumulates into a.grad in place
        if m is cr:
            ca, cb = a.grad.numpy().copy(), b.grad.numpy().copy()
        else:
            np.testing.assert_array_equal(ca, a.grad.numpy())
            np.testing.assert_array_equal(cb, b.grad.numpy())
    np.testing.assert_array_equal(ca, [4.0, 4.0])
    np.testing.assert_array_equal(cb, [1.0, 1.0])


def test_user_gradient_is_never_adopted():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    g = cr.tensor([5.0, 7.0])
    (x + 0).backward(g)
    x.backward(g)                       # a leaf's own seed, then in-place accumulation
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 14.0])
    np.testing.assert_array_equal(g.numpy(), [5.0, 7.0])
    x.grad.numpy()[:] = 0
    np.testing.assert_array_equal(g.numpy(), [5.0, 7.0])


def test_adopted_gradient_does_not_alias_live_tensors():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y.exp()
    z.backward(cr.ones(2))
    z_before = z.detach().numpy().copy()
    x.grad.numpy()[:] = -1              # must not touch z or y
    np.testing.assert_array_equal(z.detach().numpy(), z_before)
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 2.0])
    # and a second backward accumulates into the adopted buffer correctly
    x.grad = None
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])


def test_dag_with_shared_subexpressions_matches_torch():
    def f(m, x, w):
        h = m.tanh(x * w)
        u = h * h + m.sin(h)
        v = (u * 0.5 + h).exp()
        return u * v - h / (1 + v)
    a = np.linspace(-1, 1, 6).reshape(2, 3)
    w = np.array([0.3, -0.2, 0.7])
    (c, gc), (t, gt) = _both(f, a, w)
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-12)
    for g1, g2 in zip(gc, gt):
        np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-12)


def test_retain_graph_twice_and_freed_error():
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    y = cr.sin(x) * x
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.cos([0.5, 1.5]) * [0.5, 1.5]
                                                    + np.sin([0.5, 1.5])))
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()
    # nodes that save nothing can be run again, as in PyTorch
    z = x + 1
    z.sum().backward()
    z.sum().backward()


def test_long_chain_has_no_recursion_limit():
    x = cr.tensor([0.1, 0.2], requires_grad=True)
    h = x
    for _ in range(30000):
        h = h * 1.0
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_"])
def test_inplace_fast_path_matches_torch(name):
    a = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=np.float32)
    b = np.array([[2.0, 0.5, -1.5], [1.0, 2.0, 4.0]], dtype=np.float32)
    for other in (lambda m: m.tensor(b), lambda m: 0.25, lambda m: 3):
        res = []
        for m in (cr, torch):
            p = m.tensor(a.copy(), requires_grad=True)
            ver = (lambda t: t._version_counter) if m is cr else (lambda t: t._version)
            with m.no_grad():
                v0 = ver(p)
                q = getattr(p, name)(other(m))
                assert q is p and ver(p) == v0 + 1
            res.append(p.detach().numpy().copy())
            assert p.dtype == m.float32
        np.testing.assert_allclose(res[0], res[1], rtol=1e-6)
    # with a graph to record, the general path still runs (and records the op)
    x = cr.tensor(a, requires_grad=True)
    y = x * 1.0
    getattr(y, name)(cr.tensor(b))
    assert y.grad_fn is not None and y.requires_grad
    # a leaf that requires grad still refuses in-place changes in grad mode
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(cr.tensor(a, requires_grad=True), name)(2.0)
