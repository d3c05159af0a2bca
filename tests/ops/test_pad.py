"""Padding (ops/pad.py, nn.functional.pad): constant, reflect, replicate, circular against
PyTorch and finite differences: the OpCase rows (value, VJP, JVP, second order in float64,
float32 preservation) and the checks beyond the table."""
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


CASES = [
    OpCase("pad_0d", lambda m, a: m.nn.functional.pad(a, ()), [()], op="constant_pad_nd"),
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
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
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


@pytest.mark.parametrize("fn, exc", [
    (lambda m, x: m.nn.functional.pad(x, (1,)), RuntimeError),
    (lambda m, x: m.nn.functional.pad(x, (1, 1, 1, 1, 1, 1)), RuntimeError),
    (lambda m, x: m.nn.functional.pad(x[None], (3, 3), mode="reflect"), RuntimeError),
    (lambda m, x: m.nn.functional.pad(x[None], (1, 1, 1, 1, 1, 1), mode="reflect"),
         NotImplementedError),
    (lambda m, x: m.nn.functional.pad(x[None], (4, 4), mode="circular"), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))


@pytest.mark.parametrize("fn", [
    lambda m, x: m.nn.functional.pad(x, pad=(1, 1), mode="constant", value=2.0),
])
def test_keyword_arguments_match_torch(fn):
    xc, xt = cr.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert fn(cr, xc).tolist() == fn(torch, xt).tolist()
