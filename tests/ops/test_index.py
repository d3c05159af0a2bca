"""Indexing reads (ops/index.py): x[idx], item assignment, gather, index_select, take,
take_along_dim, embedding against PyTorch and finite differences: the OpCase rows (value,
VJP, JVP, second order in float64, float32 preservation) and the checks beyond the table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests
from oplib import assert_same_list as _same, grads_seeded as _grads


def _view_after_change(a, b):
    y = a * 1.0
    v = y[1]                  # a view of y
    y.mul_(b)                 # y changes; v's grad_fn must follow
    return v * v


def _through_view(a, b):
    y = a * 1.0
    y[0].mul_(b)              # through a view: y's graph gets the change
    y.T[1].add_(y[1, :2].sum())
    return y


def _inplace(a, op):
    """Apply an in-place op to a non-leaf copy of ``a`` and return the modified tensor."""
    y = a * 1.0
    r = op(y)
    assert r is y
    return y


MASK = [[True, False, True], [False, False, True]]


def _vjp_of(m, fwd, shape, g):
    with m.enable_grad():           # finite differences run the row under no_grad
        x = m.ones(shape, dtype=g.dtype, requires_grad=True)
        return m.autograd.grad(fwd(x), x, g, create_graph=True)[0]


def _setitem(a, v):
    y = a.clone()
    y[1] = v
    y[0, :2] = v[1:3] * 2
    return y * 1.0


MASK2 = [[True, False, True], [False, True, False]]


CASES = [
    # a view re-derived from its base after the base changed in place (AsStridedBackward0),
    # and an in-place change through a view (CopySlices on the base)
    OpCase("view_after_base_change", lambda m, a, b: _view_after_change(a, b), [(2, 3), (3,)],
           op="as_strided"),
    OpCase("inplace_through_view", lambda m, a, b: _through_view(a, b), [(2, 3), (3,)],
           op="setitem"),
    OpCase("index_put", lambda m, a, b: _inplace(a, lambda y: y.__setitem__(a > 0, b.sum()) or y),
           [(2, 3), (2,)], op="index_put"),
    OpCase("index_put_list", lambda m, a, b: _inplace(a, lambda y: y.__setitem__([2, 0], b) or y),
           [(4, 2), (2, 2)], op="index_put"),
    # indexing
    OpCase("index_int", lambda m, a: a[1], [(3, 4)], op="select"),
    OpCase("index_slice", lambda m, a: a[:, 1:3], [(3, 4)], op="slice"),
    OpCase("index_none", lambda m, a: a[None, ..., 0], [(3, 4)], op="slice"),
    OpCase("index_step", lambda m, a: a[::2], [(5,)], op="slice"),
    OpCase("index_list_repeat", lambda m, a: a[[0, 2, 0, 0]], [(3, 2)], op="getitem"),
    OpCase("index_range", lambda m, a: a[range(1, 3)], [(4,)], op="getitem"),
    OpCase("index_mask", lambda m, a: a[a > 0], [(3, 4)], op="getitem"),
    OpCase("index_2d_adv", lambda m, a: a[m.tensor([0, 1, 1]), m.tensor([2, 0, 2])],
           [(3, 4)], op="getitem"),
    OpCase("gather", lambda m, a: m.gather(a, 1, m.tensor([[0, 0], [1, 0]])), [(2, 3)],
           op="gather"),
    OpCase("gather_small_index", lambda m, a: m.gather(a, 1, m.tensor([[2, 0], [1, 1]])),
           [(3, 3)], op="gather"),
    OpCase("index_select", lambda m, a: m.index_select(a, 0, m.tensor([2, 0, 2])),
           [(3, 2)], op="index_select"),
    OpCase("index_select_dim1", lambda m, a: a.index_select(1, m.tensor([1, 1, 0])),
           [(2, 3, 2)], op="index_select"),
    OpCase("index_select_0d_index", lambda m, a: a.index_select(-1, m.tensor(1)), [(2, 3)],
           op="index_select"),
    # 0-d inputs
    OpCase("index_select_0d", lambda m, a: m.index_select(a, 0, m.tensor([0])), [()],
           op="index_select"),
    # item assignment (core op, covered here with its transpose zero_at)
    OpCase("setitem", lambda m, a, v: _setitem(a, v), [(3, 4), (4,)],
           op=("setitem", "zero_at")),
    # take / take_along_dim (repeated indices: gradients add up)
    OpCase("take", lambda m, a: m.take(a, m.tensor([[0, 5], [5, -1]])), [(2, 3)], op="take"),
    OpCase("take_method_3d", lambda m, a: a.take(m.tensor([7, 0, -24, 7])), [(2, 3, 4)],
           op="take"),
    OpCase("take_0d", lambda m, a: m.take(a, m.tensor([0, 0, -1])), [()], op="take"),
    OpCase("take_0d_index", lambda m, a: a.take(m.tensor(4)), [(2, 3)], op="take"),
    OpCase("take_along_dim", lambda m, a: m.take_along_dim(a, m.tensor([[2, 0], [1, 1]]), 1),
           [(2, 3)], op="gather"),
    OpCase("take_along_dim_flat", lambda m, a: a.take_along_dim(m.tensor([[5, 0], [0, 3]])),
           [(2, 3)], op="gather"),
    OpCase("take_along_dim_bcast_index",
           lambda m, a: m.take_along_dim(a, m.tensor([[0, 2, 2]]), dim=-1), [(2, 3)],
           op="gather"),
    OpCase("take_along_dim_bcast_input",
           lambda m, a: m.take_along_dim(a, m.tensor([[[1], [0]], [[0], [0]]]), 2),
           [(1, 2, 3)], op="gather"),
    # embedding (repeated indices add up; the padding row gets no gradient)
    OpCase("embedding",
           lambda m, w: m.nn.functional.embedding(m.tensor([[0, 2], [2, 3]]), w), [(4, 3)],
           op="embedding"),
    # (the padding row's gradient is 0 although the output depends on it; the row zeroes
    # the padding positions so that finite differences agree; see
    # test_padding_row_gets_zero_gradient_and_repeats_add_up below)
    OpCase("embedding_padding",
           lambda m, w: m.nn.functional.embedding(m.tensor([1, 3, 1, 0]), w, padding_idx=1)
           * m.tensor([[0.0], [1.0], [0.0], [1.0]], dtype=w.dtype) * w[:1], [(4, 2)],
           op="embedding"),
    OpCase("embedding_0d_int32",
           lambda m, w: m.nn.functional.embedding(m.tensor(2, dtype=m.int32), w,
                                                  padding_idx=-3), [(3, 2)], op="embedding"),
    # ops that only run as the VJP of another op (transposes): the row's function is that
    # VJP as a function of the output gradient, built with create_graph=True
    # (PyTorch has no forward mode for _pack_padded_sequence: its side is the same rows
    # gathered with cat)
    OpCase("pack_padded_sequence",
           lambda m, x: m.nn.utils.rnn.pack_padded_sequence(x, [4, 2, 1]).data if m is cr
           else m.cat([x[0], x[1, :2], x[2, :1], x[3, :1]]),
           [(4, 3, 2)], op="pack_padded_sequence"),
    OpCase("pack_padded_sequence_unsorted_batch_first",
           lambda m, x: m.nn.utils.rnn.pack_padded_sequence(
               x, m.tensor([1, 3, 3]), batch_first=True, enforce_sorted=False).data
           if m is cr else m.cat([x[[1, 2, 0], 0], x[1:, 1], x[1:, 2]]),
           [(3, 4)], op="pack_padded_sequence"),
    OpCase("index_scatter", lambda m, g: _vjp_of(m, lambda x: x[[0, 2, 0]], (3, 2), g),
           [(3, 2)], op="index_scatter"),
    OpCase("scatter_add_zeros",
           lambda m, g: _vjp_of(m, lambda x: m.gather(x, 1, m.tensor([[1, 1], [0, 2]])),
                                (2, 3), g),
           [(2, 2)], op="scatter_add_zeros"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m, x: m.index_select(x, 0, m.tensor([1])), "IndexSelectBackward0"),
])
def test_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


@pytest.mark.parametrize("fn, exc", [
    (lambda m, x: m.index_select(x, 0, m.tensor([5])), IndexError),
    (lambda m, x: m.index_select(x, 0, m.tensor([[1]])), IndexError),
    (lambda m, x: m.index_select(x[0, 0], 0, m.tensor([0, 0])), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))


@pytest.mark.parametrize("fn", [
    lambda m, x: m.index_select(x, dim=1, index=m.tensor([2, 0])),
])
def test_keyword_arguments_match_torch(fn):
    xc, xt = cr.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert fn(cr, xc).tolist() == fn(torch, xt).tolist()


@pytest.mark.parametrize("make, name", [
    (lambda m, x: m.take(x, m.tensor([0, 5])), "TakeBackward0"),
    (lambda m, x: m.take_along_dim(x, m.tensor([[1], [0]]), 1), "GatherBackward0"),
    (lambda m, x: m.take_along_dim(x, m.tensor([1])), "GatherBackward0"),
    (lambda m, x: m.nn.functional.embedding(m.tensor([1, 0]), x), "EmbeddingBackward0"),
])
def test_grad_fn_names_of_take_and_embedding(make, name):
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
    # embedding
    lambda m: m.nn.functional.embedding(m.tensor([[0, 2], [2, 2]]), m.arange(6.0).reshape(3, 2)),
    lambda m: m.nn.functional.embedding(m.tensor([1], dtype=m.int32), m.arange(6).reshape(3, 2)),
    lambda m: m.nn.functional.embedding(m.zeros(0, dtype=m.int64), m.ones(3, 2)),
    lambda m: m.nn.functional.embedding(m.tensor(1), m.ones(3, 2), padding_idx=1),
])
def test_values_match_torch(fn):
    _same(fn(cr), fn(torch))


@pytest.mark.parametrize("fn, shapes", [
    (lambda m, x: m.take(x, m.tensor([1, 1, -1, 1])), [(2, 2)]),
    (lambda m, x: x.take_along_dim(m.tensor([[0, 0, 0], [1, 1, 0]]), 0), [(2, 3)]),
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
def test_errors_match_torch_of_take_and_embedding(fn, exc, words):
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
    lambda m, x: m.nn.functional.embedding(input=m.tensor([1]), weight=x, padding_idx=0),
])
def test_keyword_arguments_match_torch_of_take_and_embedding(fn):
    _same(fn(cr, cr.arange(6.0).reshape(2, 3)), fn(torch, torch.arange(6.0).reshape(2, 3)))
