"""Repeating elements (ops/repeat.py): repeat, tile, repeat_interleave, meshgrid against
PyTorch and finite differences: the OpCase rows (value, VJP, JVP, second order in float64,
float32 preservation) and the checks beyond the table."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


CASES = [
    OpCase("tile_0d", lambda m, a: a.tile(2, 3), [()], op="repeat"),
    # repeat / tile
    OpCase("repeat", lambda m, a: a.repeat(2, 1, 3), [(2, 3)], op="repeat"),
    OpCase("repeat_same_rank", lambda m, a: a.repeat(2, 2), [(2, 3)], op="repeat"),
    OpCase("repeat_0d", lambda m, a: a.repeat(3), [()], op="repeat"),
    OpCase("tile", lambda m, a: m.tile(a, (2,)), [(2, 3)], op="repeat"),
    OpCase("tile_method", lambda m, a: a.tile(2, 1, 1), [(2, 3)], op="repeat"),
    # meshgrid (reshape + expand views)
    OpCase("meshgrid_ij", lambda m, a, b: m.stack(m.meshgrid(a, b, indexing="ij")),
           [(2,), (3,)], op=("view", "expand")),
    OpCase("meshgrid_xy", lambda m, a, b, c: m.cat([g.reshape(-1) for g in
                                                    m.meshgrid(a, b, c, indexing="xy")]),
           [(2,), (3,), (2,)], op="expand"),
    OpCase("meshgrid_0d", lambda m, a, b: m.stack(m.meshgrid([a, b], indexing="xy")),
           [(), (3,)], op="expand"),
    OpCase("repeat_interleave_int_flat", lambda m, a: m.repeat_interleave(a, 2), [(2, 3)],
           op="expand"),
    OpCase("repeat_interleave_int_dim", lambda m, a: a.repeat_interleave(3, dim=-1),
           [(2, 2)], op="expand"),
    OpCase("repeat_interleave_int_tensor_count",
           lambda m, a: a.repeat_interleave(m.tensor(2), dim=0), [(2, 3)], op="expand"),
    OpCase("repeat_interleave_counts",
           lambda m, a: m.repeat_interleave(a, m.tensor([2, 0, 3]), dim=1), [(2, 3)],
           op="index_select"),
    OpCase("repeat_interleave_counts_flat",
           lambda m, a: m.repeat_interleave(a, m.tensor([1, 2, 0, 3])), [(2, 2)],
           op="index_select"),
    OpCase("repeat_interleave_0d", lambda m, a: m.repeat_interleave(a, 3), [()], op="expand"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m, x: x.repeat(2), "RepeatBackward0"),
    (lambda m, x: x.tile(2), "RepeatBackward0"),
])
def test_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


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


@pytest.mark.parametrize("fn, exc", [
    (lambda m, x: x.repeat(2), RuntimeError),
    (lambda m, x: m.meshgrid(x, indexing="yx"), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))


@pytest.mark.parametrize("fn", [
    lambda m, x: m.tile(x, dims=(2,)),
])
def test_keyword_arguments_match_torch(fn):
    xc, xt = cr.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert fn(cr, xc).tolist() == fn(torch, xt).tolist()


@pytest.mark.parametrize("fn", [
    lambda m: m.repeat_interleave(m.tensor([2, 0, 1])),
    lambda m: m.repeat_interleave(m.tensor([3, 4]), 2),
    lambda m: m.tensor([[1, 2], [3, 4]]).repeat_interleave(m.tensor([0, 2]), dim=-2),
    lambda m: m.repeat_interleave(m.tensor([[1., 2.]]), m.tensor([2]), dim=1),
    lambda m: m.repeat_interleave(m.zeros(2, 0), 3, dim=1),
])
def test_repeat_interleave_values_and_dtypes(fn):
    t, c = fn(torch), fn(cr)
    assert str(c.dtype) == str(t.dtype) and tuple(c.shape) == tuple(t.shape)
    np.testing.assert_array_equal(c.numpy(), t.numpy())


@pytest.mark.parametrize("fn", [
    lambda m: m.repeat_interleave(m.ones(2, 2), -1),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1, 2, 3]), dim=0),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1, -2]), dim=0),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1., 2.]), dim=0),
    lambda m: m.repeat_interleave(m.ones(2, 2), 2, dim=2),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1, 2])),
    lambda m: m.repeat_interleave(m.tensor([[1, 2]])),
    lambda m: m.repeat_interleave(m.ones(2, 2), 2.0),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([[1, 2], [1, 2]]), dim=0),
])
def test_repeat_interleave_errors_match_torch(fn):
    with pytest.raises(Exception) as t_err:
        fn(torch)
    with pytest.raises(type(t_err.value)) as c_err:
        fn(cr)
    t_msg = str(t_err.value).splitlines()[0].split(" - got")[0]
    assert t_msg in str(c_err.value), (t_msg, str(c_err.value))
