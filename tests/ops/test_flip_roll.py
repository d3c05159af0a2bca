"""flip, fliplr, flipud and roll (ops/flip_roll.py) against PyTorch and finite differences: the
OpCase rows (value, VJP, JVP, second order in float64, float32 preservation) and the checks
beyond the table."""
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


CASES = [
    OpCase("roll_0d", lambda m, a: m.roll(a, 1) * a, [()], op="roll"),
    # flip / roll
    OpCase("flip", lambda m, a: m.flip(a, [0]), [(3, 2)], op="flip"),
    OpCase("flip_dims", lambda m, a: a.flip(0, -1), [(2, 3, 2)], op="flip"),
    OpCase("flip_0d", lambda m, a: m.flip(a, []), [()], op="flip"),
    OpCase("fliplr", lambda m, a: m.fliplr(a), [(2, 3)], op="flip"),
    OpCase("flipud", lambda m, a: a.flipud(), [(3, 2)], op="flip"),
    OpCase("roll_flat", lambda m, a: m.roll(a, 2), [(2, 3)], op="roll"),
    OpCase("roll_dims", lambda m, a: a.roll((1, -2), (0, 1)), [(3, 4)], op="roll"),
    OpCase("roll_neg_dim", lambda m, a: a.roll(1, -1), [(2, 3)], op="roll"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m, x: x.flip(0), "FlipBackward0"),
    (lambda m, x: x.roll(1), "RollBackward0"),
])
def test_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


@pytest.mark.parametrize("fn, exc", [
    (lambda m, x: x.flip(0, 0), RuntimeError),
    (lambda m, x: x.roll((1, 2), 0), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))


@pytest.mark.parametrize("fn", [
    lambda m, x: m.flip(x, dims=[1]),
    lambda m, x: x.flip(dims=(0, 1)),
    lambda m, x: m.roll(x, shifts=1, dims=0),
])
def test_keyword_arguments_match_torch(fn):
    xc, xt = cr.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert fn(cr, xc).tolist() == fn(torch, xt).tolist()
