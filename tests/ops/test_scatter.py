"""Indexing writes (ops/scatter.py): scatter, scatter_add, index_add, index_copy, index_fill,
masked_fill, masked_scatter, and their in-place forms against PyTorch and finite
differences: the OpCase rows (value, VJP, JVP, second order in float64, float32
preservation) and the checks beyond the table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests
from oplib import assert_same_list as _same, grads_seeded as _grads


IDX0 = [[0, 2, 0, 1], [2, 2, 1, 0]]          # scatter along dim 0 of a (3, 4), repeats


MASK = [[True, False, True], [False, False, True]]


MASK2 = [[True, False, True], [False, True, False]]


INPLACE = [
    lambda m, x, s: x.scatter_(1, m.tensor([[2, 0], [1, 2]]), s[:, :2]),
    lambda m, x, s: x.scatter_(0, m.tensor([[1, 0, 1]]), -1.5),
    lambda m, x, s: x.index_add_(1, m.tensor([0, 0, 2]), s, alpha=-2),
    lambda m, x, s: x.index_copy_(1, m.tensor([2, 1, 0]), s),
    lambda m, x, s: x.index_fill_(1, m.tensor([1, -1]), 9.0),
    lambda m, x, s: x.index_fill_(0, m.tensor(1), s[0, 0]),
    lambda m, x, s: x.masked_scatter_(m.tensor(MASK2), s),
    lambda m, x, s: x.masked_scatter_(m.tensor([False, True, True]), s),
]


CASES = [
    # scatter_add
    OpCase("scatter_add", lambda m, a, s: m.scatter_add(a, 0, m.tensor(IDX0), s),
           [(3, 4), (2, 4)], op="scatter_add"),
    OpCase("scatter_add_dim1_small_index",
           lambda m, a, s: a.scatter_add(1, m.tensor([[1, 1], [0, 2]]), s),
           [(3, 3), (2, 2)], op="scatter_add"),
    OpCase("scatter_add_inplace",
           lambda m, a, s: a.clone().scatter_add_(0, m.tensor([2, 0, 2]), s),
           [(4,), (3,)], op="scatter_add"),
    OpCase("scatter_add_0d", lambda m, a, s: m.scatter_add(a, 0, m.tensor(0), s), [(), ()],
           op="scatter_add"),
    # masked_fill: number or 0-d tensor value, broadcasting masks
    OpCase("masked_fill", lambda m, a: a.masked_fill(m.tensor(MASK), 0.5), [(2, 3)],
           op="masked_fill"),
    OpCase("masked_fill_fn", lambda m, a: m.masked_fill(a, m.tensor([True, False, True]), -1.0),
           [(2, 3)], op="masked_fill"),
    OpCase("masked_fill_mask_bcast",
           lambda m, a: a.masked_fill(m.tensor([[[True]], [[False]]]), 2.0), [(2, 3)],
           op="masked_fill"),
    OpCase("masked_fill_tensor", lambda m, a, v: a.masked_fill(m.tensor(MASK), v),
           [(2, 3), ()], op="masked_fill_tensor"),
    OpCase("masked_fill_tensor_bcast",
           lambda m, a, v: a.masked_fill(m.tensor([[True], [False]]), v), [(3,), ()],
           op="masked_fill_tensor"),
    OpCase("masked_fill_inplace",
           lambda m, a, v: a.clone().masked_fill_(m.tensor(MASK), v * 2), [(2, 3), ()],
           op="masked_fill_tensor"),
    OpCase("masked_fill_0d", lambda m, a: a.masked_fill(m.tensor(True), 3.0), [()],
           op="masked_fill"),
    # scatter (no repeated indices: PyTorch leaves the written value unspecified there)
    OpCase("scatter", lambda m, a, s: m.scatter(a, 1, m.tensor([[2, 0], [1, 2]]), s),
           [(2, 3), (2, 2)], op="scatter"),
    OpCase("scatter_dim0_small_index",
           lambda m, a, s: a.scatter(0, m.tensor([[2, 0], [1, 2]]), s), [(3, 3), (2, 2)],
           op="scatter"),
    OpCase("scatter_inplace",
           lambda m, a, s: a.clone().scatter_(-1, m.tensor([[0], [2]]), s * 2),
           [(2, 3), (2, 1)], op="scatter"),
    OpCase("scatter_0d", lambda m, a, s: m.scatter(a, 0, m.tensor(0), s), [(), ()],
           op="scatter"),
    OpCase("scatter_value", lambda m, a: m.scatter(a, 1, m.tensor([[2, 0], [1, 2]]), 1.5),
           [(2, 3)], op="scatter_value"),
    OpCase("scatter_value_kw_inplace",
           lambda m, a: a.clone().scatter_(0, m.tensor([[1, 0, 1]]), value=-2.0) * a,
           [(2, 3)], op="scatter_value"),
    # index_add (repeated indices add up) / index_copy / index_fill
    OpCase("index_add", lambda m, a, s: m.index_add(a, 0, m.tensor([2, 0, 2]), s),
           [(3, 2), (3, 2)], op="index_add"),
    OpCase("index_add_alpha_dim1",
           lambda m, a, s: a.index_add(1, m.tensor([1, 1], dtype=m.int32), s, alpha=-0.5),
           [(2, 3), (2, 2)], op="index_add"),
    OpCase("index_add_inplace",
           lambda m, a, s: a.clone().index_add_(-1, m.tensor([0, 2]), s * s, alpha=2),
           [(2, 3), (2, 2)], op="index_add"),
    OpCase("index_add_0d", lambda m, a, s: m.index_add(a, 0, m.tensor([0]), s), [(), ()],
           op="index_add"),
    OpCase("index_copy", lambda m, a, s: m.index_copy(a, 1, m.tensor([2, 0]), s),
           [(2, 3), (2, 2)], op="index_copy"),
    OpCase("index_copy_0d_index", lambda m, a, s: a.index_copy(0, m.tensor(1), s),
           [(3, 2), (1, 2)], op="index_copy"),
    OpCase("index_copy_inplace",
           lambda m, a, s: a.clone().index_copy_(0, m.tensor([1, 0]), s) * a,
           [(3, 2), (2, 2)], op="index_copy"),
    OpCase("index_fill", lambda m, a: m.index_fill(a, 1, m.tensor([2, -3, 2]), -1.5),
           [(2, 3)], op="index_fill"),
    OpCase("index_fill_0d", lambda m, a: a.index_fill(0, m.tensor([0]), 2.0), [()],
           op="index_fill"),
    OpCase("index_fill_tensor",
           lambda m, a, v: m.index_fill(a, 0, m.tensor([2, 2, 0]), v), [(3, 2), ()],
           op="index_fill_tensor"),
    OpCase("index_fill_tensor_inplace",
           lambda m, a, v: a.clone().index_fill_(-1, m.tensor(1), v * v), [(2, 3), ()],
           op="index_fill_tensor"),
    # masked_scatter (source may be larger than needed; the input broadcasts with the mask)
    OpCase("masked_scatter", lambda m, a, s: m.masked_scatter(a, m.tensor(MASK), s),
           [(2, 3), (5,)], op="masked_scatter"),
    OpCase("masked_scatter_bcast",
           lambda m, a, s: a.masked_scatter(m.tensor([[True], [False], [True]]), s),
           [(2,), (2, 3)], op="masked_scatter"),
    OpCase("masked_scatter_inplace",
           lambda m, a, s: a.clone().masked_scatter_(m.tensor([True, False, True]), s * 2) * a,
           [(2, 3), (2, 2)], op="masked_scatter"),
    OpCase("masked_scatter_0d", lambda m, a, s: m.masked_scatter(a, m.tensor(True), s),
           [(), (2,)], op="masked_scatter"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m, x: m.scatter_add(x, 0, m.tensor([0, 0]), x[:2]), "ScatterAddBackward0"),
    (lambda m, x: x.masked_fill(x > 0, 1.0), "MaskedFillBackward0"),
    (lambda m, x: x.masked_fill(x > 0, m.tensor(1.0)), "MaskedFillBackward1"),
])
def test_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


def test_masked_fill_inplace_and_dtypes():
    for m in (cr, torch):
        x = m.tensor([1.0, -2.0, 3.0], dtype=m.float64)
        x.masked_fill_(x < 0, 0.0)
        assert x.tolist() == [1.0, 0.0, 3.0]
        y = m.tensor([1, 2, 3]).masked_fill(m.tensor([True, False, False]), 7)
        assert y.tolist() == [7, 2, 3] and y.dtype == m.int64
    # a float32 value tensor filled into float64: the gradient comes back as float32
    v = cr.tensor(2.0, requires_grad=True)
    x = cr.zeros(3, dtype=cr.float64)
    x.masked_fill(cr.tensor([True, True, False]), v).sum().backward()
    assert v.grad.dtype == cr.float32 and v.grad.item() == 2.0


def test_index_ops_accumulate_repeats():
    x = cr.zeros(3, requires_grad=True)
    cr.index_select(x, 0, cr.tensor([1, 1, 1, 2])).sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 1.0]
    r = cr.scatter_add(cr.zeros(3), 0, cr.tensor([2, 2, 0]), cr.tensor([1.0, 2.0, 4.0]))
    assert r.tolist() == [4.0, 0.0, 3.0]


@pytest.mark.parametrize("fn, exc", [
    (lambda m, x: x.masked_fill(m.ones(3, 3), 1.0), RuntimeError),
    (lambda m, x: x.masked_fill(x > 0, m.ones(2)), RuntimeError),
    (lambda m, x: m.scatter_add(x, 0, m.tensor([[3]]), x), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))


@pytest.mark.parametrize("make, name", [
    (lambda m, x: m.scatter(x, 1, m.tensor([[1], [0]]), x[:, :1] * 2), "ScatterBackward0"),
    (lambda m, x: m.scatter(x, 1, m.tensor([[1], [0]]), 2.0), "ScatterBackward1"),
    (lambda m, x: m.scatter(x, 1, m.zeros(2, 0, dtype=m.int64), 2.0), "ScatterBackward1"),
    (lambda m, x: m.scatter(x, 1, m.zeros(3, 0, dtype=m.int64), x), "ScatterBackward0"),
    (lambda m, x: m.index_add(x, 0, m.tensor([1]), x[:1]), "IndexAddBackward0"),
    (lambda m, x: m.index_copy(x, 0, m.tensor([1]), x[:1]), "IndexCopyBackward0"),
    (lambda m, x: m.index_fill(x, 0, m.tensor([1]), 2.0), "IndexFillBackward0"),
    (lambda m, x: m.index_fill(x, 0, m.tensor([1]), x[0, 0]), "IndexFillBackward1"),
    (lambda m, x: m.masked_scatter(x, x > 2, x.reshape(-1)), "MaskedScatterBackward0"),
    (lambda m, x: x.clone().scatter_(1, m.tensor([[1], [0]]), 2.0), "ScatterBackward1"),
    (lambda m, x: x.clone().index_add_(1, m.tensor([0]), x[:, :1]), "IndexAddBackward0"),
    (lambda m, x: x.clone().masked_scatter_(x > 2, x.reshape(-1)), "MaskedScatterBackward0"),
])
def test_grad_fn_names_of_scatter_and_index_writes(make, name):
    for m in (cr, torch):
        x = m.arange(6.0).reshape(2, 3).requires_grad_()
        assert type(make(m, x).grad_fn).__name__ == name


@pytest.mark.parametrize("fn", [
    # scatter
    lambda m: m.scatter(m.tensor([1, 2, 3]), 0, m.tensor([1]), 2.7),
    lambda m: m.scatter(m.tensor([1, 2, 3]), 0, m.tensor([2, 0], dtype=m.int32),
                            m.tensor([7, 8, 9])),
    lambda m: m.scatter(m.tensor(1.0), 0, m.tensor(0), m.tensor(2.5)),
    lambda m: m.scatter(m.tensor(1.0), 0, m.tensor([0]), m.tensor([2.5])),
    lambda m: m.scatter(m.ones(2, 3), 1, m.zeros(2, 0, dtype=m.int64), m.ones(2, 3)),
    lambda m: m.scatter(m.ones(2, 3), 1, m.zeros(3, 0, dtype=m.int64), m.ones(1, 1)),
    lambda m: m.zeros(2, 3, dtype=m.float64).scatter(-1, m.tensor([[2], [1]]), value=4),
    lambda m: m.scatter(m.zeros(2, 2), 0, m.tensor([[1, 0]]), src=m.ones(3, 3)),
    # index_add / index_copy / index_fill
    lambda m: m.index_add(m.tensor([1, 2, 3]), 0, m.tensor([2, 2]), m.tensor([5, 6]), alpha=2),
    lambda m: m.index_add(m.tensor(1.0), 0, m.tensor([0]), m.tensor(3.0)),
    lambda m: m.index_add(m.zeros(3, dtype=m.int64), 0, m.tensor([1]), m.tensor([3]), alpha=1.5),
    lambda m: m.index_add(m.ones(3), 0, m.tensor([], dtype=m.int64), m.ones(0)),
    lambda m: m.index_add(m.ones(2, 3), -1, m.tensor(2), m.ones(2, 1), alpha=0.5),
    lambda m: m.index_copy(m.ones(3), 0, m.tensor(0), m.tensor(2.0)),
    lambda m: m.index_copy(m.tensor(1.0), 0, m.tensor([0]), m.tensor(3.0)),
    lambda m: m.index_copy(m.zeros(3, 2, dtype=m.int64), 0, m.tensor([2, 0]),
                               m.tensor([[1, 2], [3, 4]])),
    lambda m: m.index_fill(m.tensor([1, 2, 3]), 0, m.tensor([1]), 2.7),
    lambda m: m.index_fill(m.tensor([True, False, True]), 0, m.tensor([0]), False),
    lambda m: m.index_fill(m.tensor(2.0), 0, m.tensor([0]), -1),
    lambda m: m.index_fill(m.ones(2, 3), 1, m.tensor([], dtype=m.int64), 2.0),
    lambda m: m.index_fill(m.ones(2, 3), 1, m.tensor([-1, 0]), m.tensor(5.0)),
    # masked_scatter
    lambda m: m.masked_scatter(m.zeros(2, 3), m.tensor(MASK2), m.arange(10.0, 20.0)),
    lambda m: m.masked_scatter(m.zeros(3), m.tensor(MASK2), m.arange(10.0, 20.0)),
    lambda m: m.masked_scatter(m.zeros(2, 3, dtype=m.int64), m.tensor([True, False, True]),
                                   m.arange(4).reshape(2, 2)),
    lambda m: m.masked_scatter(m.tensor(1.0), m.tensor(True), m.tensor([5.0, 6.0])),
    lambda m: m.masked_scatter(m.tensor([1.0, 2.0]), m.tensor(False), m.zeros(0)),
])
def test_values_match_torch(fn):
    _same(fn(cr), fn(torch))


@pytest.mark.parametrize("fn, shapes", [
    (lambda m, x, s: m.index_add(x, 0, m.tensor([1, 1, 1]), s, alpha=3), [(2, 2), (3, 2)]),
    (lambda m, x, s: m.index_copy(x, 1, m.tensor([0, 2]), s), [(2, 3), (2, 2)]),
    (lambda m, x, v: m.index_fill(x, 1, m.tensor([2, 2, 0]), v), [(2, 3), ()]),
    (lambda m, x, s: m.masked_scatter(x, m.tensor(MASK2), s), [(3,), (2, 4)]),
    (lambda m, x, s: m.scatter(x, 0, m.tensor([[1, 0, 1]]), s), [(2, 3), (1, 3)]),
])
def test_gradients_match_torch(fn, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    oc, gc = _grads(cr, fn, arrays)
    ot, gt = _grads(torch, fn, arrays)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), atol=1e-12)
    for a, b in zip(gc, gt):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


def test_index_fill_value_gradient_counts_each_filled_slice_once():
    for m in (cr, torch):
        v = m.tensor(1.0, requires_grad=True)
        y = m.index_fill(m.zeros(2, 3, dtype=m.float64), 1, m.tensor([2, 2, 0]), v)
        y.backward(m.arange(6.0, dtype=m.float64).reshape(2, 3))
        assert v.grad.item() == 10.0 and v.grad.dtype == m.float32
    # negative indices: PyTorch 2.13's IndexFillBackward1 fails there ("INDICES element is
    # out of DATA bounds"); chainrule counts them as the positions they stand for
    v = cr.tensor(1.0, requires_grad=True)
    y = cr.index_fill(cr.zeros(2, 3), 1, cr.tensor([-1, 2, -3]), v)
    y.backward(cr.arange(6.0).reshape(2, 3))
    assert v.grad.item() == 10.0
    with pytest.raises(RuntimeError):
        vt = torch.tensor(1.0, requires_grad=True)
        torch.index_fill(torch.zeros(2, 3), 1, torch.tensor([-1]), vt).sum().backward()


def test_masked_scatter_source_gradient_is_padded_to_its_shape():
    for m in (cr, torch):
        s = m.arange(10.0, 17.0).reshape(7, 1).requires_grad_()
        x = m.zeros(2, 3, requires_grad=True)
        y = m.masked_scatter(x, m.tensor([True, False, True]), s)
        assert y.tolist() == [[10.0, 0.0, 11.0], [12.0, 0.0, 13.0]]
        (y * m.arange(6.0).reshape(2, 3)).sum().backward()
        assert s.grad.reshape(-1).tolist() == [0.0, 2.0, 3.0, 5.0, 0.0, 0.0, 0.0]
        assert x.grad.tolist() == [[0.0, 1.0, 0.0], [0.0, 4.0, 0.0]]


def test_scatter_src_larger_than_index_gets_a_gradient():
    # PyTorch 2.13's ScatterBackward0 fails here ("invalid gradient ... got [2, 2] but
    # expected shape compatible with [2, 3]"); chainrule returns the exact gradient: the
    # read part of src gets the gradient at the written positions, the rest zero
    idx = [[2, 0], [1, 2]]
    xt, st = torch.zeros(2, 3, requires_grad=True), torch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient"):
        torch.scatter(xt, 1, torch.tensor(idx), st).sum().backward()
    x, s = cr.zeros(2, 3, requires_grad=True), cr.ones(2, 3, requires_grad=True)
    g = cr.arange(6.0).reshape(2, 3)
    y = cr.scatter(x, 1, cr.tensor(idx), s)
    assert y.tolist() == [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    y.backward(g)
    assert s.grad.tolist() == [[2.0, 0.0, 0.0], [4.0, 5.0, 0.0]]
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [3.0, 0.0, 0.0]]


def test_changing_the_index_after_the_op_does_not_move_the_gradient():
    for fn in (lambda x, i: cr.take(x, i), lambda x, i: cr.index_fill(x, 0, i, 0.0),
               lambda x, i: cr.index_add(x, 0, i, x * 2),
               lambda x, i: cr.nn.functional.embedding(i, x.reshape(3, 1))):
        x = cr.ones(3, requires_grad=True)
        i = cr.tensor([0, 1, 2])
        y = fn(x, i)
        i.fill_(2)
        y.backward(cr.tensor([1.0, 2.0, 3.0]).reshape(y.shape))
        x2 = cr.ones(3, requires_grad=True)
        fn(x2, cr.tensor([0, 1, 2])).backward(cr.tensor([1.0, 2.0, 3.0]).reshape(y.shape))
        assert x.grad.tolist() == x2.grad.tolist()


@pytest.mark.parametrize("fn", INPLACE)
def test_inplace_values_gradients_and_versions(fn):
    rng = np.random.default_rng(3)
    xa, sa = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    res = {}
    for m in (cr, torch):
        x0 = m.tensor(xa, requires_grad=True)
        s = m.tensor(sa, requires_grad=True)
        x = x0 * 1.0
        v = x._version
        r = fn(m, x, s)
        assert r is x and x._version > v
        (x * m.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
        res[m] = (x.detach().numpy().copy(), x0.grad.numpy().copy(),
                  None if s.grad is None else s.grad.numpy().copy(), type(x.grad_fn).__name__)
    (vc, gc, sc, nc), (vt, gt, st, nt) = res[cr], res[torch]
    np.testing.assert_allclose(vc, vt, atol=1e-12)
    np.testing.assert_allclose(gc, gt, atol=1e-12)
    assert (sc is None) == (st is None)
    if sc is not None:
        np.testing.assert_allclose(sc, st, atol=1e-12)
    assert nc == nt


@pytest.mark.parametrize("fn", INPLACE)
def test_inplace_on_a_leaf_requiring_grad_raises(fn):
    for m in (cr, torch):
        x = m.zeros(2, 3, dtype=m.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            fn(m, x, m.ones(2, 3, dtype=m.float64))
        with m.no_grad():
            fn(m, x, m.ones(2, 3, dtype=m.float64))     # fine under no_grad (as optimisers)


def test_inplace_without_grad_and_on_int_tensors():
    for m in (cr, torch):
        x = m.tensor([1, 2, 3, 4])
        assert x.scatter_(0, m.tensor([3]), 7).tolist() == [1, 2, 3, 7]
        assert x.index_add_(0, m.tensor([0, 0]), m.tensor([5, 5])).tolist() == [11, 2, 3, 7]
        assert x.index_fill_(0, m.tensor([1]), 0).tolist() == [11, 0, 3, 7]
        assert x.index_copy_(0, m.tensor([2]), m.tensor([8])).tolist() == [11, 0, 8, 7]
        y = x.masked_scatter_(x > 7, m.tensor([-1, -2]))
        assert y.tolist() == [-1, 0, -2, 7] and y.dtype == m.int64


def test_inplace_through_a_view_matches_torch():
    res = []
    for m in (cr, torch):
        x = m.arange(6.0).reshape(2, 3).requires_grad_()
        y = x * 1
        y[0].index_fill_(0, m.tensor([1]), 5.0)
        y[1].scatter_(0, m.tensor([2]), x[0, :1] * 3)
        y[:, 0].index_add_(0, m.tensor([1, 1]), x[:, 2])
        (y * m.arange(6.0).reshape(2, 3)).sum().backward()
        assert type(y.grad_fn).__name__ == "CopySlices"
        res.append((y.tolist(), x.grad.tolist()))
    assert res[0] == res[1]


def test_saved_inplace_change_is_detected():
    # a tensor changed in place after an op that saved it: backward raises (both)
    for m in (cr, torch):
        x = m.ones(3, requires_grad=True)
        y = x * 1.0
        z = y.sin()
        y.index_fill_(0, m.tensor([1]), 0.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_reduce_argument_is_not_supported():
    x, i = cr.zeros(3), cr.tensor([1])
    for reduce in ("add", "multiply"):
        with pytest.raises(NotImplementedError, match="scatter_reduce"):
            x.scatter(0, i, cr.ones(1), reduce=reduce)
        with pytest.raises(NotImplementedError, match="scatter_add"):
            x.scatter_(0, i, 2.0, reduce=reduce)
    for m in (cr, torch):
        with pytest.raises(RuntimeError, match="add or multiply"):
            m.zeros(3).scatter_(0, m.tensor([1]), m.ones(1), reduce="max")


def test_float32_inputs_keep_their_dtype():
    x = cr.zeros(2, 3, requires_grad=True)
    s = cr.ones(2, 3, requires_grad=True)
    outs = [cr.take(x, cr.tensor([1])), cr.scatter(x, 1, cr.tensor([[0], [1]]), s[:, :1]),
            cr.index_add(x, 0, cr.tensor([1, 1]), s), cr.index_copy(x, 0, cr.tensor([1]), s[:1]),
            cr.index_fill(x, 0, cr.tensor([1]), cr.tensor(2.0, dtype=cr.float64)),
            cr.masked_scatter(x, x == 0, s), cr.nn.functional.embedding(cr.tensor([1]), x)]
    for o in outs:
        assert o.dtype == cr.float32
        o.sum().backward()
    assert x.grad.dtype == cr.float32 and s.grad.dtype == cr.float32


@pytest.mark.parametrize("fn, exc, words", [
    # scatter
    (lambda m, x: m.scatter(x, 1, m.tensor([[3], [0]]), x), RuntimeError,
         ["index 3 is out of bounds for dimension 1 with size 3"]),
    (lambda m, x: m.scatter(x, 1, m.tensor([[-1], [0]]), x), RuntimeError,
         ["index -1 is out of bounds"]),
    (lambda m, x: m.scatter(x, 1, m.tensor([[1.0], [0]]), x), RuntimeError,
         ["scatter", "int32/int64"]),
    (lambda m, x: m.scatter(x, 2, m.tensor([[1], [0]]), x), IndexError,
         ["Dimension out of range"]),
    (lambda m, x: m.scatter(x, 1, m.tensor([1, 0]), x), RuntimeError,
         ["same number of dimensions as self"]),
    (lambda m, x: m.scatter(x, 1, m.tensor([[1], [0]]), m.tensor(7.0)), RuntimeError,
         ["same number of dimensions as src"]),
    (lambda m, x: m.scatter(x, 1, m.tensor([[1, 0, 1, 2]]), x), RuntimeError,
         ["Expected index [1, 4]", "self [2, 3]"]),
    (lambda m, x: m.scatter(x, 0, m.tensor([[1, 0]]), m.ones(1, 1, dtype=m.float64)),
         RuntimeError, ["src [1, 1]"]),
    (lambda m, x: m.scatter(x, 1, m.tensor([[1], [0]]), x.float()), RuntimeError,
         ["scatter", "dtype"]),
    # index_add
    (lambda m, x: m.index_add(x, 1, m.tensor([2.0, 0]), x[:, :2]), RuntimeError,
         ["index_add_", "int32/int64", "Float"]),
    (lambda m, x: m.index_add(x, 1, m.tensor([3, 0]), x[:, :2]), RuntimeError,
         ["index 3 is out of bounds for dimension 1 with size 3"]),
    (lambda m, x: m.index_add(x, 1, m.tensor([-1, 0]), x[:, :2]), RuntimeError,
         ["index -1 is out of bounds"]),
    (lambda m, x: m.index_add(x, 2, m.tensor([2, 0]), x[:, :2]), IndexError,
         ["Dimension out of range"]),
    (lambda m, x: m.index_add(x, 1, m.tensor([[2, 0]]), x[:, :2]), IndexError,
         ["index_add_", "vector"]),
    (lambda m, x: m.index_add(x, 1, m.tensor([2, 0, 1]), x[:, :2]), RuntimeError,
         ["Number of indices (3)", "(2)"]),
    (lambda m, x: m.index_add(x, 1, m.tensor([2, 0]), m.ones(3, 2, dtype=m.float64)),
         RuntimeError, ["source tensor shape must match self tensor shape", "[2, 3]", "[3, 2]"]),
    (lambda m, x: m.index_add(x, 1, m.tensor([2, 0]), m.ones(2, dtype=m.float64)),
         RuntimeError, ["index_add"]),
    (lambda m, x: m.index_add(x, 0, m.tensor([0]), x[:1].float()), RuntimeError,
         ["index_add_", "Double", "Float"]),
    # index_copy
    (lambda m, x: m.index_copy(x, 1, m.tensor([2, 0], dtype=m.int32), x[:, :2]),
         RuntimeError, ["index_copy_", "long", "Int"]),
    (lambda m, x: m.index_copy(x, 1, m.tensor([3, 0]), x[:, :2]), IndexError,
         ["index_copy_", "index 3 is out of bounds for dimension 1 with size 3"]),
    (lambda m, x: m.index_copy(x, 1, m.tensor([[2, 0]]), x[:, :2]), IndexError,
         ["index_copy_", "dimension"]),
    (lambda m, x: m.index_copy(x, 1, m.tensor([2, 0, 1]), x[:, :2]), IndexError,
         ["Number of indices (3)", "(2)"]),
    (lambda m, x: m.index_copy(x, 1, m.tensor([2, 0]), m.ones(3, 2, dtype=m.float64)),
         RuntimeError, ["index_copy_"]),
    (lambda m, x: m.index_copy(x, 1, m.tensor([2, 0]), m.ones(2, dtype=m.float64)),
         IndexError, ["dimensionality must match", "(1)", "(2)"]),
    (lambda m, x: m.index_copy(x, 0, m.tensor([0]), x[:1].long()), RuntimeError,
         ["index_copy_", "same dtype", "Long"]),
    # index_fill
    (lambda m, x: m.index_fill(x, 1, m.tensor([2], dtype=m.int32), 1.0), IndexError,
         ["index_fill_", "int64"]),
    (lambda m, x: m.index_fill(x, 1, m.tensor([3]), 1.0), IndexError,
         ["index 3 is out of bounds for dimension 1 with size 3"]),
    (lambda m, x: m.index_fill(x, 1, m.tensor([-4]), 1.0), IndexError,
         ["index -4 is out of bounds"]),
    (lambda m, x: m.index_fill(x, 1, m.tensor([[1]]), 1.0), RuntimeError,
         ["vector/scalar"]),
    (lambda m, x: m.index_fill(x, 3, m.tensor([1]), 1.0), IndexError,
         ["Dimension out of range"]),
    (lambda m, x: m.index_fill(x, 1, m.tensor([1]), m.tensor([1.0])), RuntimeError,
         ["0-dimensional value tensor", "1 dimension"]),
    (lambda m, x: m.index_fill(m.tensor(2.0), 0, m.tensor([1]), 1.0), IndexError,
         ["index 1 is out of bounds for dimension 0 with size 1"]),
    # masked_scatter
    (lambda m, x: m.masked_scatter(x, m.tensor(MASK2), x[0, :2]), RuntimeError,
         ["Number of elements of source < number of ones in mask"]),
    (lambda m, x: m.masked_scatter(x, m.tensor(MASK2).long(), x), RuntimeError,
         ["masked_scatter_ only supports boolean masks", "Long"]),
    (lambda m, x: m.masked_scatter(x, m.tensor(MASK2), x.float()), RuntimeError,
         ["masked_scatter", "same dtypes", "Double", "Float"]),
    (lambda m, x: m.masked_scatter(x, m.ones(3, 3, dtype=m.bool), x.reshape(-1)),
         RuntimeError, ["masked_scatter", "[3, 3]", "[2, 3]"]),
    (lambda m, x: x.masked_scatter_(m.ones(2, 2, 3, dtype=m.bool), m.ones(12, dtype=m.float64)),
         RuntimeError, ["masked_scatter_"]),
])
def test_errors_match_torch_of_scatter_and_index_writes(fn, exc, words):
    with pytest.raises(exc):
        fn(torch, torch.arange(6.0, dtype=torch.float64).reshape(2, 3))
    with pytest.raises(exc) as info:
        fn(cr, cr.arange(6.0, dtype=cr.float64).reshape(2, 3))
    for w in words:
        assert w in str(info.value), f"{w!r} not in {str(info.value)!r}"


@pytest.mark.parametrize("fn", [
    lambda m, x: m.scatter(x, dim=1, index=m.tensor([[1]]), src=x),
    lambda m, x: m.scatter(x, dim=1, index=m.tensor([[1]]), value=5.0),
    lambda m, x: m.index_add(x, dim=0, index=m.tensor([1]), source=x[:1], alpha=2),
    lambda m, x: m.index_copy(x, dim=0, index=m.tensor([1]), source=x[:1]),
    lambda m, x: m.index_fill(x, dim=0, index=m.tensor([1]), value=5.0),
    lambda m, x: m.masked_scatter(x, mask=x > 2, source=x.reshape(-1)),
])
def test_keyword_arguments_match_torch(fn):
    _same(fn(cr, cr.arange(6.0).reshape(2, 3)), fn(torch, torch.arange(6.0).reshape(2, 3)))
