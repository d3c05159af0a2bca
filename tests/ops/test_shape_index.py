"""Indexing and rearranging ops (ops/index_more.py, nn.functional.pad) against PyTorch and
finite differences: value, VJP, JVP and second order in float64, float32 dtype
preservation; plus grad_fn names, the meshgrid warning and error messages."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests

IDX0 = [[0, 2, 0, 1], [2, 2, 1, 0]]          # scatter along dim 0 of a (3, 4), repeats
MASK = [[True, False, True], [False, False, True]]


def _off_int(rng, shape=(2, 3)):
    # values at least 0.1 away from integers (frac and trunc jump there)
    return [rng.integers(-3, 3, size=shape) + rng.uniform(0.1, 0.9, size=shape) *
            rng.choice([-1, 1], size=shape)]


def _pieces(m, parts):
    # combine every piece with a different weight so each piece's gradient is checked
    return m.cat([p.reshape(-1) * (i + 1) for i, p in enumerate(parts)])


CASES = [
    # scatter_add / index_select / gather
    OpCase("scatter_add", lambda m, a, s: m.scatter_add(a, 0, m.tensor(IDX0), s),
           [(3, 4), (2, 4)], op="scatter_add"),
    OpCase("scatter_add_dim1_small_index",
           lambda m, a, s: a.scatter_add(1, m.tensor([[1, 1], [0, 2]]), s),
           [(3, 3), (2, 2)], op="scatter_add"),
    OpCase("scatter_add_inplace",
           lambda m, a, s: a.clone().scatter_add_(0, m.tensor([2, 0, 2]), s),
           [(4,), (3,)], op="scatter_add"),
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
    OpCase("scatter_add_0d", lambda m, a, s: m.scatter_add(a, 0, m.tensor(0), s), [(), ()],
           op="scatter_add"),
    OpCase("roll_0d", lambda m, a: m.roll(a, 1) * a, [()], op="roll"),
    OpCase("tile_0d", lambda m, a: a.tile(2, 3), [()], op="repeat"),
    OpCase("pad_0d", lambda m, a: m.nn.functional.pad(a, ()), [()], op="constant_pad_nd"),
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
    # flip / roll
    OpCase("flip", lambda m, a: m.flip(a, [0]), [(3, 2)], op="flip"),
    OpCase("flip_dims", lambda m, a: a.flip(0, -1), [(2, 3, 2)], op="flip"),
    OpCase("flip_0d", lambda m, a: m.flip(a, []), [()], op="flip"),
    OpCase("fliplr", lambda m, a: m.fliplr(a), [(2, 3)], op="flip"),
    OpCase("flipud", lambda m, a: a.flipud(), [(3, 2)], op="flip"),
    OpCase("roll_flat", lambda m, a: m.roll(a, 2), [(2, 3)], op="roll"),
    OpCase("roll_dims", lambda m, a: a.roll((1, -2), (0, 1)), [(3, 4)], op="roll"),
    OpCase("roll_neg_dim", lambda m, a: a.roll(1, -1), [(2, 3)], op="roll"),
    # repeat / tile
    OpCase("repeat", lambda m, a: a.repeat(2, 1, 3), [(2, 3)], op="repeat"),
    OpCase("repeat_same_rank", lambda m, a: a.repeat(2, 2), [(2, 3)], op="repeat"),
    OpCase("repeat_0d", lambda m, a: a.repeat(3), [()], op="repeat"),
    OpCase("tile", lambda m, a: m.tile(a, (2,)), [(2, 3)], op="repeat"),
    OpCase("tile_method", lambda m, a: a.tile(2, 1, 1), [(2, 3)], op="repeat"),
    # narrow / split / chunk / unbind (views: slices)
    OpCase("narrow", lambda m, a: m.narrow(a, 1, 1, 2), [(2, 4)], op="slice"),
    OpCase("narrow_neg", lambda m, a: a.narrow(0, -2, 2), [(3, 2)], op="slice"),
    OpCase("split_int", lambda m, a: _pieces(m, m.split(a, 2)), [(5, 2)], op="split"),
    OpCase("split_sizes", lambda m, a: _pieces(m, a.split([1, 3], dim=1)), [(2, 4)],
           op="split_with_sizes"),
    OpCase("chunk", lambda m, a: _pieces(m, m.chunk(a, 3, 1)), [(2, 5)], op="split"),
    OpCase("unbind", lambda m, a: _pieces(m, m.unbind(a, 1)), [(2, 3)], op="unbind"),
    # padding
    OpCase("pad_constant", lambda m, a: m.nn.functional.pad(a, (1, 2)), [(2, 3)],
           op="constant_pad_nd"),
    OpCase("pad_value", lambda m, a: m.nn.functional.pad(a, (0, 1, 2, 0), value=1.5),
           [(2, 3)], op="constant_pad_nd"),
    OpCase("pad_negative", lambda m, a: m.nn.functional.pad(a, (-1, 2, 1, -1)), [(3, 4)],
           op="constant_pad_nd"),
    OpCase("pad_3dims", lambda m, a: m.nn.functional.pad(a, (1, 0, 0, 1, 1, 1)), [(2, 2, 2)],
           op="constant_pad_nd"),
    OpCase("pad_reflect1d", lambda m, a: m.nn.functional.pad(a, (2, 1), mode="reflect"),
           [(2, 4)], op="reflect_pad1d"),
    OpCase("pad_reflect2d", lambda m, a: m.nn.functional.pad(a, (1, 2, 2, 0), mode="reflect"),
           [(1, 2, 3, 4)], op="reflect_pad2d"),
    OpCase("pad_reflect3d",
           lambda m, a: m.nn.functional.pad(a, (1, 1, 0, 1, 1, 0), mode="reflect"),
           [(1, 2, 2, 3)], op="reflect_pad3d"),
    OpCase("pad_replicate1d", lambda m, a: m.nn.functional.pad(a, (3, 1), mode="replicate"),
           [(1, 2, 3)], op="replicate_pad1d"),
    OpCase("pad_replicate2d",
           lambda m, a: m.nn.functional.pad(a, (1, 1, 2, 1), mode="replicate"), [(2, 2, 3)],
           op="replicate_pad2d"),
    OpCase("pad_replicate3d",
           lambda m, a: m.nn.functional.pad(a, (0, 1, 1, 0, 2, 1), mode="replicate"),
           [(1, 1, 2, 2, 2)], op="replicate_pad3d"),
    OpCase("pad_circular", lambda m, a: m.nn.functional.pad(a, (2, 3), mode="circular"),
           [(1, 2, 3)], op="circular_pad"),
    OpCase("pad_circular2d",
           lambda m, a: m.nn.functional.pad(a, (1, 0, 1, 2), mode="circular"), [(1, 2, 3, 2)],
           op="circular_pad"),
    # meshgrid (reshape + expand views)
    OpCase("meshgrid_ij", lambda m, a, b: m.stack(m.meshgrid(a, b, indexing="ij")),
           [(2,), (3,)], op=("view", "expand")),
    OpCase("meshgrid_xy", lambda m, a, b, c: m.cat([g.reshape(-1) for g in
                                                    m.meshgrid(a, b, c, indexing="xy")]),
           [(2,), (3,), (2,)], op="expand"),
    OpCase("meshgrid_0d", lambda m, a, b: m.stack(m.meshgrid([a, b], indexing="xy")),
           [(), (3,)], op="expand"),
    # select / movedim / unflatten / tensor_split / h-v-dsplit / frac (ops/shape_more.py,
    # composites of select, permute, view, slice, sub and trunc)
    OpCase("select", lambda m, a: m.select(a, 1, -1), [(2, 3, 2)], op="select"),
    OpCase("select_method", lambda m, a: a.select(0, 2) * a.select(-1, 0)[:, None],
           [(3, 2)], op="select"),
    OpCase("select_1d", lambda m, a: a.select(0, 1), [(4,)], op="select"),
    OpCase("movedim_int", lambda m, a: m.movedim(a, 0, -1), [(2, 3, 4)], op="permute"),
    OpCase("movedim_tuple", lambda m, a: a.movedim((0, 1), (2, 0)), [(2, 3, 4)], op="permute"),
    OpCase("moveaxis_neg", lambda m, a: m.moveaxis(a, [-1, 1], [1, -1]), [(2, 3, 2, 4)],
           op="permute"),
    OpCase("moveaxis_0d", lambda m, a: a.moveaxis(0, 0) * a, [()], op="permute"),
    OpCase("unflatten", lambda m, a: m.unflatten(a, 1, (2, 3)), [(2, 6)], op="view"),
    OpCase("unflatten_infer_neg_dim", lambda m, a: a.unflatten(-1, (-1, 2, 1)), [(3, 4)],
           op="view"),
    OpCase("tensor_split_sections", lambda m, a: _pieces(m, m.tensor_split(a, 3)), [(7, 2)],
           op="slice"),
    OpCase("tensor_split_more_sections_than_size",
           lambda m, a: _pieces(m, a.tensor_split(4, dim=1)), [(2, 3)], op="slice"),
    OpCase("tensor_split_indices",
           lambda m, a: _pieces(m, m.tensor_split(a, [1, 9, 5, 2, -1], dim=-1)), [(2, 7)],
           op="slice"),
    OpCase("tensor_split_tensor_indices",
           lambda m, a: _pieces(m, a.tensor_split(m.tensor([2, 4]), 1)), [(2, 5)], op="slice"),
    OpCase("tensor_split_tensor_sections",
           lambda m, a: _pieces(m, a.tensor_split(m.tensor(2))), [(5,)], op="slice"),
    OpCase("hsplit", lambda m, a: _pieces(m, m.hsplit(a, 2)), [(3, 4)], op="slice"),
    OpCase("hsplit_1d_indices", lambda m, a: _pieces(m, a.hsplit([1, 3])), [(5,)], op="slice"),
    OpCase("vsplit", lambda m, a: _pieces(m, m.vsplit(a, [2])), [(3, 2)], op="slice"),
    OpCase("dsplit", lambda m, a: _pieces(m, a.dsplit(2)), [(2, 1, 4)], op="slice"),
    OpCase("frac", lambda m, a: m.frac(a) * a, [(2, 3)], op=("sub", "trunc"), make=_off_int),
    OpCase("frac_inplace", lambda m, a: a.clone().frac_() * 2, [(2, 3)], op=("sub", "trunc"),
           make=_off_int),
    OpCase("trunc_inplace", lambda m, a: a.clone().trunc_() * a, [(2, 3)], op="trunc",
           make=_off_int),
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
    # embedding (repeated indices add up; the padding row gets no gradient)
    OpCase("embedding",
           lambda m, w: m.nn.functional.embedding(m.tensor([[0, 2], [2, 3]]), w), [(4, 3)],
           op="embedding"),
    # (the padding row's gradient is 0 although the output depends on it; the row zeroes
    # the padding positions so that finite differences agree; see test_scatter_take.py)
    OpCase("embedding_padding",
           lambda m, w: m.nn.functional.embedding(m.tensor([1, 3, 1, 0]), w, padding_idx=1)
           * m.tensor([[0.0], [1.0], [0.0], [1.0]], dtype=w.dtype) * w[:1], [(4, 2)],
           op="embedding"),
    OpCase("embedding_0d_int32",
           lambda m, w: m.nn.functional.embedding(m.tensor(2, dtype=m.int32), w,
                                                  padding_idx=-3), [(3, 2)], op="embedding"),
    # ops that only run as the VJP of another op (transposes): the row's function is that
    # VJP as a function of the output gradient, built with create_graph=True
    OpCase("index_scatter", lambda m, g: _vjp_of(m, lambda x: x[[0, 2, 0]], (3, 2), g),
           [(3, 2)], op="index_scatter"),
    OpCase("sum_to", lambda m, g: _vjp_of(m, lambda x: x.expand(2, 2, 3), (2, 1, 3), g),
           [(2, 2, 3)], op="sum_to"),
    OpCase("scatter_add_zeros",
           lambda m, g: _vjp_of(m, lambda x: m.gather(x, 1, m.tensor([[1, 1], [0, 2]])),
                                (2, 3), g),
           [(2, 2)], op="scatter_add_zeros"),
]


def _vjp_of(m, fwd, shape, g):
    with m.enable_grad():           # finite differences run the row under no_grad
        x = m.ones(shape, dtype=g.dtype, requires_grad=True)
        return m.autograd.grad(fwd(x), x, g, create_graph=True)[0]


def _setitem(a, v):
    y = a.clone()
    y[1] = v
    y[0, :2] = v[1:3] * 2
    return y * 1.0


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


# --- beyond the table -----------------------------------------------------------------------

@pytest.mark.parametrize("make, name", [
    (lambda m, x: m.scatter_add(x, 0, m.tensor([0, 0]), x[:2]), "ScatterAddBackward0"),
    (lambda m, x: m.index_select(x, 0, m.tensor([1])), "IndexSelectBackward0"),
    (lambda m, x: x.masked_fill(x > 0, 1.0), "MaskedFillBackward0"),
    (lambda m, x: x.masked_fill(x > 0, m.tensor(1.0)), "MaskedFillBackward1"),
    (lambda m, x: x.flip(0), "FlipBackward0"),
    (lambda m, x: x.roll(1), "RollBackward0"),
    (lambda m, x: x.repeat(2), "RepeatBackward0"),
    (lambda m, x: x.tile(2), "RepeatBackward0"),
    (lambda m, x: x.narrow(0, 1, 2), "SliceBackward0"),
    (lambda m, x: x.split(3)[1], "SplitBackward0"),
    (lambda m, x: x.split([1, 3])[0], "SplitWithSizesBackward0"),
    (lambda m, x: x.chunk(2)[0], "SplitBackward0"),
    (lambda m, x: x.reshape(2, 2).unbind(1)[0], "UnbindBackward0"),
    (lambda m, x: m.nn.functional.pad(x, (1, 1)), "ConstantPadNdBackward0"),
    (lambda m, x: m.nn.functional.pad(x[None], (1, 1), mode="reflect"),
     "ReflectionPad1DBackward0"),
    (lambda m, x: m.nn.functional.pad(x[None, None], (1, 1, 1, 1), mode="replicate"),
     "ReplicationPad2DBackward0"),
])
def test_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


def test_split_chunk_shapes_match_torch():
    for n in range(0, 8):
        for k in (1, 2, 3, 5):
            xc, xt = cr.arange(float(n)), torch.arange(float(n))
            if n:
                assert [p.shape[0] for p in xc.chunk(k)] == [p.shape[0] for p in xt.chunk(k)]
            assert [p.shape[0] for p in xc.split(k)] == [p.shape[0] for p in xt.split(k)]


def test_meshgrid_warns_without_indexing_and_defaults_to_ij():
    a, b = cr.arange(2.0), cr.arange(3.0)
    with pytest.warns(UserWarning, match="indexing argument"):
        gc = cr.meshgrid(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gt = torch.meshgrid(torch.arange(2.0), torch.arange(3.0))
    for u, v in zip(gc, gt):
        assert tuple(u.shape) == tuple(v.shape) == (2, 3)
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.meshgrid(a, b, indexing="xy")


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
    (lambda m, x: m.index_select(x, 0, m.tensor([5])), IndexError),
    (lambda m, x: m.index_select(x, 0, m.tensor([[1]])), IndexError),
    (lambda m, x: x.masked_fill(m.ones(3, 3), 1.0), RuntimeError),
    (lambda m, x: x.masked_fill(x > 0, m.ones(2)), RuntimeError),
    (lambda m, x: x.narrow(0, 2, 3), RuntimeError),
    (lambda m, x: x.flip(0, 0), RuntimeError),
    (lambda m, x: x.roll((1, 2), 0), RuntimeError),
    (lambda m, x: x.repeat(2), RuntimeError),
    (lambda m, x: x.split([1, 1]), RuntimeError),
    (lambda m, x: x.chunk(0), RuntimeError),
    (lambda m, x: m.nn.functional.pad(x, (1,)), RuntimeError),
    (lambda m, x: m.nn.functional.pad(x, (1, 1, 1, 1, 1, 1)), RuntimeError),
    (lambda m, x: m.nn.functional.pad(x[None], (3, 3), mode="reflect"), RuntimeError),
    (lambda m, x: m.nn.functional.pad(x[None], (1, 1, 1, 1, 1, 1), mode="reflect"),
     NotImplementedError),
    (lambda m, x: m.nn.functional.pad(x[None], (4, 4), mode="circular"), RuntimeError),
    (lambda m, x: m.meshgrid(x, indexing="yx"), RuntimeError),
    (lambda m, x: m.scatter_add(x, 0, m.tensor([[3]]), x), RuntimeError),
    (lambda m, x: m.index_select(x[0, 0], 0, m.tensor([0, 0])), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))


@pytest.mark.parametrize("fn", [
    lambda m, x: m.flip(x, dims=[1]),
    lambda m, x: x.flip(dims=(0, 1)),
    lambda m, x: x.split(split_size=2, dim=1)[1],
    lambda m, x: m.roll(x, shifts=1, dims=0),
    lambda m, x: m.tile(x, dims=(2,)),
    lambda m, x: m.narrow(x, dim=1, start=1, length=2),
    lambda m, x: m.index_select(x, dim=1, index=m.tensor([2, 0])),
    lambda m, x: m.nn.functional.pad(x, pad=(1, 1), mode="constant", value=2.0),
])
def test_keyword_arguments_match_torch(fn):
    xc, xt = cr.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert fn(cr, xc).tolist() == fn(torch, xt).tolist()


# --- select / movedim / unflatten / tensor_split / h-v-dsplit / frac (ops/shape_more.py) ----

@pytest.mark.parametrize("make, name", [
    (lambda m, x: x.select(0, 1), "SelectBackward0"),
    (lambda m, x: m.select(x.reshape(2, 2), 1, 0), "SelectBackward0"),
    (lambda m, x: x.reshape(2, 2).movedim(0, 1), "PermuteBackward0"),
    (lambda m, x: m.moveaxis(x.reshape(2, 2), (0, 1), (1, 0)), "PermuteBackward0"),
    (lambda m, x: x.unflatten(0, (2, 2)), "ViewBackward0"),
    (lambda m, x: m.tensor_split(x, 3)[2], "SliceBackward0"),
    (lambda m, x: x.tensor_split([1])[0], "SliceBackward0"),
    (lambda m, x: x.hsplit(2)[1], "SliceBackward0"),
    (lambda m, x: m.vsplit(x.reshape(2, 2), 2)[0], "SliceBackward0"),
    (lambda m, x: x.reshape(1, 1, 4).dsplit([1])[1], "SliceBackward0"),
    (lambda m, x: x.clone().trunc_(), "TruncBackward0"),
])
def test_shape_more_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


def test_frac_grad_fn_differs_from_torch_but_gradient_matches():
    # frac is the composite x - trunc(x): SubBackward0 here, FracBackward0 in PyTorch
    xc = cr.tensor([-1.25, 0.5, 2.75], requires_grad=True)
    xt = torch.tensor([-1.25, 0.5, 2.75], requires_grad=True)
    yc, yt = xc.frac(), xt.frac()
    assert type(yc.grad_fn).__name__ == "SubBackward0"
    assert type(yt.grad_fn).__name__ == "FracBackward0"
    assert yc.tolist() == yt.tolist() == [-0.25, 0.5, 0.75]
    (yc * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    (yt * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert xc.grad.tolist() == xt.grad.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("fn", [
    lambda m, x: x.select(1, -3),
    lambda m, x: m.select(x, dim=0, index=1),
    lambda m, x: x.movedim(source=(0, 2), destination=(2, 0)),
    lambda m, x: m.moveaxis(x, -1, 0),
    lambda m, x: x.unflatten(1, [1, 3]),
    lambda m, x: m.unflatten(x, dim=-1, sizes=(3, 1, 1)),
    lambda m, x: m.tensor_split(x, 2, dim=2),
    lambda m, x: x.tensor_split((0, 2), dim=-1),
    lambda m, x: x.tensor_split(m.tensor([1, 1])),
    lambda m, x: x.tensor_split(5, 1),
    lambda m, x: m.hsplit(x, 3),
    lambda m, x: x.hsplit(1, 2),
    lambda m, x: x.vsplit([1, 1]),
    lambda m, x: m.dsplit(x, (0, 2)),
    lambda m, x: m.frac(x * 0.75),
    lambda m, x: (x * 0.75).trunc_(),
    lambda m, x: m.tensor_split(x, sections=2, dim=1),
    lambda m, x: x.tensor_split(indices=[1], dim=2),
    lambda m, x: m.tensor_split(x, tensor_indices_or_sections=m.tensor(3)),
    lambda m, x: m.hsplit(x, sections=3),
    lambda m, x: x.vsplit(indices=[1]),
    lambda m, x: m.dsplit(x, indices=(1,)),
])
def test_shape_more_values_match_torch(fn):
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


def test_shape_more_results_are_views():
    # like PyTorch: a later in-place change of the base shows through select/movedim/
    # unflatten/tensor_split results
    for m in (cr, torch):
        x = m.zeros(2, 4)
        views = [x.select(1, 2), x.movedim(0, 1), x.unflatten(1, (2, 2)), x.tensor_split(2, 1)[1],
                 x.hsplit([3])[1]]
        x.add_(1.0)
        x[1, 3] = 5.0
        assert views[0].tolist() == [1.0, 1.0]
        assert views[1][3].tolist() == [1.0, 5.0]
        assert views[2][1, 1].tolist() == [1.0, 5.0]
        assert views[3].tolist() == [[1.0, 1.0], [1.0, 5.0]]
        assert views[4].tolist() == [[1.0], [5.0]]


@pytest.mark.parametrize("fn, exc", [
    (lambda m, x: m.ones(()).select(0, 0), IndexError),
    (lambda m, x: x.select(0, 3), IndexError),
    (lambda m, x: x.select(0, -4), IndexError),
    (lambda m, x: x.select(2, 0), IndexError),
    (lambda m, x: x.select(0, 1.0), TypeError),
    (lambda m, x: x.movedim((0, 0), (1, 0)), RuntimeError),
    (lambda m, x: x.movedim((0, 1), (1, 1)), RuntimeError),
    (lambda m, x: x.movedim((0, 1), (1,)), RuntimeError),
    (lambda m, x: x.movedim(2, 0), IndexError),
    (lambda m, x: m.moveaxis(x, 0, -3), IndexError),
    (lambda m, x: x.unflatten(1, (2, 2)), RuntimeError),
    (lambda m, x: x.unflatten(1, ()), RuntimeError),
    (lambda m, x: x.unflatten(1, (-1, -1)), RuntimeError),
    (lambda m, x: x.unflatten(1, (-1, 2)), RuntimeError),
    (lambda m, x: x.unflatten(2, (3, 1)), IndexError),
    (lambda m, x: x.unflatten(0, 3), TypeError),
    (lambda m, x: m.ones(()).unflatten(0, (1, 1)), RuntimeError),
    (lambda m, x: x.tensor_split(0), RuntimeError),
    (lambda m, x: x.tensor_split(-2), RuntimeError),
    (lambda m, x: m.ones(()).tensor_split(1), RuntimeError),
    (lambda m, x: x.tensor_split(m.tensor([1.0])), RuntimeError),
    (lambda m, x: x.tensor_split(m.tensor([[1]])), RuntimeError),
    (lambda m, x: x.tensor_split(2, dim=3), IndexError),
    (lambda m, x: x.hsplit(2), RuntimeError),
    (lambda m, x: x.hsplit(0), RuntimeError),
    (lambda m, x: m.ones(()).hsplit(1), RuntimeError),
    (lambda m, x: m.ones(4).vsplit(2), RuntimeError),
    (lambda m, x: m.vsplit(x, 2), RuntimeError),
    (lambda m, x: x.dsplit(1), RuntimeError),
    (lambda m, x: m.frac(m.tensor([1, 2])), NotImplementedError),
    (lambda m, x: m.tensor_split(x, 2, sections=2), TypeError),
    (lambda m, x: m.tensor_split(x), TypeError),
    (lambda m, x: m.hsplit(x, 3, indices=[1]), TypeError),
])
def test_shape_more_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))
