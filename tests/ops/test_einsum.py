"""einsum and the products built on it (ops/einsum.py): outer, tensordot against PyTorch and
finite differences: the OpCase rows (value, VJP, JVP, second order in float64, float32
preservation) and the checks beyond the table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def _both(fn):
    return fn(cr), fn(torch)


CASES = [
    # einsum: products, traces, diagonals, broadcasting, '...', implicit output
    OpCase("einsum_mm", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)],
           op="einsum"),
    OpCase("einsum_implicit", lambda m, a, b: m.einsum("bi,bj", a, b), [(2, 3), (2, 4)],
           op="einsum"),
    OpCase("einsum_trace", lambda m, a: m.einsum("ii", a), [(3, 3)], op="einsum"),
    # the sublist form: integers 0..25 are A..Z, 26..51 a..z (implicit output sorts them)
    OpCase("einsum_sublist", lambda m, a, b: m.einsum(a, [0, 1], b, [1, 27]),
           [(2, 3), (3, 4)], op="einsum"),
    OpCase("einsum_sublist_out", lambda m, a, b: m.einsum(a, [..., 30, 1], b, [1, 2], [2, ...]),
           [(2, 3), (3, 4)], op="einsum"),
    OpCase("einsum_diag", lambda m, a: m.einsum("ii->i", a), [(3, 3)], op="einsum"),
    OpCase("einsum_repeat3", lambda m, a: m.einsum("iij->ji", a), [(2, 2, 3)], op="einsum"),
    OpCase("einsum_sum", lambda m, a: m.einsum("ij->", a), [(2, 3)], op="einsum"),
    OpCase("einsum_transpose", lambda m, a: m.einsum("ij->ji", a), [(2, 3)], op="einsum"),
    OpCase("einsum_ellipsis_bcast", lambda m, a, b: m.einsum("...ij,...jk", a, b),
           [(2, 1, 3, 4), (5, 4, 2)], op="einsum"),
    OpCase("einsum_ellipsis_sum", lambda m, a: m.einsum("i...->...", a), [(2, 3, 2)],
           op="einsum"),
    OpCase("einsum_size1_bcast", lambda m, a, b: m.einsum("ij,ij->ij", a, b),
           [(1, 3), (2, 3)], op="einsum"),
    OpCase("einsum_three", lambda m, a, b, c: m.einsum("i,ij,j->", a, b, c),
           [(3,), (3, 4), (4,)], op="einsum"),
    OpCase("einsum_list", lambda m, a, b: m.einsum("i,j->ij", [a, b]), [(2,), (3,)],
           op="einsum"),
    OpCase("einsum_0d", lambda m, a, b: m.einsum(",i->i", a, b), [(), (3,)], op="einsum"),
    OpCase("einsum_upper", lambda m, a, b: m.einsum("aB,Bc", a, b), [(2, 3), (3, 2)],
           op="einsum"),
    # products built on einsum / mul
    OpCase("outer", lambda m, a, b: m.outer(a, b), [(3,), (4,)], op=("mul", "unsqueeze")),
    OpCase("ger", lambda m, a, b: a.ger(b), [(2,), (3,)], op="mul"),
    OpCase("tensordot_int", lambda m, a, b: m.tensordot(a, b, dims=2), [(2, 3, 4), (3, 4, 2)],
           op="einsum"),
    OpCase("tensordot_lists", lambda m, a, b: m.tensordot(a, b, dims=([1, 0], [0, 2])),
           [(3, 2, 4), (2, 5, 3)], op="einsum"),
    OpCase("tensordot_0", lambda m, a, b: m.tensordot(a, b, dims=0), [(2,), (3,)],
           op="einsum"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m: m.outer(m.ones(2, requires_grad=True), m.ones(2)), "MulBackward0"),
])
def test_grad_fn_names(make, name):
    c, t = _both(make)
    assert type(t.grad_fn).__name__ == name
    assert type(c.grad_fn).__name__ == name


def test_einsum_implicit_order_and_int():
    a = np.arange(6).reshape(2, 3)
    for eq in ("ij", "ji", "ij->", "Ba,aC", "a,B"):
        n_ops = eq.split("->")[0].count(",") + 1
        if n_ops == 1:
            args = [a]
        elif eq == "a,B":
            args = [np.arange(2), np.arange(3)]
        else:
            args = [a, a.T]
        rc = cr.einsum(eq, *[cr.tensor(x) for x in args])
        rt = torch.einsum(eq, *[torch.tensor(x) for x in args])
        assert rc.dtype == cr.int64
        np.testing.assert_array_equal(rc.numpy(), rt.numpy())


@pytest.mark.parametrize("eq, shapes, msg", [
    ("ij,jk", [(2, 3)], "fewer operands"),
    ("ij->ii", [(2, 3)], "appears more than once in the output"),
    ("ij->k", [(2, 3)], "does not appear in the equation"),
    ("ii->i", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match"),
    ("ij,jk", [(2, 3), (4, 4)], "does not broadcast"),
    ("ij1", [(2, 3)], "subscripts must be in [a-zA-Z]"),
    ("ijk", [(2, 3)], "does not match the number of dimensions"),
])
def test_einsum_errors(eq, shapes, msg):
    with pytest.raises(RuntimeError) as ec:
        cr.einsum(eq, *[cr.ones(s) for s in shapes])
    with pytest.raises(RuntimeError):
        torch.einsum(eq, *[torch.ones(s) for s in shapes])
    assert msg in str(ec.value)
    assert "einsum()" in str(ec.value)


def test_einsum_third_order():
    # einsum's VJP is an einsum with constant ones/eye operands: derivatives of any order
    a0 = np.array([[1.0, 2.0], [3.0, 5.0]])
    fc = lambda m, a: m.einsum("ij,jk,ki->", a, a, a)   # trace(A^3): d3/dA3 is constant
    xs = []
    for m in (cr, torch):
        a = m.tensor(a0, dtype=m.float64, requires_grad=True)
        y = fc(m, a)
        (g,) = m.autograd.grad(y, a, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), a, create_graph=True)
        (k,) = m.autograd.grad(h.sum(), a)
        xs.append([g.detach().numpy(), h.detach().numpy(), k.numpy()])
    for u, v in zip(*xs):
        np.testing.assert_allclose(u, v, rtol=1e-10)


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(2, 3), (3, 2)]),
                                        ("i,i->", [(3,), (3,)]),
                                        ("bij,bkj->bik", [(2, 3, 4), (2, 2, 4)])])
def test_einsum_operand_changed_in_place_like_torch(eq, shapes):
    # an operand's rule reads the other operands only: changing an operand in place after
    # einsum is an error only when the *other* operand needs a gradient, as in PyTorch.
    # (Two operands: PyTorch contracts three or more pairwise, so what it saves depends on
    # its contraction order; chainrule's single node is stricter there.)
    rng = np.random.default_rng(1)
    vals = [rng.standard_normal(s) for s in shapes]
    for needs in range(1, 2 ** len(shapes)):
        for changed in range(len(shapes)):
            res = []
            for m in (cr, torch):
                leaves = [m.tensor(v, requires_grad=bool(needs >> k & 1))
                          for k, v in enumerate(vals)]
                ops = [x * 1.0 for x in leaves]         # non-leaves: changeable in place
                y = m.einsum(eq, *ops)
                ops[changed].mul_(2.0)
                try:
                    y.sum().backward()
                    res.append(("ok", [None if x.grad is None else x.grad.numpy()
                                       for x in leaves]))
                except RuntimeError as e:
                    assert "modified by an inplace operation" in str(e)
                    res.append(("raised", None))
            assert res[0][0] == res[1][0], (needs, changed, res)
            if res[0][0] == "ok":
                for u, v in zip(res[0][1], res[1][1]):
                    assert (u is None) == (v is None)
                    if u is not None:
                        np.testing.assert_allclose(u, v, rtol=1e-12)


@pytest.mark.parametrize("fn, exc", [
    (lambda m: m.outer(m.ones(2, 2), m.ones(2)), RuntimeError),
    (lambda m: m.tensordot(m.ones(2, 3), m.ones(4, 2), dims=([1], [0])), RuntimeError),
    (lambda m: m.tensordot(m.ones(2, 2), m.ones(2, 2, dtype=m.float64)), RuntimeError),
    (lambda m: m.einsum("i,i", m.ones(2), m.arange(2)), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc):
        fn(cr)


@pytest.mark.parametrize("args, exc", [
    (lambda a: (a, [0, 60]), ValueError),
    (lambda a: (a, [0, "x"]), TypeError),
    (lambda a: (a, [0, 1], [1, 0, 2]), RuntimeError),
])
def test_einsum_sublist_errors_like_torch(args, exc):
    for m in (cr, torch):
        with pytest.raises(exc):
            m.einsum(*args(m.ones(2, 3)))
