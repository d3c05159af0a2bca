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
    from chainrule.autograd import engine
    # the reference bound is measured at import with the engine's call shape: 3 on CPython
    # 3.11 (the loop's local, the argument, getrefcount's argument)
    assert 2 <= engine._OWNED_REFS <= 3
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


# --- reductions, integer-tensor indexing and matmul: the mlp step's fast paths ------------

def _run_both(fn, arrays, upstream=None, create_graph=False):
    """``fn(module, *leaves)`` on chainrule and torch (float64 leaves): outputs, and the
    gradients of ``(out * w).sum()`` w.r.t. the leaves, ``w`` = ``upstream`` or fixed random
    weights of each float output's shape (so misplaced gradient entries show)."""
    res = []
    for m in (cr, torch):
        ts = [m.tensor(a, requires_grad=True) for a in arrays]
        out = fn(m, *ts)
        outs = out if isinstance(out, tuple) else (out,)
        loss = 0
        for o in outs:
            if o.dtype == m.float64:
                w = m.tensor(upstream if upstream is not None else
                             np.random.default_rng(5).standard_normal(tuple(o.shape)))
                loss = loss + (o * w).sum()
        grads = m.autograd.grad(loss, ts, create_graph=create_graph)
        res.append((outs, ts, grads))
    return res


def _check_both(fn, arrays, **kw):
    (co, _, cg), (to, _, tg) = _run_both(fn, arrays, **kw)
    assert len(co) == len(to)
    for c, t in zip(co, to):
        assert str(c.dtype) == str(t.dtype) and tuple(c.shape) == tuple(t.shape)
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-12)
    for c, t in zip(cg, tg):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-12)
    return cg, tg


_TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 1.0, 2.0], [0.5, -4.0, 7.0, 7.0]])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [True, False])
@pytest.mark.parametrize("shape,dim", [((3, 4), 1), ((3, 4), 0), ((3, 4), -1), ((3, 4), -2),
                                       ((4,), 0), ((4,), -1), ((), 0), ((), -1),
                                       ((2, 3, 4), 1), ((2, 3, 4), -1), ((2, 3, 4), 0)])
def test_max_min_dim_values_indices_and_grads(name, keepdim, shape, dim):
    rng = np.random.default_rng(3)
    # integers in a small range: many ties, so the tie rule (first index) is exercised
    a = rng.integers(-2, 3, size=shape).astype(np.float64)
    res = []
    for m in (cr, torch):
        x = m.tensor(a, requires_grad=True)
        r = getattr(x, name)(dim=dim, keepdim=keepdim)
        assert tuple(r.values.shape) == tuple(r.indices.shape)
        w = m.tensor(np.arange(1.0, 1.0 + np.prod(r.values.shape)).reshape(r.values.shape))
        (r.values * w).sum().backward()
        res.append((r.values.detach().numpy(), r.indices.numpy(), x.grad.numpy(),
                    r.values.grad_fn.name(), str(r.indices.dtype)))
    (cv, ci, cg, cn, cd), (tv, ti, tg, tn, td) = res
    np.testing.assert_array_equal(cv, tv)
    np.testing.assert_array_equal(ci, ti)
    np.testing.assert_array_equal(cg, tg)       # the gradient goes to the index returned
    assert cn == tn and cd == td


def test_max_dim_ties_gradient_goes_to_first_index_and_values_are_fresh():
    for name in ("max", "min"):
        (co, _, cg), (to, _, tg) = _run_both(
            lambda m, x: getattr(m, name)(x, 1, True), [_TIES])
        np.testing.assert_array_equal(co[1].numpy(), to[1].numpy())
        np.testing.assert_array_equal(cg[0].numpy(), tg[0].numpy())
    x = cr.tensor(_TIES.copy())
    v = x.max(dim=1).values
    v.add_(100.0)                               # a fresh tensor, not a view of x
    np.testing.assert_array_equal(x.numpy(), _TIES)
    # second order: the max(dim) VJP is itself differentiable (TF path)
    _check_both(lambda m, x: m.autograd.grad((x.max(dim=1, keepdim=False).values ** 3).sum(),
                                             x, create_graph=True)[0] * x, [_TIES + 0.25])


def test_max_dim_nan_and_errors_match_torch():
    a = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, np.nan]])
    for name in ("max", "min"):
        c = getattr(cr.tensor(a), name)(dim=1)
        t = getattr(torch.tensor(a), name)(dim=1)
        np.testing.assert_array_equal(c.values.numpy(), t.values.numpy())
        np.testing.assert_array_equal(c.indices.numpy(), t.indices.numpy())
        for m in (cr, torch):
            with pytest.raises(IndexError, match="non-zero size"):
                getattr(m.zeros(3, 0), name)(dim=1)
            with pytest.raises(IndexError):
                getattr(m.zeros(3, 2), name)(dim=2)
        z = getattr(cr.zeros(0, 3), name)(dim=1)
        assert tuple(z.values.shape) == (0,) and tuple(z.indices.shape) == (0,)


