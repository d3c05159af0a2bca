"""take, take_along_dim, scatter, index_add/index_copy/index_fill, masked_scatter and
embedding beyond the op table (tests/ops/test_shape_index.py has their OpCase rows): node
names, in-place forms, dtypes, 0-d and empty inputs, gradients and errors against PyTorch."""
import numpy as np
import pytest
import torch

import chainrule as cr

MASK = [[True, False, True], [False, True, False]]


def _same(a, b):
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)
    np.testing.assert_array_equal(np.asarray(a.tolist()), np.asarray(b.tolist()))


@pytest.mark.parametrize("make, name", [
    (lambda m, x: m.take(x, m.tensor([0, 5])), "TakeBackward0"),
    (lambda m, x: m.take_along_dim(x, m.tensor([[1], [0]]), 1), "GatherBackward0"),
    (lambda m, x: m.take_along_dim(x, m.tensor([1])), "GatherBackward0"),
    (lambda m, x: m.scatter(x, 1, m.tensor([[1], [0]]), x[:, :1] * 2), "ScatterBackward0"),
    (lambda m, x: m.scatter(x, 1, m.tensor([[1], [0]]), 2.0), "ScatterBackward1"),
    (lambda m, x: m.scatter(x, 1, m.zeros(2, 0, dtype=m.int64), 2.0), "ScatterBackward1"),
    (lambda m, x: m.scatter(x, 1, m.zeros(3, 0, dtype=m.int64), x), "ScatterBackward0"),
    (lambda m, x: m.index_add(x, 0, m.tensor([1]), x[:1]), "IndexAddBackward0"),
    (lambda m, x: m.index_copy(x, 0, m.tensor([1]), x[:1]), "IndexCopyBackward0"),
    (lambda m, x: m.index_fill(x, 0, m.tensor([1]), 2.0), "IndexFillBackward0"),
    (lambda m, x: m.index_fill(x, 0, m.tensor([1]), x[0, 0]), "IndexFillBackward1"),
    (lambda m, x: m.masked_scatter(x, x > 2, x.reshape(-1)), "MaskedScatterBackward0"),
    (lambda m, x: m.nn.functional.embedding(m.tensor([1, 0]), x), "EmbeddingBackward0"),
    (lambda m, x: x.clone().scatter_(1, m.tensor([[1], [0]]), 2.0), "ScatterBackward1"),
    (lambda m, x: x.clone().index_add_(1, m.tensor([0]), x[:, :1]), "IndexAddBackward0"),
    (lambda m, x: x.clone().masked_scatter_(x > 2, x.reshape(-1)), "MaskedScatterBackward0"),
])
def test_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(6.0).reshape(2, 3).requires_grad_()
        assert type(make(m, x).grad_fn).__name__ == name


@pytest.mark.parametrize("fn", [
    # take / take_along_dim
    lambda m: m.take(m.arange(6).reshape(2, 3), m.tensor([[5, -6], [0, 0]])),
    lambda m: m.take(m.tensor(3.5), m.tensor([0, -1])),
    lambda m: m.take(m.zeros(0), m.tensor([], dtype=m.int64)),
    lambda m: m.take(m.ones(2, 2), m.zeros(0, 3, dtype=m.int64)),
    lambda m: m.arange(6.0).reshape(2, 3).take_along_dim(m.tensor([[0], [2]]), dim=1),
    lambda m: m.take_along_dim(m.tensor(2.0), m.tensor(0)),
    lambda m: m.take_along_dim(m.tensor([[True, False]]), m.tensor([[1], [0]]), 1),
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
    lambda m: m.masked_scatter(m.zeros(2, 3), m.tensor(MASK), m.arange(10.0, 20.0)),
    lambda m: m.masked_scatter(m.zeros(3), m.tensor(MASK), m.arange(10.0, 20.0)),
    lambda m: m.masked_scatter(m.zeros(2, 3, dtype=m.int64), m.tensor([True, False, True]),
                               m.arange(4).reshape(2, 2)),
    lambda m: m.masked_scatter(m.tensor(1.0), m.tensor(True), m.tensor([5.0, 6.0])),
    lambda m: m.masked_scatter(m.tensor([1.0, 2.0]), m.tensor(False), m.zeros(0)),
    # embedding
    lambda m: m.nn.functional.embedding(m.tensor([[0, 2], [2, 2]]), m.arange(6.0).reshape(3, 2)),
    lambda m: m.nn.functional.embedding(m.tensor([1], dtype=m.int32), m.arange(6).reshape(3, 2)),
    lambda m: m.nn.functional.embedding(m.zeros(0, dtype=m.int64), m.ones(3, 2)),
    lambda m: m.nn.functional.embedding(m.tensor(1), m.ones(3, 2), padding_idx=1),
])
def test_values_match_torch(fn):
    _same(fn(cr), fn(torch))


def _grads(m, fn, arrays, seed=1):
    xs = [m.tensor(a, requires_grad=True) for a in arrays]
    out = fn(m, *xs)
    g = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(m.tensor(g, dtype=out.dtype))
    return out, [x.grad for x in xs]


