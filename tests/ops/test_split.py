"""Taking a tensor apart (ops/split.py): narrow, select, split, chunk, unbind, tensor_split,
hsplit/vsplit/dsplit against PyTorch and finite differences: the OpCase rows (value, VJP,
JVP, second order in float64, float32 preservation) and the checks beyond the table."""
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests
from oplib import assert_same_on_grid


def _pieces(m, parts):
    # combine every piece with a different weight so each piece's gradient is checked
    return m.cat([p.reshape(-1) * (i + 1) for i, p in enumerate(parts)])


CASES = [
    # narrow / split / chunk / unbind (views: slices)
    OpCase("narrow", lambda m, a: m.narrow(a, 1, 1, 2), [(2, 4)], op="slice"),
    OpCase("narrow_neg", lambda m, a: a.narrow(0, -2, 2), [(3, 2)], op="slice"),
    OpCase("split_int", lambda m, a: _pieces(m, m.split(a, 2)), [(5, 2)], op="split"),
    OpCase("split_sizes", lambda m, a: _pieces(m, a.split([1, 3], dim=1)), [(2, 4)],
           op="split_with_sizes"),
    OpCase("chunk", lambda m, a: _pieces(m, m.chunk(a, 3, 1)), [(2, 5)], op="split"),
    OpCase("unbind", lambda m, a: _pieces(m, m.unbind(a, 1)), [(2, 3)], op="unbind"),
    # select / tensor_split / h-v-dsplit (composites of select and slice)
    OpCase("select", lambda m, a: m.select(a, 1, -1), [(2, 3, 2)], op="select"),
    OpCase("select_method", lambda m, a: a.select(0, 2) * a.select(-1, 0)[:, None],
           [(3, 2)], op="select"),
    OpCase("select_1d", lambda m, a: a.select(0, 1), [(4,)], op="select"),
    OpCase("tensor_split_sections", lambda m, a: _pieces(m, m.tensor_split(a, 3)), [(7, 2)],
           op="slice"),
    OpCase("tensor_split_more_sections_than_size",
           lambda m, a: _pieces(m, a.tensor_split(4, dim=1)), [(2, 3)], op="slice"),
    OpCase("tensor_split_indices",
           lambda m, a: _pieces(m, m.tensor_split(a, [1, 9, 5, 2, -1], dim=-1)), [(2, 7)],
           op="slice"),
    OpCase("tensor_split_tensor_indices",
           lambda m, a: _pieces(m, a.tensor_split(m.tensor([2, 4]), 1)), [(2, 5)], op="slice"),
    OpCase("tensor_split_tensor_sections",
           lambda m, a: _pieces(m, a.tensor_split(m.tensor(2))), [(5,)], op="slice"),
    OpCase("hsplit", lambda m, a: _pieces(m, m.hsplit(a, 2)), [(3, 4)], op="slice"),
    OpCase("hsplit_1d_indices", lambda m, a: _pieces(m, a.hsplit([1, 3])), [(5,)], op="slice"),
    OpCase("vsplit", lambda m, a: _pieces(m, m.vsplit(a, [2])), [(3, 2)], op="slice"),
    OpCase("dsplit", lambda m, a: _pieces(m, a.dsplit(2)), [(2, 1, 4)], op="slice"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m, x: x.narrow(0, 1, 2), "SliceBackward0"),
    (lambda m, x: x.split(3)[1], "SplitBackward0"),
    (lambda m, x: x.split([1, 3])[0], "SplitWithSizesBackward0"),
    (lambda m, x: x.chunk(2)[0], "SplitBackward0"),
    (lambda m, x: x.reshape(2, 2).unbind(1)[0], "UnbindBackward0"),
])
def test_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


def test_split_chunk_shapes_match_torch():
    for n in range(0, 8):
        for k in (1, 2, 3, 5):
            xc, xt = cr.arange(float(n)), torch.arange(float(n))
            if n:
                assert [p.shape[0] for p in xc.chunk(k)] == [p.shape[0] for p in xt.chunk(k)]
            assert [p.shape[0] for p in xc.split(k)] == [p.shape[0] for p in xt.split(k)]