@pytest.mark.parametrize("fn", [
    lambda m, x: x.sum(),
    lambda m, x: x.sum(dim=1),
    lambda m, x: x.sum(1, keepdim=True),
    lambda m, x: x.sum(-1, keepdim=True),
    lambda m, x: x.sum(dim=0),
    lambda m, x: x.sum(-3, True),
    lambda m, x: m.sum(x, (0, 2)),
    lambda m, x: m.sum(x, (0, -1), keepdim=True),
    lambda m, x: x.mean(),
    lambda m, x: x.mean(1, keepdim=True),
    lambda m, x: x.mean(-2),
    # the upstream gradient arrives non-contiguous (a transpose), or as a NumPy scalar
    lambda m, x: x.sum(1).transpose(0, 1) * 2.0,
    lambda m, x: -(x.sum(2, keepdim=True).transpose(0, 1)),
    lambda m, x: -x.sum(),
    lambda m, x: (x.sum(1, keepdim=True) * x).sum(0),
])
def test_sum_mean_fast_paths_match_torch(fn):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    _check_both(fn, [a])
    _check_both(fn, [a], create_graph=True)


def test_sum_of_0d_1d_and_int_tensors():
    _check_both(lambda m, x: x.sum(), [np.array(2.5)])
    _check_both(lambda m, x: x.sum(0), [np.array(2.5)])
    _check_both(lambda m, x: x.sum(-1, keepdim=True), [np.array(2.5)])
    _check_both(lambda m, x: x.sum(0) * x, [np.array([1.0, -2.0, 4.0])])
    for m in (cr, torch):
        r = m.tensor([[1, 2], [3, 4]], dtype=m.int32).sum(1)
        assert str(r.dtype).endswith("int64") and r.tolist() == [3, 7]
        with pytest.raises(IndexError):
            m.ones(2, 3).sum(2)


def test_reduction_gradients_are_owned_and_writeable():
    # the VJP of sum hands out a read-only broadcast view; .grad must be its own copy
    x = cr.tensor(np.ones((3, 2)), requires_grad=True)
    x.sum().backward()
    x.sum(1, keepdim=True).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 2), 2.0))
    x.grad.numpy()[0, 0] = 7.0                  # writeable, and aliases nothing else
    np.testing.assert_array_equal(x.grad.numpy(), [[7.0, 2.0], [2.0, 2.0], [2.0, 2.0]])
    seen = []
    y = x * 1.0
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.sum(0).sum().backward()
    np.testing.assert_array_equal(seen[0], np.ones((3, 2)))


@pytest.mark.parametrize("sa,sb", [((4, 3), (4, 1)), ((4, 1), (4, 3)), ((4, 3), (1, 3)),
                                   ((4, 1), (1, 3)), ((2, 3, 4), (2, 1, 4)),
                                   ((2, 3, 4), (1, 3, 1)), ((2, 3, 4), (4,)), ((3, 1), (3,))])
def test_broadcast_gradients_summed_back(sa, sb):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    for fn in (lambda m, x, y: x - y, lambda m, x, y: x * y, lambda m, x, y: y + x):
        _check_both(fn, [a, b])


def _index_arrays(m, rows, cols):
    return m.tensor(np.asarray(rows)), m.tensor(np.asarray(cols))