@pytest.mark.parametrize("fn, shapes", [
    (lambda m, x: m.take(x, m.tensor([1, 1, -1, 1])), [(2, 2)]),
    (lambda m, x: x.take_along_dim(m.tensor([[0, 0, 0], [1, 1, 0]]), 0), [(2, 3)]),
    (lambda m, x, s: m.index_add(x, 0, m.tensor([1, 1, 1]), s, alpha=3), [(2, 2), (3, 2)]),
    (lambda m, x, s: m.index_copy(x, 1, m.tensor([0, 2]), s), [(2, 3), (2, 2)]),
    (lambda m, x, v: m.index_fill(x, 1, m.tensor([2, 2, 0]), v), [(2, 3), ()]),
    (lambda m, x, s: m.masked_scatter(x, m.tensor(MASK), s), [(3,), (2, 4)]),
    (lambda m, x, s: m.scatter(x, 0, m.tensor([[1, 0, 1]]), s), [(2, 3), (1, 3)]),
    (lambda m, w: m.nn.functional.embedding(m.tensor([[2, 2], [0, 2]]), w, padding_idx=0),
     [(3, 2)]),
    (lambda m, w: m.nn.functional.embedding(m.tensor([3, 3, 1]), w, padding_idx=-1),
     [(4, 2)]),
])
def test_gradients_match_torch(fn, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    oc, gc = _grads(cr, fn, arrays)
    ot, gt = _grads(torch, fn, arrays)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), atol=1e-12)
    for a, b in zip(gc, gt):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


def test_padding_row_gets_zero_gradient_and_repeats_add_up():
    w = cr.ones(4, 2, requires_grad=True)
    cr.nn.functional.embedding(cr.tensor([[1, 3], [1, 1]]), w, padding_idx=3).sum().backward()
    assert w.grad.tolist() == [[0.0, 0.0], [3.0, 3.0], [0.0, 0.0], [0.0, 0.0]]
    x = cr.zeros(2, 2, requires_grad=True)
    cr.take(x, cr.tensor([3, 3, -1, 0])).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0], [0.0, 3.0]]


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


# --- in-place forms ---------------------------------------------------------------------

INPLACE = [
    lambda m, x, s: x.scatter_(1, m.tensor([[2, 0], [1, 2]]), s[:, :2]),
    lambda m, x, s: x.scatter_(0, m.tensor([[1, 0, 1]]), -1.5),
    lambda m, x, s: x.index_add_(1, m.tensor([0, 0, 2]), s, alpha=-2),
    lambda m, x, s: x.index_copy_(1, m.tensor([2, 1, 0]), s),
    lambda m, x, s: x.index_fill_(1, m.tensor([1, -1]), 9.0),
    lambda m, x, s: x.index_fill_(0, m.tensor(1), s[0, 0]),
    lambda m, x, s: x.masked_scatter_(m.tensor(MASK), s),
    lambda m, x, s: x.masked_scatter_(m.tensor([False, True, True]), s),
]


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


# --- reduce=, embedding options, nn.Embedding ---------------------------------------------

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


@pytest.mark.parametrize("kw", [{"max_norm": 1.0}, {"scale_grad_by_freq": True},
                                {"sparse": True}])
def test_embedding_unsupported_options(kw):
    name = next(iter(kw))
    with pytest.raises(NotImplementedError, match=name):
        cr.nn.functional.embedding(cr.tensor([1]), cr.ones(3, 2), **kw)


