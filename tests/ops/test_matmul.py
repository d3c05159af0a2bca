"""Matrix products (ops/matmul.py): matmul, dot, mv, mm, bmm, addmm and nn.functional.linear
against PyTorch and finite differences: the OpCase rows (value, VJP, JVP, second order in
float64, float32 preservation) and the checks beyond the table."""
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


CASES = [
    # products
    OpCase("dot", lambda m, a, b: m.dot(a, b), [(4,), (4,)], op="dot"),
    OpCase("mv", lambda m, a, b: m.mv(a, b), [(3, 4), (4,)], op="mv"),
    OpCase("mm", lambda m, a, b: m.mm(a, b), [(3, 4), (4, 2)], op="mm"),
    OpCase("addmm", lambda m, c, a, b: m.addmm(c, a, b), [(2,), (3, 4), (4, 2)], op="addmm"),
    OpCase("addmm_full_input", lambda m, c, a, b: m.addmm(c, a, b), [(3, 2), (3, 4), (4, 2)],
           op="addmm"),
    OpCase("addmm_beta_alpha", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=-2.0),
           [(1, 2), (3, 4), (4, 2)], op="addmm"),
    OpCase("linear_bias", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
           [(3, 4), (2, 4), (2,)], op="addmm"),
    OpCase("linear_vector", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
           [(4,), (2, 4), (2,)], op="addmm"),
    OpCase("linear_batched", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
           [(2, 3, 4), (2, 4), (2,)], op="addmm"),
    OpCase("linear_no_bias", lambda m, x, w: m.nn.functional.linear(x, w), [(3, 4), (2, 4)],
           op="mm"),
    OpCase("matmul_vv", lambda m, a, b: a @ b, [(4,), (4,)], op="dot"),
    OpCase("matmul_vm", lambda m, a, b: a @ b, [(4,), (4, 3)], op="mm"),
    OpCase("matmul_mv", lambda m, a, b: m.matmul(a, b), [(3, 4), (4,)], op="mv"),
    OpCase("matmul_batched", lambda m, a, b: a @ b, [(2, 3, 4), (4, 5)],
           op="matmul_batched"),
    OpCase("matmul_bcast", lambda m, a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)],
           op="matmul_batched"),
    OpCase("matmul_vb", lambda m, a, b: a @ b, [(4,), (2, 4, 3)], op="matmul_batched"),
    OpCase("matmul_bv", lambda m, a, b: a @ b, [(2, 3, 4), (4,)], op="matmul_batched"),
    OpCase("bmm", lambda m, a, b: m.bmm(a, b), [(2, 3, 4), (2, 4, 2)], op="bmm"),
    OpCase("bmm_attention", lambda m, a, b: m.bmm(a, b), [(2, 3, 4), (2, 4, 2)], op="bmm"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("fn", [
    lambda m: m.bmm(m.ones(2, 3), m.ones(2, 3, 4)),
    lambda m: m.bmm(m.ones(2, 1, 3), m.ones(2, 3)),
    lambda m: m.bmm(m.ones(2, 1, 3), m.ones(3, 3, 1)),
    lambda m: m.bmm(m.ones(2, 1, 3), m.ones(2, 4, 1)),
])
def test_errors_match_torch(fn):
    with pytest.raises(Exception) as t_err:
        fn(torch)
    with pytest.raises(type(t_err.value)) as c_err:
        fn(cr)
    t_msg = str(t_err.value).splitlines()[0].split(" - got")[0]
    assert t_msg in str(c_err.value), (t_msg, str(c_err.value))
