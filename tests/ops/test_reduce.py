"""Reductions (ops/reduce.py): sum, mean, max, min, argmax/argmin, expand, sum_to against
PyTorch and finite differences: the OpCase rows (value, VJP, JVP, second order in float64,
float32 preservation) and the checks beyond the table."""
from oplib import OpCase, table_tests


def _vjp_of(m, fwd, shape, g):
    with m.enable_grad():           # finite differences run the row under no_grad
        x = m.ones(shape, dtype=g.dtype, requires_grad=True)
        return m.autograd.grad(fwd(x), x, g, create_graph=True)[0]


CASES = [
    # reductions
    OpCase("sum", lambda m, a: a.sum(), [(2, 3)], op="sum"),
    OpCase("sum_dim", lambda m, a: a.sum(dim=1), [(2, 3)], op="sum_dim"),
    OpCase("sum_dims_keep", lambda m, a: m.sum(a, (0, 2), keepdim=True), [(2, 3, 2)],
           op="sum_dim"),
    OpCase("sum_0d", lambda m, a: a.sum(), [()], op="sum"),
    OpCase("mean", lambda m, a: a.mean(), [(2, 3)], op="mean"),
    OpCase("mean_dim", lambda m, a: a.mean(-1, keepdim=True), [(2, 3)], op="mean_dim"),
    OpCase("max_all", lambda m, a: a.max(), [(2, 3)], op="max"),
    OpCase("min_all", lambda m, a: m.min(a), [(2, 3)], op="min"),
    OpCase("max_dim", lambda m, a: a.max(dim=1).values, [(3, 4)], op="max_dim"),
    OpCase("max_dim_keep", lambda m, a: m.max(a, 0, keepdim=True)[0], [(3, 4)],
           op="max_dim"),
    OpCase("min_dim", lambda m, a: a.min(dim=0).values, [(3, 4)], op="min_dim"),
    OpCase("expand", lambda m, a: a.expand(2, 3) * 1.0, [(1, 3)], op="expand"),
    # NumPy-style aliases axis=/keepdims=
    OpCase("sum_axis", lambda m, a: a.sum(axis=1, keepdims=True), [(2, 3)], op="sum_dim"),
    OpCase("sum_axis_fn", lambda m, a: m.sum(a, axis=0), [(2, 3)], op="sum_dim"),
    OpCase("mean_axis", lambda m, a: a.mean(axis=0, keepdims=True), [(2, 3)], op="mean_dim"),
    OpCase("max_axis", lambda m, a: a.max(axis=1, keepdims=True).values, [(3, 4)],
           op="max_dim"),
    OpCase("min_axis", lambda m, a: m.min(a, axis=0)[0], [(3, 4)], op="min_dim"),
    # argmax/argmin: integer results, no gradient
    OpCase("argmax", lambda m, a: a.argmax(), [(3, 4)], grad=False, fwd=False, second=False,
           f32=False, nondiff_output=True),
    OpCase("argmax_dim", lambda m, a: m.argmax(a, dim=1, keepdim=True), [(3, 4)], grad=False,
           fwd=False, second=False, f32=False, nondiff_output=True),
    OpCase("argmax_axis", lambda m, a: a.argmax(axis=0), [(3, 4)], grad=False, fwd=False,
           second=False, f32=False, nondiff_output=True),
    OpCase("argmin_dim", lambda m, a: a.argmin(dim=0), [(3, 4)], grad=False, fwd=False,
           second=False, f32=False, nondiff_output=True),
    OpCase("argmax_select", lambda m, a: a[a.argmax(dim=0), m.arange(4)], [(3, 4)],
           op="getitem"),
    OpCase("sum_to", lambda m, g: _vjp_of(m, lambda x: x.expand(2, 2, 3), (2, 1, 3), g),
           [(2, 2, 3)], op="sum_to"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)
