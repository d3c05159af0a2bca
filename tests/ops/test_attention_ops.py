"""Attention building blocks: repeat_interleave (ops/repeat.py, a composite of
expand/reshape and index_select) and bmm against PyTorch and finite differences (value,
VJP, JVP, second order in float64, float32 preservation); their errors; and the book's
masked_softmax code, run unchanged."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests

CASES = [
    OpCase("repeat_interleave_int_flat", lambda m, a: m.repeat_interleave(a, 2), [(2, 3)],
           op="expand"),
    OpCase("repeat_interleave_int_dim", lambda m, a: a.repeat_interleave(3, dim=-1),
           [(2, 2)], op="expand"),
    OpCase("repeat_interleave_int_tensor_count",
           lambda m, a: a.repeat_interleave(m.tensor(2), dim=0), [(2, 3)], op="expand"),
    OpCase("repeat_interleave_counts",
           lambda m, a: m.repeat_interleave(a, m.tensor([2, 0, 3]), dim=1), [(2, 3)],
           op="index_select"),
    OpCase("repeat_interleave_counts_flat",
           lambda m, a: m.repeat_interleave(a, m.tensor([1, 2, 0, 3])), [(2, 2)],
           op="index_select"),
    OpCase("repeat_interleave_0d", lambda m, a: m.repeat_interleave(a, 3), [()], op="expand"),
    OpCase("bmm", lambda m, a, b: m.bmm(a, b), [(2, 3, 4), (2, 4, 2)], op="bmm"),
]

test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


@pytest.mark.parametrize("fn", [
    lambda m: m.repeat_interleave(m.tensor([2, 0, 1])),
    lambda m: m.repeat_interleave(m.tensor([3, 4]), 2),
    lambda m: m.tensor([[1, 2], [3, 4]]).repeat_interleave(m.tensor([0, 2]), dim=-2),
    lambda m: m.repeat_interleave(m.tensor([[1., 2.]]), m.tensor([2]), dim=1),
    lambda m: m.repeat_interleave(m.zeros(2, 0), 3, dim=1),
])
def test_repeat_interleave_values_and_dtypes(fn):
    t, c = fn(torch), fn(cr)
    assert str(c.dtype) == str(t.dtype) and tuple(c.shape) == tuple(t.shape)
    np.testing.assert_array_equal(c.numpy(), t.numpy())


@pytest.mark.parametrize("fn", [
    lambda m: m.repeat_interleave(m.ones(2, 2), -1),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1, 2, 3]), dim=0),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1, -2]), dim=0),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1., 2.]), dim=0),
    lambda m: m.repeat_interleave(m.ones(2, 2), 2, dim=2),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1, 2])),
    lambda m: m.repeat_interleave(m.tensor([[1, 2]])),
    lambda m: m.repeat_interleave(m.ones(2, 2), 2.0),
    lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([[1, 2], [1, 2]]), dim=0),
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


# --- the book's masked softmax, unchanged -----------------------------------------------------

def _book_masked_softmax(torch, nn):
    # (d2l, "Attention Scoring Functions"; run with torch = chainrule or PyTorch)
    def masked_softmax(X, valid_lens):  #@save
        """Perform softmax operation by masking elements on the last axis."""
        # X: 3D tensor, valid_lens: 1D or 2D tensor
        def _sequence_mask(X, valid_len, value=0):
            maxlen = X.size(1)
            mask = torch.arange((maxlen), dtype=torch.float32,
                                device=X.device)[None, :] < valid_len[:, None]
            X[~mask] = value
            return X

        if valid_lens is None:
            return nn.functional.softmax(X, dim=-1)
        else:
            shape = X.shape
            if valid_lens.dim() == 1:
                valid_lens = torch.repeat_interleave(valid_lens, shape[1])
            else:
                valid_lens = valid_lens.reshape(-1)
            # On the last axis, replace masked elements with a very large negative
            # value, whose exponentiation outputs 0
            X = _sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
            return nn.functional.softmax(X.reshape(shape), dim=-1)
    return masked_softmax


@pytest.mark.parametrize("lens", [[2, 3], [[1, 3], [2, 4]], None])
def test_book_masked_softmax_with_bmm_matches_torch(lens):
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 4, 3))
    w = rng.standard_normal((2, 2, 4))
    res = {}
    for m in (torch, cr):
        qt, kt = m.tensor(q, requires_grad=True), m.tensor(k, requires_grad=True)
        scores = m.bmm(qt, kt.transpose(1, 2)) / np.sqrt(3)
        valid = None if lens is None else m.tensor(lens)
        attn = _book_masked_softmax(m, m.nn)(scores, valid)
        (attn * m.tensor(w)).sum().backward()
        res[m] = [attn.detach().numpy(), qt.grad.numpy(), kt.grad.numpy()]
    for c, t in zip(res[cr], res[torch]):
        np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12)
    if lens == [2, 3]:
        assert np.all(res[cr][0][0, :, 2:] == 0) and np.all(res[cr][0][1, :, 3:] == 0)
