"""Reductions and normalisations of empty tensors: chainrule gives PyTorch's result (value,
shape, dtype) or raises PyTorch's exception class, for shapes (0,), (0, 3) and (3, 0), with
and without dim=."""
import numpy as np
import pytest
import torch

import chainrule as cr

FUNCS = {
    "sum": lambda m, x, **k: m.sum(x, **k),
    "mean": lambda m, x, **k: m.mean(x, **k),
    "prod": lambda m, x, **k: m.prod(x, **k),
    "max": lambda m, x, **k: m.max(x, **k),
    "min": lambda m, x, **k: m.min(x, **k),
    "amax": lambda m, x, **k: m.amax(x, **k),
    "amin": lambda m, x, **k: m.amin(x, **k),
    "argmax": lambda m, x, **k: m.argmax(x, **k),
    "argmin": lambda m, x, **k: m.argmin(x, **k),
    "std": lambda m, x, **k: m.std(x, **k),
    "var": lambda m, x, **k: m.var(x, **k),
    "logsumexp": lambda m, x, **k: m.logsumexp(x, **k),
    "softmax": lambda m, x, **k: m.softmax(x, **k),
    "log_softmax": lambda m, x, **k: m.log_softmax(x, **k),
    "cumsum": lambda m, x, **k: m.cumsum(x, **k),
    "cumprod": lambda m, x, **k: m.cumprod(x, **k),
    "norm": lambda m, x, **k: m.norm(x, **k),
    "median": lambda m, x, **k: m.median(x, **k),
    "sort": lambda m, x, **k: m.sort(x, **k),
    "argsort": lambda m, x, **k: m.argsort(x, **k),
    "topk0": lambda m, x, **k: m.topk(x, 0, **k),
    "topk1": lambda m, x, **k: m.topk(x, 1, **k),
    "any": lambda m, x, **k: m.any(x, **k),
    "all": lambda m, x, **k: m.all(x, **k),
    "count_nonzero": lambda m, x, **k: m.count_nonzero(x, **k),
    "nn_softmax": lambda m, x, **k: m.nn.functional.softmax(x, **k),
    "nn_log_softmax": lambda m, x, **k: m.nn.functional.log_softmax(x, **k),
    "sum_int": lambda m, x, **k: m.sum(x.long(), **k),
    "prod_int": lambda m, x, **k: m.prod(x.long(), **k),
    "mean_int_dtype": lambda m, x, **k: m.mean(x, dtype=m.float64, **k),
}
# ops that need dim= (no all-elements form)
NEEDS_DIM = {"softmax", "log_softmax", "cumsum", "cumprod", "logsumexp", "nn_softmax",
             "nn_log_softmax"}
NO_DIM = set()
SHAPES = [(0,), (0, 3), (3, 0)]


def _dims(name, shape):
    out = []
    if name not in NEEDS_DIM:
        out.append({})
    if name not in NO_DIM:
        out += [{"dim": d} for d in range(len(shape))] + [{"dim": -1}]
        if name in ("sum", "mean", "max", "argmax", "std", "logsumexp", "median", "amax"):
            out.append({"dim": 0, "keepdim": True})
    return out


CASES = [(n, s, k) for n in FUNCS for s in SHAPES for k in _dims(n, s)]


def _flat(r):
    if isinstance(r, tuple):
        return list(r)
    return [r]


@pytest.mark.parametrize("name,shape,kw", CASES,
                         ids=[f"{n}-{'x'.join(map(str, s))}-{k}" for n, s, k in CASES])
def test_empty_input_matches_torch(name, shape, kw):
    fn = FUNCS[name]
    try:
        expected = fn(torch, torch.zeros(shape), **kw)
    except Exception as e:                      # noqa: BLE001  (any class torch raises)
        with pytest.raises(type(e)):
            fn(cr, cr.zeros(shape), **kw)
        return
    got = fn(cr, cr.zeros(shape), **kw)
    got, expected = _flat(got), _flat(expected)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert tuple(g.shape) == tuple(e.shape), (tuple(g.shape), tuple(e.shape))
        assert str(g.dtype) == str(e.dtype)
        np.testing.assert_array_equal(g.numpy(), e.numpy())


GRAD_CASES = {
    "sum": lambda m, x: m.sum(x, 0), "mean": lambda m, x: m.mean(x, 1),
    "softmax": lambda m, x: m.softmax(x, 1), "log_softmax": lambda m, x: m.log_softmax(x, 0),
    "logsumexp": lambda m, x: m.logsumexp(x, 1), "cumsum": lambda m, x: m.cumsum(x, 0),
    "cumprod": lambda m, x: m.cumprod(x, 1), "prod": lambda m, x: m.prod(x, 1),
    "std": lambda m, x: m.std(x, 1), "var": lambda m, x: m.var(x, 1),
    "amax": lambda m, x: m.amax(x, 1), "max_dim": lambda m, x: m.max(x, 1).values,
    "median_dim": lambda m, x: m.median(x, 1).values, "norm": lambda m, x: m.norm(x, dim=1),
    "sort": lambda m, x: m.sort(x, 1).values,
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_empty_input_gradient_matches_torch(name):
    grads = []
    for m in (cr, torch):
        x = m.zeros((0, 3), dtype=m.float64, requires_grad=True)
        out = GRAD_CASES[name](m, x)
        out.backward(m.ones_like(out))
        grads.append(x.grad)
    assert tuple(grads[0].shape) == tuple(grads[1].shape) == (0, 3)
    assert str(grads[0].dtype) == str(grads[1].dtype)
