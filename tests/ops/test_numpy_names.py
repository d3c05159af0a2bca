"""PyTorch's axis=/keepdims= aliases of dim=/keepdim=, functions and methods, checked
against torch (which accepts them wherever its C++ argument parser sees dim/keepdim)."""
import numpy as np
import pytest
import torch

import chainrule as cr


AXIS_CALLS = [
    ("sum", lambda m, x: m.sum(x, axis=0, keepdims=True)), ("x.sum", lambda m, x: x.sum(axis=1)),
    ("mean", lambda m, x: m.mean(x, axis=1, keepdims=True)), ("x.cumsum", lambda m, x: x.cumsum(axis=0)),
    ("cumsum", lambda m, x: m.cumsum(x, axis=1)), ("cumprod", lambda m, x: m.cumprod(x, axis=0)),
    ("prod", lambda m, x: m.prod(x, axis=1, keepdims=True)), ("x.prod", lambda m, x: x.prod(axis=0)),
    ("softmax", lambda m, x: m.softmax(x, axis=1)), ("x.log_softmax", lambda m, x: x.log_softmax(axis=0)),
    ("logsumexp", lambda m, x: m.logsumexp(x, axis=1, keepdims=True)),
    ("amax", lambda m, x: m.amax(x, axis=0, keepdims=True)), ("x.amin", lambda m, x: x.amin(axis=1)),
    ("std", lambda m, x: m.std(x, axis=0)), ("x.var", lambda m, x: x.var(axis=1, keepdims=True)),
    ("max", lambda m, x: m.max(x, axis=1).values), ("x.min", lambda m, x: x.min(axis=0, keepdims=True).values),
    ("squeeze", lambda m, x: m.squeeze(x[None], axis=0)), ("x.unsqueeze", lambda m, x: x.unsqueeze(axis=1)),
    ("stack", lambda m, x: m.stack([x, x], axis=1)), ("cat", lambda m, x: m.cat([x, x], axis=1)),
    ("gather", lambda m, x: m.gather(x, axis=1, index=m.tensor([[0], [2], [1]]))),
    ("index_select", lambda m, x: m.index_select(x, axis=1, index=m.tensor([2, 0]))),
    ("topk", lambda m, x: m.topk(x, 2, axis=0).values), ("chunk", lambda m, x: m.chunk(x, 2, axis=1)[1]),
    ("narrow", lambda m, x: m.narrow(x, axis=1, start=1, length=2)),
    ("select", lambda m, x: m.select(x, axis=1, index=2)), ("unbind", lambda m, x: m.unbind(x, axis=1)[0]),
    ("sort", lambda m, x: m.sort(x, axis=0).values),
    ("take_along_dim", lambda m, x: m.take_along_dim(x, m.tensor([[1], [0], [2]]), axis=1)),
]
AXIS_INT_CALLS = [
    ("argmax", lambda m, x: m.argmax(x, axis=1, keepdims=True)), ("x.argmin", lambda m, x: x.argmin(axis=0)),
    ("any", lambda m, x: m.any(x > 0, axis=1, keepdims=True)), ("x.all", lambda m, x: (x > 0).all(axis=0)),
    ("argsort", lambda m, x: m.argsort(x, axis=0)), ("count_nonzero", lambda m, x: m.count_nonzero(x > 0, axis=1)),
]


@pytest.mark.parametrize("call", [c for _, c in AXIS_CALLS + AXIS_INT_CALLS],
                         ids=[n for n, _ in AXIS_CALLS + AXIS_INT_CALLS])
def test_axis_and_keepdims_aliases_like_torch(call):
    x = np.array([[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.2, 0.7], [-0.4, 0.9, 1.1, -2.0]])[:, :3]
    ours, theirs = call(cr, cr.tensor(x, requires_grad=True)), call(torch, torch.tensor(x, requires_grad=True))
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_axis_together_with_dim_is_refused():
    with pytest.raises(TypeError, match=r"cumsum\(\) got both dim= and axis="):
        cr.cumsum(cr.ones(2), dim=0, axis=0)
    with pytest.raises(TypeError):
        torch.cumsum(torch.ones(2), dim=0, axis=0)


def test_squeeze_unsqueeze_aliases_in_signature():
    x = cr.zeros(2, 1)
    assert x.unsqueeze(axis=0).shape == (1, 2, 1) and cr.squeeze(x, axis=1).shape == (2,)
    with pytest.raises(TypeError, match=r"unsqueeze\(\) missing 1 required positional"):
        cr.zeros(2).unsqueeze()
    with pytest.raises(TypeError, match=r"squeeze\(\) got both dim= and axis="):
        x.squeeze(1, axis=1)
