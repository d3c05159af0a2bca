"""The book's attention-chapter classes (additive, scaled dot-product and multi-head
attention, positional encoding), written as in the book and run with chainrule and with
PyTorch: same weights (LazyLinear materialised by a first call, then torch's copied in),
same outputs and gradients."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr


def _book(torch):
    nn = torch.nn

    def masked_softmax(X, valid_lens):
        def _sequence_mask(X, valid_len, value=0):
            maxlen = X.size(1)
            mask = torch.arange((maxlen), dtype=torch.float32,
                                device=X.device)[None, :] < valid_len[:, None]
            X[~mask] = value
            return X
        if valid_lens is None:
            return nn.functional.softmax(X, dim=-1)
        shape = X.shape
        if valid_lens.dim() == 1:
            valid_lens = torch.repeat_interleave(valid_lens, shape[1])
        else:
            valid_lens = valid_lens.reshape(-1)
        X = _sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
        return nn.functional.softmax(X.reshape(shape), dim=-1)

    class AdditiveAttention(nn.Module):
        def __init__(self, num_hiddens, dropout, **kwargs):
            super(AdditiveAttention, self).__init__(**kwargs)
            self.W_k = nn.LazyLinear(num_hiddens, bias=False)
            self.W_q = nn.LazyLinear(num_hiddens, bias=False)
            self.w_v = nn.LazyLinear(1, bias=False)
            self.dropout = nn.Dropout(dropout)

        def forward(self, queries, keys, values, valid_lens):
            queries, keys = self.W_q(queries), self.W_k(keys)
            features = queries.unsqueeze(2) + keys.unsqueeze(1)
            features = torch.tanh(features)
            scores = self.w_v(features).squeeze(-1)
            self.attention_weights = masked_softmax(scores, valid_lens)
            return torch.bmm(self.dropout(self.attention_weights), values)

    class DotProductAttention(nn.Module):
        def __init__(self, dropout):
            super().__init__()
            self.dropout = nn.Dropout(dropout)

        def forward(self, queries, keys, values, valid_lens=None):
            d = queries.shape[-1]
            scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
            self.attention_weights = masked_softmax(scores, valid_lens)
            return torch.bmm(self.dropout(self.attention_weights), values)

    class MultiHeadAttention(nn.Module):
        def __init__(self, num_hiddens, num_heads, dropout, bias=False, **kwargs):
            super().__init__()
            self.num_heads = num_heads
            self.attention = DotProductAttention(dropout)
            self.W_q = nn.LazyLinear(num_hiddens, bias=bias)
            self.W_k = nn.LazyLinear(num_hiddens, bias=bias)
            self.W_v = nn.LazyLinear(num_hiddens, bias=bias)
            self.W_o = nn.LazyLinear(num_hiddens, bias=bias)

        def forward(self, queries, keys, values, valid_lens):
            queries = self.transpose_qkv(self.W_q(queries))
            keys = self.transpose_qkv(self.W_k(keys))
            values = self.transpose_qkv(self.W_v(values))
            if valid_lens is not None:
                valid_lens = torch.repeat_interleave(
                    valid_lens, repeats=self.num_heads, dim=0)
            output = self.attention(queries, keys, values, valid_lens)
            output_concat = self.transpose_output(output)
            return self.W_o(output_concat)

        def transpose_qkv(self, X):
            X = X.reshape(X.shape[0], X.shape[1], self.num_heads, -1)
            X = X.permute(0, 2, 1, 3)
            return X.reshape(-1, X.shape[2], X.shape[3])

        def transpose_output(self, X):
            X = X.reshape(-1, self.num_heads, X.shape[1], X.shape[2])
            X = X.permute(0, 2, 1, 3)
            return X.reshape(X.shape[0], X.shape[1], -1)

    class PositionalEncoding(nn.Module):
        def __init__(self, num_hiddens, dropout, max_len=1000):
            super().__init__()
            self.dropout = nn.Dropout(dropout)
            self.P = torch.zeros((1, max_len, num_hiddens))
            X = torch.arange(max_len, dtype=torch.float32).reshape(
                -1, 1) / torch.pow(10000, torch.arange(
                0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
            self.P[:, :, 0::2] = torch.sin(X)
            self.P[:, :, 1::2] = torch.cos(X)

        def forward(self, X):
            X = X + self.P[:, :X.shape[1], :].to(X.device)
            return self.dropout(X)

    return AdditiveAttention, DotProductAttention, MultiHeadAttention, PositionalEncoding


def _run(m, make, args, state=None):
    net = make()
    net.eval()
    xs = [m.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
          for a in args]
    xs = [m.tensor(a) if isinstance(a, list) else a for a in xs]
    net(*xs)                                       # materialise the lazy layers
    if state is not None:
        net.load_state_dict({k: m.tensor(v) for k, v in state.items()})
    out = net(*xs)
    (out * m.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(
        np.float32))).sum().backward()
    sd = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    grads = [x.grad.numpy() for x in xs if hasattr(x, "grad") and x.grad is not None]
    grads += [p.grad.numpy() for p in net.parameters()]
    return out.detach().numpy(), grads, sd


@pytest.mark.parametrize("which", ["additive", "dot", "multihead", "posenc"])
def test_book_attention_classes_match_torch(which):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 1, 20)).astype(np.float32)
    k = rng.standard_normal((2, 10, 2)).astype(np.float32)
    v = rng.standard_normal((2, 10, 4)).astype(np.float32)
    if which == "additive":
        args = [q, k, v, [2, 6]]
        makes = {m: (lambda m=m: _book(m)[0](num_hiddens=8, dropout=0.1)) for m in (torch, cr)}
    elif which == "dot":
        args = [rng.standard_normal((2, 1, 2)).astype(np.float32), k, v, [2, 6]]
        makes = {m: (lambda m=m: _book(m)[1](dropout=0.5)) for m in (torch, cr)}
    elif which == "multihead":
        x = rng.standard_normal((2, 4, 100)).astype(np.float32)
        y = rng.standard_normal((2, 6, 100)).astype(np.float32)
        args = [x, y, y, [3, 2]]
        makes = {m: (lambda m=m: _book(m)[2](100, 5, 0.5)) for m in (torch, cr)}
    else:
        args = [rng.standard_normal((1, 60, 32)).astype(np.float32)]
        makes = {m: (lambda m=m: _book(m)[3](32, 0)) for m in (torch, cr)}
    t_out, t_grads, t_sd = _run(torch, makes[torch], args)
    c_out, c_grads, c_sd = _run(cr, makes[cr], args, state=t_sd)
    assert list(c_sd) == list(t_sd)
    assert all(c_sd[key].shape == t_sd[key].shape for key in t_sd)
    np.testing.assert_allclose(c_out, t_out, rtol=1e-5, atol=1e-5)
    assert len(c_grads) == len(t_grads)
    for c, t in zip(c_grads, t_grads):
        np.testing.assert_allclose(c, t, rtol=1e-4, atol=1e-5)