@pytest.mark.parametrize("rows,cols", [
    ([0, 1, 2, 3], [2, 0, 1, 1]),              # distinct positions (the mlp's rows/labels)
    ([0, 0, 2, 0], [1, 1, 0, 1]),              # repeated positions: gradients add up
    ([-1, -4, 3], [-3, 2, 2]),                 # negative indices
    ([[0, 1], [1, 0]], [[2, 2], [2, 2]]),      # 2-D index tensors, repeats
    ([1, 3], [[0], [2]]),                      # index tensors broadcast against each other
])
def test_getitem_integer_tensor_pairs(rows, cols):
    a = np.arange(12.0).reshape(4, 3) / 7
    w = np.random.default_rng(2).standard_normal(np.broadcast_shapes(np.shape(rows),
                                                                     np.shape(cols)))
    res = []
    for m in (cr, torch):
        x = m.tensor(a, requires_grad=True)
        r, c = _index_arrays(m, rows, cols)
        out = x[r, c]
        (out * m.tensor(w)).sum().backward()
        res.append((out.detach().numpy(), x.grad.numpy(), out.grad_fn.name()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)
    assert res[0][2] == res[1][2]
    # second order (the scatter's VJP reads the gradient again)
    _check_both(lambda m, x: m.autograd.grad((x[_index_arrays(m, rows, cols)] ** 2).sum(), x,
                                             create_graph=True)[0] * x, [a])


def test_getitem_index_tuples_outside_the_fast_path():
    a = np.arange(24.0).reshape(2, 3, 4)
    cases = [
        lambda m, x: x[(m.tensor([1, 0, 1]),)],                        # one tensor
        lambda m, x: x[m.tensor([0, 1]), :, m.tensor([3, 3])],         # with a slice
        lambda m, x: x[m.tensor([0, 1]), 1],                           # with an int
        lambda m, x: x[m.tensor(1), m.tensor([2, 0])],                 # a 0-d tensor
        lambda m, x: x[m.tensor([0, 1], dtype=m.int32), m.tensor([0, 0])],
        lambda m, x: x[m.tensor([True, False]), m.tensor([1])],
        lambda m, x: x[..., m.tensor([0, 0, 3])],
        lambda m, x: x[()],
    ]
    for fn in cases:
        _check_both(lambda m, x: fn(m, x) * 1.0, [a])
    for m in (cr, torch):
        x = m.tensor(a)
        with pytest.raises(IndexError):
            x[m.tensor([0, 2]), m.tensor([0, 0])]                       # out of bounds
        with pytest.raises(IndexError):
            x[m.tensor([0]), m.tensor([0]), m.tensor([0]), m.tensor([0])]   # too many
        with pytest.raises(IndexError):
            x[m.tensor([0.0]), m.tensor([0])]                           # float indices


def test_matmul_2d_fast_path_and_errors():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    cg, _ = _check_both(lambda m, x, y: x @ y, [a, b])
    assert cr.matmul(cr.tensor(a), cr.tensor(b)).dtype == cr.float64
    _check_both(lambda m, x, y: m.matmul(x, y), [a, b], create_graph=True)
    _check_both(lambda m, x, y: (x @ y).t() @ x, [a, b])
    r = (cr.tensor(a, requires_grad=True) @ cr.tensor(b)).grad_fn.name()
    assert r == (torch.tensor(a, requires_grad=True) @ torch.tensor(b)).grad_fn.name()
    for m in (cr, torch):
        with pytest.raises(RuntimeError, match="cannot be multiplied"):
            m.tensor(a) @ m.tensor(a)
        with pytest.raises(RuntimeError, match="dtype"):
            m.tensor(a) @ m.tensor(b.astype(np.float32))
        with pytest.raises(RuntimeError):
            m.tensor(a) @ m.tensor(2.0)
    # matmul of the same tensor twice: both VJPs run, gradients add up
    _check_both(lambda m, x: x @ x.t(), [a])


def test_nf_shape_helpers_match_numpy():
    from chainrule.ops._core import NF
    x = np.arange(24.0).reshape(2, 3, 4)
    for ax in range(-4, 4):
        r = NF.expand_dims(x, ax)
        assert r.shape == np.expand_dims(x, ax).shape and np.shares_memory(r, x)
    assert NF.expand_dims(np.float64(2.0), 0).shape == (1,)
    assert NF.expand_dims(x, (0, 2)).shape == (1, 2, 1, 3, 4)
    with pytest.raises(np.exceptions.AxisError):
        NF.expand_dims(x, 4)
    assert NF.swapaxes(x, -1, -2).shape == (2, 4, 3)
    assert NF.squeeze(np.ones((1, 3, 1)), 0).shape == (3, 1)
    assert NF.reshape(2.0, (1, 1)).shape == (1, 1)          # a Python number
    assert NF.sum(2.0) == 2.0
    # the stride-0 views are read-only and hold the right values
    g = np.arange(3.0).reshape(3, 1)
    v = NF.unreduce(g, (1,), True, (3, 4))
    np.testing.assert_array_equal(v, np.broadcast_to(g, (3, 4)))
    assert not v.flags.writeable
    v = NF.unreduce(np.arange(4.0), (0,), False, (3, 4))
    np.testing.assert_array_equal(v, np.broadcast_to(np.arange(4.0), (3, 4)))
    v = NF.unreduce(np.float32(2.0), None, False, (2, 2))
    assert v.dtype == np.float32 and not v.flags.writeable and (v == 2).all()
    v = NF.broadcast_to(np.array(3.0), (2, 0))
    assert v.shape == (2, 0)
    with pytest.raises(ValueError):
        NF.broadcast_to(np.ones(3), (2, 4))


def test_getitem_keeps_its_own_copy_of_the_indices():
    # changing the index tensor (or array) in place after the forward must not move the
    # gradient (PyTorch raises for the tensor case; chainrule keeps the forward's positions)
    for make in (lambda: cr.tensor([0, 1]), lambda: np.array([0, 1])):
        x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
        i = make()
        j = cr.tensor([0, 0])
        y = x[i] * 1.0
        z = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        w = z[i, j] * 1.0
        with cr.no_grad():
            i[0] = 2
        (y.sum() + w.sum()).backward()
        np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 0.0])
        np.testing.assert_array_equal(z.grad.numpy(), [[1.0, 0.0], [1.0, 0.0]])


def test_gather_keeps_its_own_copy_of_the_index():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    i = cr.tensor([[0], [1]])
    y = cr.gather(x, 1, i)
    with cr.no_grad():
        i[0, 0] = 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0], [0.0, 1.0]])


def test_max_dim_indices_are_not_the_saved_ones():
    for keepdim in (True, False):
        x = cr.tensor([[1.0, 2.0], [4.0, 3.0]], requires_grad=True)
        r = x.max(dim=1, keepdim=keepdim)
        with cr.no_grad():
            r.indices.zero_()               # the caller's tensor, not the node's
        r.values.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0], [1.0, 0.0]])
