"""Shape ops (ops/shape.py): reshape/view, (un)squeeze, flatten/unflatten,
transpose/permute/movedim, cat, stack against PyTorch and finite differences: the OpCase
rows (value, VJP, JVP, second order in float64, float32 preservation) and the checks beyond
the table."""
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests
from oplib import assert_same_on_grid


CASES = [
    # shape ops
    OpCase("reshape", lambda m, a: a.reshape(3, 2), [(2, 3)], op="view"),
    OpCase("view", lambda m, a: a.view(-1), [(2, 3)], op="view"),
    OpCase("transpose", lambda m, a: a.transpose(0, 2), [(2, 3, 4)], op="transpose"),
    OpCase("t", lambda m, a: a.t(), [(2, 3)], op="t"),
    OpCase("T", lambda m, a: a.T, [(2, 3)], op="permute"),
    OpCase("permute", lambda m, a: a.permute(2, 0, 1), [(2, 3, 4)], op="permute"),
    OpCase("unsqueeze", lambda m, a: a.unsqueeze(1), [(2, 3)], op="unsqueeze"),
    OpCase("squeeze", lambda m, a: a.squeeze(), [(2, 1, 3)], op="squeeze"),
    OpCase("squeeze_dim", lambda m, a: a.squeeze(1), [(2, 1, 3)], op="squeeze_dim"),
    OpCase("squeeze_dims", lambda m, a: a.squeeze((0, 2)), [(1, 3, 1)], op="squeeze_dims"),
    OpCase("flatten", lambda m, a: a.flatten(1), [(2, 3, 2)], op="view"),
    OpCase("cat", lambda m, a, b: m.cat([a, b], dim=1), [(2, 3), (2, 2)], op="cat"),
    OpCase("stack", lambda m, a, b: m.stack([a, b], dim=1), [(2, 3), (2, 3)], op="stack"),
    OpCase("movedim_int", lambda m, a: m.movedim(a, 0, -1), [(2, 3, 4)], op="permute"),
    OpCase("movedim_tuple", lambda m, a: a.movedim((0, 1), (2, 0)), [(2, 3, 4)], op="permute"),
    OpCase("moveaxis_neg", lambda m, a: m.moveaxis(a, [-1, 1], [1, -1]), [(2, 3, 2, 4)],
           op="permute"),
    OpCase("moveaxis_0d", lambda m, a: a.moveaxis(0, 0) * a, [()], op="permute"),
    OpCase("unflatten", lambda m, a: m.unflatten(a, 1, (2, 3)), [(2, 6)], op="view"),
    OpCase("unflatten_infer_neg_dim", lambda m, a: a.unflatten(-1, (-1, 2, 1)), [(3, 4)],
           op="view"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m, x: x.reshape(2, 2).movedim(0, 1), "PermuteBackward0"),
    (lambda m, x: m.moveaxis(x.reshape(2, 2), (0, 1), (1, 0)), "PermuteBackward0"),
    (lambda m, x: x.unflatten(0, (2, 2)), "ViewBackward0"),
])
def test_movedim_unflatten_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


@pytest.mark.parametrize("fn", [
    lambda m, x: x.movedim(source=(0, 2), destination=(2, 0)),
    lambda m, x: m.moveaxis(x, -1, 0),
    lambda m, x: x.unflatten(1, [1, 3]),
    lambda m, x: m.unflatten(x, dim=-1, sizes=(3, 1, 1)),
])
def test_movedim_unflatten_values_match_torch(fn):
    assert_same_on_grid(fn)


@pytest.mark.parametrize("fn, exc", [
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
])
def test_movedim_unflatten_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))
