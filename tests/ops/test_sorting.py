"""sort, argsort, msort and topk (ops/sorting.py): ties, indices, named tuples against PyTorch
and finite differences: the OpCase rows (value, VJP, JVP, second order in float64, float32
preservation) and the checks beyond the table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def distinct(shape, lo=-2.0, hi=2.0, gap=0.05):
    """``make=`` for inputs whose values are pairwise at least ``gap`` apart (no ties)."""
    def make(r):
        n = int(np.prod(shape))
        grid = np.linspace(lo, hi, n)
        assert n < 2 or grid[1] - grid[0] >= gap
        return [r.permutation(grid + r.uniform(0, gap / 4, n)).reshape(shape)]
    return make


CASES = [
    # sort / topk (distinct values: no ties)
    OpCase("sort", lambda m, a: m.sort(a).values, [(6,)], op="sort", make=distinct((6,))),
    OpCase("sort_desc_dim0", lambda m, a: a.sort(0, descending=True).values * a,
           [(3, 4)], op="sort", make=distinct((3, 4))),
    OpCase("sort_stable_dim1", lambda m, a: m.sort(a, dim=1, stable=True)[0], [(3, 4)],
           op="sort", make=distinct((3, 4))),
    OpCase("sort_0d", lambda m, a: m.sort(a).values * a, [()], op="sort"),
    OpCase("topk", lambda m, a: m.topk(a, 3).values, [(6,)], op="topk", make=distinct((6,))),
    OpCase("topk_smallest_dim0", lambda m, a: a.topk(2, dim=0, largest=False)[0] ** 2,
           [(4, 3)], op="topk", make=distinct((4, 3))),
    OpCase("topk_all", lambda m, a: m.topk(a, 4, 1).values, [(2, 4)], op="topk",
           make=distinct((2, 4))),
    OpCase("topk_0d", lambda m, a: m.topk(a, 1).values * a, [()], op="topk"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


def test_sort_stable_ties_and_nan_like_torch():
    v = [3.0, 1.0, 3.0, 2.0, 1.0, float("nan"), 2.0]
    for desc in (False, True):
        a, b = cr.sort(cr.tensor(v), descending=desc), torch.sort(torch.tensor(v),
                                                                  descending=desc, stable=True)
        np.testing.assert_array_equal(a.values.numpy(), b.values.numpy())
        assert a.indices.tolist() == b.indices.tolist()
        assert a.indices.dtype == cr.int64
    m = np.array([[3, 1, 3], [2, 2, 0]])
    a = cr.tensor(m).sort(0, descending=True)
    b = torch.tensor(m).sort(dim=0, descending=True, stable=True)
    assert a.values.tolist() == b.values.tolist() and a.indices.tolist() == b.indices.tolist()
    assert cr.argsort(cr.tensor(v[:5])).tolist() == torch.argsort(torch.tensor(v[:5]),
                                                                 stable=True).tolist()


def test_topk_ties_and_options_like_torch():
    v = [3.0, 1.0, 3.0, 2.0, 1.0]
    # (PyTorch leaves the order among tied elements unspecified for topk; these cases have a
    # unique answer, or PyTorch happens to pick the earlier index as chainrule always does)
    for k, largest in ((3, True), (2, True), (2, False), (1, False), (0, True)):
        a = cr.topk(cr.tensor(v), k, largest=largest)
        b = torch.topk(torch.tensor(v), k, largest=largest)
        assert a.values.tolist() == b.values.tolist()
        assert a.indices.tolist() == b.indices.tolist()
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        cr.topk(cr.tensor(v), 6)


def test_sort_topk_gradient_scatter_with_ties():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = np.array([1.0, 10.0, 100.0])
    (gc,) = cr.autograd.grad(cr.topk(xc, 3).values, xc, cr.tensor(w))
    (gt,) = torch.autograd.grad(torch.topk(xt, 3).values, xt, torch.tensor(w))
    np.testing.assert_array_equal(gc.numpy(), gt.numpy())


@pytest.mark.parametrize("f", [lambda m, a: m.sort(a, descending=True),
                               lambda m, a: m.topk(a, 2), lambda m, a: m.max(a, 0),
                               lambda m, a: a.min(dim=0, keepdim=True),
                               lambda m, a: m.sort(a[0]), lambda m, a: m.max(a[0], 0)],
                         ids=["sort", "topk", "max", "min", "sort0d", "max0d"])
def test_named_tuple_results_like_torch(f):
    data = [1.0, 3.0, 2.0]
    xc, xt = cr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    rc, rt = f(cr, xc), f(torch, xt)
    assert repr(rc) == repr(rt)
    assert type(rc).__name__ == type(rt).__name__
    assert isinstance(rc, getattr(cr.return_types, type(rt).__name__))
    assert isinstance(rc, tuple) and len(rc) == 2
    values, indices = rc
    assert values is rc.values and indices is rc.indices and rc[0] is values
    assert indices.dtype == cr.int64 and not indices.requires_grad
