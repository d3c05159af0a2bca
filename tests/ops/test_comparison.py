"""Comparisons and choosing ops (ops/comparison.py): maximum, minimum, where, clamp against
PyTorch and finite differences: the OpCase rows (value, VJP, JVP, second order in float64,
float32 preservation) and the checks beyond the table."""
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def _inplace(a, op):
    """Apply an in-place op to a non-leaf copy of ``a`` and return the modified tensor."""
    y = a * 1.0
    r = op(y)
    assert r is y
    return y


CASES = [
    OpCase("clamp_inplace", lambda m, a: _inplace(a, lambda y: y.clamp_(-1.0, 0.5)), [(6,)],
           op="clamp"),
    OpCase("maximum", lambda m, a, b: m.maximum(a, b), [(2, 3), (3,)], op="maximum"),
    OpCase("minimum", lambda m, a, b: m.minimum(a, b), [(3,), (3,)], op="minimum"),
    OpCase("max_binary", lambda m, a, b: m.max(a, b), [(3,), (3,)], op="maximum"),
    OpCase("where", lambda m, a, b: m.where(a > 0, a, b), [(2, 3), (3,)], op="where"),
    OpCase("where_scalar", lambda m, a: m.where(a > 0, a, 0.0), [(5,)], op="where"),
    OpCase("clamp", lambda m, a: m.clamp(a, -1.0, 1.0), [(6,)], op="clamp"),
    OpCase("clamp_min", lambda m, a: a.clamp(min=0.5), [(6,)], op="clamp"),
    # tensor bounds (ClampBackward0): broadcasting, one bound, crossed bounds (result = hi)
    OpCase("clamp_tensor", lambda m, a, lo, hi: m.clamp(a, lo, hi), [(2, 3), (3,), (2, 1)],
           op="clamp_tensor", make=lambda r: [r.uniform(-2, 2, (2, 3)), r.uniform(-1, -0.1, (3,)),
                                              r.uniform(0.1, 1, (2, 1))]),
    OpCase("clamp_tensor_min", lambda m, a, lo: a.clamp(min=lo), [(6,), (6,)], op="clamp_tensor"),
    OpCase("clamp_tensor_max", lambda m, a, hi: m.clamp(a, max=hi), [(2, 3), ()],
           op="clamp_tensor"),
    # one bound under PyTorch's names (ClampMin/ClampMaxBackward0 for a number, 1 for a tensor)
    OpCase("clamp_min_number", lambda m, a: m.clamp_min(a, 0.3), [(6,)], op="clamp_min"),
    OpCase("clamp_max_number", lambda m, a: a.clamp_max(-0.2), [(2, 3)], op="clamp_max"),
    OpCase("clamp_min_inplace", lambda m, a: _inplace(a, lambda y: y.clamp_min_(0.1)), [(5,)],
           op="clamp_min"),
    OpCase("clamp_min_tensor", lambda m, a, lo: m.clamp_min(a, lo), [(2, 3), (3,)],
           op="clamp_min_tensor"),
    OpCase("clamp_max_tensor", lambda m, a, hi: a.clamp_max(hi), [(4,), ()],
           op="clamp_max_tensor"),
    OpCase("clamp_max_tensor_inplace", lambda m, a, hi: _inplace(a, lambda y: y.clamp_max_(hi)),
           [(2, 3), (2, 1)], op="clamp_max_tensor"),
    OpCase("clamp_tensor_crossed", lambda m, a, lo, hi: m.clamp(a, lo, hi), [(4,), (4,), (4,)],
           op="clamp_tensor", make=lambda r: [r.uniform(-2, 2, 4), r.uniform(0.5, 1, 4),
                                              r.uniform(-1, -0.5, 4)]),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("name", ["allclose", "isclose", "equal"])
@pytest.mark.parametrize("args", [("t", 1.0), ([1.0], "t")], ids=["number-other", "list-input"])
def test_two_tensor_comparisons_raise_torch_type_error(name, args):
    def run(m):
        t = m.ones(1)
        call = [t if a == "t" else a for a in args]
        with pytest.raises(TypeError) as info:
            getattr(m, name)(*call)
        return str(info.value)
    assert run(cr) == run(torch)


@pytest.mark.parametrize("expr", [
    "m.clamp_min(x, 0.5)", "x.clamp_max(1.5)", "m.clamp_min(x, m.tensor([0.5, 3.0]))",
    "x.clamp_max(m.tensor(1.5))", "m.clamp(x, min=m.tensor(0.5), max=1.5)",
    "m.clamp(x, min=0.5, max=m.tensor(1.5))", "m.clamp(x, min=m.tensor(1), max=1.5)"])
def test_one_bound_and_mixed_bounds_take_torchs_overload(expr):
    """Values and node names as PyTorch's: a 0-d tensor that needs no gradient beside a
    number is read as a number (the number overload, ClampBackward1)."""
    got = []
    for m in (torch, cr):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = eval(expr)
        y.backward(m.tensor([1.0, 10.0]))
        got.append((y.tolist(), type(y.grad_fn).__name__, x.grad.tolist()))
    assert got[0] == got[1]


@pytest.mark.parametrize("bound", ["m.tensor([0.5, 0.5])", "m.tensor(0.5, requires_grad=True)"])
def test_a_tensor_bound_beside_a_number_bound_is_refused_like_torch(bound):
    for m in (torch, cr):
        x = m.tensor([1.0, 2.0])
        with pytest.raises(TypeError, match="invalid combination of arguments"):
            m.clamp(x, min=eval(bound), max=1.5)
    with pytest.raises(TypeError, match="Pass both bounds as tensors"):
        cr.clamp(cr.tensor([1.0]), min=eval(bound.replace("m.", "cr.")), max=1.5)