def test_nn_embedding():
    cr.manual_seed(0)
    emb = cr.nn.Embedding(5, 3, padding_idx=-2)
    assert repr(emb) == repr(torch.nn.Embedding(5, 3, padding_idx=-2)) == \
        "Embedding(5, 3, padding_idx=3)"
    assert repr(cr.nn.Embedding(5, 3, max_norm=2.0, sparse=True)) == \
        repr(torch.nn.Embedding(5, 3, max_norm=2.0, sparse=True))
    assert emb.weight.shape == (5, 3) and emb.weight.requires_grad
    assert emb.weight[3].tolist() == [0.0, 0.0, 0.0]
    assert [n for n, _ in emb.named_parameters()] == ["weight"]
    w = emb.weight.detach().numpy().copy()
    out = emb(cr.tensor([[3, 1], [1, 4]]))
    np.testing.assert_array_equal(out.detach().numpy(), w[[[3, 1], [1, 4]]])
    out.sum().backward()
    assert emb.weight.grad.tolist() == [[0.0] * 3, [2.0] * 3, [0.0] * 3, [0.0] * 3, [1.0] * 3]
    pre = cr.nn.Embedding.from_pretrained(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not pre.weight.requires_grad and pre(cr.tensor([1, 1])).tolist() == [[3.0, 4.0]] * 2
    assert cr.nn.Embedding.from_pretrained(cr.ones(2, 2), freeze=False).weight.requires_grad
    for m in (cr, torch):
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            m.nn.Embedding(5, 3, padding_idx=5)
        with pytest.raises(AssertionError, match="2-dimensional"):
            m.nn.Embedding.from_pretrained(m.ones(3))


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


# --- errors: PyTorch's exception class, and a message that says what to do ----------------

@pytest.mark.parametrize("fn, exc, words", [
    # take
    (lambda m, x: m.take(x, m.tensor([6])), IndexError, ["out of range", "6", "6 elements"]),
    (lambda m, x: m.take(x, m.tensor([-7])), IndexError, ["out of range", "-7"]),
    (lambda m, x: m.take(x, m.tensor([1.0])), RuntimeError, ["take", "long", "Float"]),
    (lambda m, x: m.take(x, m.tensor([1], dtype=m.int32)), RuntimeError, ["take", "Int"]),
    (lambda m, x: m.take(m.zeros(0), m.tensor([0])), IndexError, ["take", "empty"]),
    # take_along_dim
    (lambda m, x: m.take_along_dim(x, m.tensor([[0], [1]]), 2), IndexError,
     ["Dimension out of range"]),
    (lambda m, x: m.take_along_dim(x, m.tensor([[0.0]]), 1), RuntimeError,
     ["take_along_dim", "Long", "Float"]),
    (lambda m, x: m.take_along_dim(x, m.tensor([0, 1]), 1), RuntimeError,
     ["same number of dimensions", "2", "1"]),
    (lambda m, x: m.take_along_dim(x, m.zeros(3, 1, dtype=m.int64), 1), RuntimeError,
     ["take_along_dim"]),
    (lambda m, x: m.take_along_dim(m.tensor(2.0), m.tensor(0), 0), IndexError,
     ["no dimensions"]),
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
    (lambda m, x: m.masked_scatter(x, m.tensor(MASK), x[0, :2]), RuntimeError,
     ["Number of elements of source < number of ones in mask"]),
    (lambda m, x: m.masked_scatter(x, m.tensor(MASK).long(), x), RuntimeError,
     ["masked_scatter_ only supports boolean masks", "Long"]),
    (lambda m, x: m.masked_scatter(x, m.tensor(MASK), x.float()), RuntimeError,
     ["masked_scatter", "same dtypes", "Double", "Float"]),
    (lambda m, x: m.masked_scatter(x, m.ones(3, 3, dtype=m.bool), x.reshape(-1)),
     RuntimeError, ["masked_scatter", "[3, 3]", "[2, 3]"]),
    (lambda m, x: x.masked_scatter_(m.ones(2, 2, 3, dtype=m.bool), m.ones(12, dtype=m.float64)),
     RuntimeError, ["masked_scatter_"]),
    # embedding
    (lambda m, x: m.nn.functional.embedding(m.tensor([0, 2]), x), IndexError,
     ["index out of range in self"]),
    (lambda m, x: m.nn.functional.embedding(m.tensor([0, -1]), x), IndexError,
     ["index out of range in self"]),
    (lambda m, x: m.nn.functional.embedding(m.tensor([0.0]), x), RuntimeError,
     ["embedding", "Float"]),
    (lambda m, x: m.nn.functional.embedding(m.tensor([0]), x[0]), RuntimeError,
     ["'weight' must be 2-D"]),
    (lambda m, x: m.nn.functional.embedding(m.tensor([0]), x, padding_idx=2), AssertionError,
     ["Padding_idx must be within num_embeddings"]),
    (lambda m, x: m.nn.functional.embedding(m.tensor([0]), x, padding_idx=-3), AssertionError,
     ["Padding_idx must be within num_embeddings"]),
])
def test_errors_match_torch(fn, exc, words):
    with pytest.raises(exc):
        fn(torch, torch.arange(6.0, dtype=torch.float64).reshape(2, 3))
    with pytest.raises(exc) as info:
        fn(cr, cr.arange(6.0, dtype=cr.float64).reshape(2, 3))
    for w in words:
        assert w in str(info.value), f"{w!r} not in {str(info.value)!r}"


def test_take_along_dim_out_of_range_raises():
    # PyTorch 2.13 reads past the dimension (an unspecified value) here; chainrule raises
    x = cr.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 1"):
        cr.take_along_dim(x, cr.tensor([[0], [3]]), 1)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.take(input=x, index=m.tensor([1])),
    lambda m, x: m.take_along_dim(input=x, indices=m.tensor([[1]]), dim=0),
    lambda m, x: m.scatter(x, dim=1, index=m.tensor([[1]]), src=x),
    lambda m, x: m.scatter(x, dim=1, index=m.tensor([[1]]), value=5.0),
    lambda m, x: m.index_add(x, dim=0, index=m.tensor([1]), source=x[:1], alpha=2),
    lambda m, x: m.index_copy(x, dim=0, index=m.tensor([1]), source=x[:1]),
    lambda m, x: m.index_fill(x, dim=0, index=m.tensor([1]), value=5.0),
    lambda m, x: m.masked_scatter(x, mask=x > 2, source=x.reshape(-1)),
    lambda m, x: m.nn.functional.embedding(input=m.tensor([1]), weight=x, padding_idx=0),
])
def test_keyword_arguments_match_torch(fn):
    _same(fn(cr, cr.arange(6.0).reshape(2, 3)), fn(torch, torch.arange(6.0).reshape(2, 3)))