@pytest.mark.parametrize("fn, exc", [
    (lambda m, x: x.narrow(0, 2, 3), RuntimeError),
    (lambda m, x: x.split([1, 1]), RuntimeError),
    (lambda m, x: x.chunk(0), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))


@pytest.mark.parametrize("fn", [
    lambda m, x: x.split(split_size=2, dim=1)[1],
    lambda m, x: m.narrow(x, dim=1, start=1, length=2),
])
def test_keyword_arguments_match_torch(fn):
    xc, xt = cr.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert fn(cr, xc).tolist() == fn(torch, xt).tolist()


@pytest.mark.parametrize("make, name", [
    (lambda m, x: x.select(0, 1), "SelectBackward0"),
    (lambda m, x: m.select(x.reshape(2, 2), 1, 0), "SelectBackward0"),
    (lambda m, x: m.tensor_split(x, 3)[2], "SliceBackward0"),
    (lambda m, x: x.tensor_split([1])[0], "SliceBackward0"),
    (lambda m, x: x.hsplit(2)[1], "SliceBackward0"),
    (lambda m, x: m.vsplit(x.reshape(2, 2), 2)[0], "SliceBackward0"),
    (lambda m, x: x.reshape(1, 1, 4).dsplit([1])[1], "SliceBackward0"),
])
def test_select_tensor_split_grad_fn_names(make, name):
    for m in (cr, torch):
        x = m.arange(4.0, requires_grad=True)
        assert type(make(m, x).grad_fn).__name__ == name


@pytest.mark.parametrize("fn", [
    lambda m, x: x.select(1, -3),
    lambda m, x: m.select(x, dim=0, index=1),
    lambda m, x: m.tensor_split(x, 2, dim=2),
    lambda m, x: x.tensor_split((0, 2), dim=-1),
    lambda m, x: x.tensor_split(m.tensor([1, 1])),
    lambda m, x: x.tensor_split(5, 1),
    lambda m, x: m.hsplit(x, 3),
    lambda m, x: x.hsplit(1, 2),
    lambda m, x: x.vsplit([1, 1]),
    lambda m, x: m.dsplit(x, (0, 2)),
    lambda m, x: m.tensor_split(x, sections=2, dim=1),
    lambda m, x: x.tensor_split(indices=[1], dim=2),
    lambda m, x: m.tensor_split(x, tensor_indices_or_sections=m.tensor(3)),
    lambda m, x: m.hsplit(x, sections=3),
    lambda m, x: x.vsplit(indices=[1]),
    lambda m, x: m.dsplit(x, indices=(1,)),
])
def test_select_tensor_split_values_match_torch(fn):
    assert_same_on_grid(fn)


def test_composite_results_are_views():
    # like PyTorch: a later in-place change of the base shows through select/movedim/
    # unflatten/tensor_split results
    for m in (cr, torch):
        x = m.zeros(2, 4)
        views = [x.select(1, 2), x.movedim(0, 1), x.unflatten(1, (2, 2)), x.tensor_split(2, 1)[1],
                 x.hsplit([3])[1]]
        x.add_(1.0)
        x[1, 3] = 5.0
        assert views[0].tolist() == [1.0, 1.0]
        assert views[1][3].tolist() == [1.0, 5.0]
        assert views[2][1, 1].tolist() == [1.0, 5.0]
        assert views[3].tolist() == [[1.0, 1.0], [1.0, 5.0]]
        assert views[4].tolist() == [[1.0], [5.0]]


@pytest.mark.parametrize("fn, exc", [
    (lambda m, x: m.ones(()).select(0, 0), IndexError),
    (lambda m, x: x.select(0, 3), IndexError),
    (lambda m, x: x.select(0, -4), IndexError),
    (lambda m, x: x.select(2, 0), IndexError),
    (lambda m, x: x.select(0, 1.0), TypeError),
    (lambda m, x: x.tensor_split(0), RuntimeError),
    (lambda m, x: x.tensor_split(-2), RuntimeError),
    (lambda m, x: m.ones(()).tensor_split(1), RuntimeError),
    (lambda m, x: x.tensor_split(m.tensor([1.0])), RuntimeError),
    (lambda m, x: x.tensor_split(m.tensor([[1]])), RuntimeError),
    (lambda m, x: x.tensor_split(2, dim=3), IndexError),
    (lambda m, x: x.hsplit(2), RuntimeError),
    (lambda m, x: x.hsplit(0), RuntimeError),
    (lambda m, x: m.ones(()).hsplit(1), RuntimeError),
    (lambda m, x: m.ones(4).vsplit(2), RuntimeError),
    (lambda m, x: m.vsplit(x, 2), RuntimeError),
    (lambda m, x: x.dsplit(1), RuntimeError),
    (lambda m, x: m.tensor_split(x, 2, sections=2), TypeError),
    (lambda m, x: m.tensor_split(x), TypeError),
    (lambda m, x: m.hsplit(x, 3, indices=[1]), TypeError),
])
def test_select_tensor_split_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch, torch.ones(3, 3))
    with pytest.raises(exc):
        fn(cr, cr.ones(3, 3))
