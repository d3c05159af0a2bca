"""F.one_hot, nn.utils.clip_grad_norm_/clip_grad_value_ and the legacy tensor types
(FloatTensor ...) against PyTorch: values, dtypes, in-place effects and errors."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr


def _same_error(call):
    with pytest.raises(Exception) as et:
        call(torch)
    with pytest.raises(et.type) as ec:
        call(cr)
    assert str(et.value).split("(")[0].strip() in str(ec.value)


# --- one_hot ------------------------------------------------------------------------------

@pytest.mark.parametrize("idx,n", [([0, 2, 1], -1), ([0, 2, 1], 5), ([[1, 0], [3, 3]], -1),
                                   ([], 3), (2, 4)])
def test_one_hot_matches_torch(idx, n):
    yt = torch.nn.functional.one_hot(torch.tensor(idx, dtype=torch.long), n)
    yc = cr.nn.functional.one_hot(cr.tensor(idx, dtype=cr.long), n)
    assert yc.dtype == cr.int64 and tuple(yc.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(yc.numpy(), yt.numpy())


@pytest.mark.parametrize("call", [
    lambda m: m.nn.functional.one_hot(m.tensor([0.0, 2.0])),
    lambda m: m.nn.functional.one_hot(m.tensor([0, 2], dtype=m.int32)),
    lambda m: m.nn.functional.one_hot(m.tensor([0, 3]), 3),
    lambda m: m.nn.functional.one_hot(m.tensor([-1, 1]), 3),
    lambda m: m.nn.functional.one_hot(m.tensor([-1, 1])),
    lambda m: m.nn.functional.one_hot(m.tensor([], dtype=m.long)),
    lambda m: m.nn.functional.one_hot(m.tensor([1]), 0),
], ids=["float", "int32", "too_big", "negative", "negative_infer", "empty_infer", "zero"])
def test_one_hot_errors_match_torch(call):
    _same_error(call)


# --- gradient clipping --------------------------------------------------------------------

def _params_with_grads(m, dtype, scale=1.0):
    rng = np.random.default_rng(0)
    ps = []
    for s in ((3, 4), (4,), (2, 2)):
        p = m.zeros(s, dtype=dtype, requires_grad=True)
        p.grad = m.tensor(rng.standard_normal(s) * scale, dtype=dtype)
        ps.append(p)
    ps.append(m.zeros(2, dtype=dtype, requires_grad=True))          # no grad: skipped
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    pc = _params_with_grads(cr, getattr(cr, dtype))
    pt = _params_with_grads(torch, getattr(torch, dtype))
    nc = cr.nn.utils.clip_grad_norm_(pc, max_norm, norm_type=norm_type)
    nt = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type=norm_type)
    assert nc.dtype == getattr(cr, dtype) and nc.shape == ()
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(nc.numpy(), nt.numpy(), rtol=rtol)
    for a, b in zip(pc, pt):
        if b.grad is None:
            assert a.grad is None
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=1e-7)


def test_clip_grad_norm_edge_cases():
    w = cr.ones(2, requires_grad=True)
    out = cr.nn.utils.clip_grad_norm_([w], 1.0)             # no gradients: 0, as torch
    assert out.item() == 0.0 and out.dtype == cr.float32
    w.grad = cr.tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        cr.nn.utils.clip_grad_norm_(w, 1.0, error_if_nonfinite=True)
    assert math.isinf(cr.nn.utils.clip_grad_norm_(w, 1.0).item())
    t = torch.ones(2, requires_grad=True)
    t.grad = torch.tensor([math.inf, 1.0])
    torch.nn.utils.clip_grad_norm_(t, 1.0)
    np.testing.assert_array_equal(w.grad.numpy(), t.grad.numpy())
    # a single tensor is accepted, and the version counter moves (in-place change)
    w.grad = cr.tensor([3.0, 4.0])
    v = w.grad._version
    assert cr.nn.utils.clip_grad_norm_(w, 1.0).item() == 5.0
    assert w.grad._version > v
    np.testing.assert_allclose(w.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_clip_grad_value_matches_torch():
    pc = _params_with_grads(cr, cr.float32, scale=3)
    pt = _params_with_grads(torch, torch.float32, scale=3)
    assert cr.nn.utils.clip_grad_value_(pc, 1.5) is None
    torch.nn.utils.clip_grad_value_(pt, 1.5)
    for a, b in zip(pc, pt):
        if b.grad is not None:
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
            assert np.abs(a.grad.numpy()).max() <= 1.5


def test_clipping_inside_a_training_step():
    net = cr.nn.Linear(3, 2)
    opt = cr.optim.SGD(net.parameters(), lr=0.1)
    (net(cr.ones(4, 3) * 100).sum()).backward()
    total = cr.nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)
    assert total.item() > 1.0
    after = math.sqrt(sum(float((p.grad ** 2).sum()) for p in net.parameters()))
    assert after == pytest.approx(1.0, rel=1e-5)
    opt.step()


# --- legacy tensor types ------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda m: m.FloatTensor([1, 2]),
    lambda m: m.FloatTensor(2, 3),
    lambda m: m.FloatTensor(),
    lambda m: m.FloatTensor((2, 3)),
    lambda m: m.FloatTensor(m.Size([2])),
    lambda m: m.LongTensor([1.7, 2]),
    lambda m: m.LongTensor(3),
    lambda m: m.DoubleTensor([[1, 2]]),
    lambda m: m.IntTensor([1, -2]),
    lambda m: m.BoolTensor([1, 0]),
    lambda m: m.ByteTensor([1, 0]),
    lambda m: m.FloatTensor(np.array([1.5, 2.5])),
])
def test_legacy_constructors_match_torch(make):
    tc, tt = make(cr), make(torch)
    assert isinstance(tc, cr.Tensor)
    assert str(tc.dtype) == str(tt.dtype) and tuple(tc.shape) == tuple(tt.shape)
    assert tc.type() == tt.type()


def test_legacy_values():
    np.testing.assert_array_equal(cr.FloatTensor([1, 2]).numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(cr.LongTensor([1.7, -2.2]).numpy(),
                                  torch.LongTensor([1.7, -2.2]).numpy())
    np.testing.assert_array_equal(cr.FloatTensor(2, 3).numpy(), np.zeros((2, 3)))
    x = cr.ones(2)
    assert cr.FloatTensor(x) is x


def test_legacy_isinstance_like_torch():
    for m in (cr, torch):
        assert isinstance(m.ones(2), m.FloatTensor)
        assert not isinstance(m.ones(2), m.LongTensor)
        assert isinstance(m.arange(3), m.LongTensor)
        assert isinstance(m.ones(2, dtype=m.float64), m.DoubleTensor)
        assert isinstance(m.tensor([True]), m.BoolTensor)
        assert not isinstance([1.0], m.FloatTensor)


@pytest.mark.parametrize("call", [
    lambda m: m.FloatTensor(2.5),
    lambda m: m.FloatTensor("a"),
    lambda m: m.FloatTensor(m.tensor([1, 2])),
], ids=["number", "str", "other_dtype"])
def test_legacy_errors_match_torch(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError):
        call(cr)
