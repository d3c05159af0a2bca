"""Diagonals and triangles (ops/diagonals.py): diagonal, diag, diag_embed, trace, tril, triu
against PyTorch and finite differences: the OpCase rows (value, VJP, JVP, second order in
float64, float32 preservation) and the checks beyond the table."""
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def _both(fn):
    return fn(cr), fn(torch)


CASES = [
    # diagonals and triangles
    OpCase("trace", lambda m, a: m.trace(a), [(3, 3)], op="trace"),
    OpCase("trace_rect", lambda m, a: a.trace(), [(3, 4)], op="trace"),
    OpCase("diag_vec", lambda m, a: m.diag(a), [(3,)], op="diag_embed"),
    OpCase("diag_vec_off", lambda m, a: m.diag(a, 1), [(3,)], op="diag_embed"),
    OpCase("diag_vec_neg", lambda m, a: a.diag(-2), [(2,)], op="diag_embed"),
    OpCase("diag_mat", lambda m, a: m.diag(a), [(3, 4)], op="diagonal"),
    OpCase("diag_mat_off", lambda m, a: m.diag(a, -1), [(3, 4)], op="diagonal"),
    OpCase("diagonal_dims", lambda m, a: m.diagonal(a, 1, 1, 2), [(2, 3, 4)], op="diagonal"),
    OpCase("diagonal_swapped", lambda m, a: a.diagonal(0, 2, 0), [(3, 2, 4)],
           op=("diagonal", "permute")),
    OpCase("linalg_diagonal", lambda m, a: m.linalg.diagonal(a, offset=1), [(2, 3, 3)],
           op="diagonal"),
    OpCase("diag_embed", lambda m, a: m.diag_embed(a, -1), [(2, 3)], op="diag_embed"),
    OpCase("diag_embed_dims", lambda m, a: m.diag_embed(a, 0, 0, 2), [(2, 3)],
           op="diag_embed"),
    OpCase("tril", lambda m, a: m.tril(a), [(3, 4)], op="tril"),
    OpCase("tril_batched", lambda m, a: a.tril(-1), [(2, 3, 3)], op="tril"),
    OpCase("triu", lambda m, a: m.triu(a, 1), [(4, 3)], op="triu"),
    OpCase("triu_batched", lambda m, a: a.triu(), [(2, 3, 3)], op="triu"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("make, name", [
    (lambda m: m.trace(m.ones(2, 2, requires_grad=True)), "TraceBackward0"),
    (lambda m: m.diagonal(m.ones(2, 2, requires_grad=True)), "DiagonalBackward0"),
    (lambda m: m.diag_embed(m.ones(2, requires_grad=True)), "DiagEmbedBackward0"),
    (lambda m: m.tril(m.ones(2, 2, requires_grad=True)), "TrilBackward0"),
    (lambda m: m.triu(m.ones(2, 2, requires_grad=True)), "TriuBackward0"),
])
def test_grad_fn_names(make, name):
    c, t = _both(make)
    assert type(t.grad_fn).__name__ == name
    assert type(c.grad_fn).__name__ == name


@pytest.mark.parametrize("fn, exc", [
    (lambda m: m.trace(m.ones(2, 2, 2)), RuntimeError),
    (lambda m: m.diag(m.ones(2, 2, 2)), RuntimeError),
    (lambda m: m.tril(m.ones(3)), RuntimeError),
])
def test_errors_match_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc):
        fn(cr)


def test_inplace_triangles():
    for m in (cr, torch):
        x = m.ones(3, 3)
        assert x.tril_(-1) is x
        y = m.ones(2, 3).triu_(1)
        assert x.sum().item() == 3.0 and y.tolist() == [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
