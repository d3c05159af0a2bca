"""Copies and overwrites (ops/copies.py): clone, to(dtype), zero_, fill_, copy_ against PyTorch
and finite differences: the OpCase rows (value, VJP, JVP, second order in float64, float32
preservation) and the checks beyond the table."""
from oplib import OpCase, table_tests


def _inplace(a, op):
    """Apply an in-place op to a non-leaf copy of ``a`` and return the modified tensor."""
    y = a * 1.0
    r = op(y)
    assert r is y
    return y


CASES = [
    # whole-tensor overwrites: the old value gets zero gradient, copy_'s source gets it all
    OpCase("zero_", lambda m, a, b: _inplace(a, lambda y: y.zero_()) + b, [(2, 3), (3,)],
           op="zero"),
    OpCase("fill_", lambda m, a: _inplace(a, lambda y: y.fill_(1.5)) * a, [(4,)], op="fill"),
    OpCase("copy_", lambda m, a, b: _inplace(a, lambda y: y.copy_(b)) * a, [(2, 3), (3,)],
           op="copy"),
    OpCase("copy_f32_src", lambda m, a, b: _inplace(a, lambda y: y.copy_(b.float())) * a,
           [(2, 3), (2, 1)], op="copy", atol=1e-6, rtol=1e-6, fd_eps=1e-3, f32=False,
           second=False),
    OpCase("to64", lambda m, a: (a * 2).to(m.float32).to(m.float64), [(3,)], op="to",
           atol=1e-5, rtol=1e-5, f32=False, fd_eps=1e-2),
    OpCase("clone", lambda m, a: a.clone(), [(3,)], op="clone"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)
