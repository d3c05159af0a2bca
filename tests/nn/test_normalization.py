"""Normalisation layers and Dropout2d against PyTorch with the same weights: outputs,
gradients of inputs and parameters, running statistics over several train steps,
train()/eval(), state_dict keys/shapes/dtypes, default init and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr


def _copy_state(src_t, dst_c):
    dst_c.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in
                           src_t.state_dict().items()})


def _rand_params(mt, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in mt.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5 + 1)


def _run_both(mt, mc, shapes, steps=3, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = rng.standard_normal(shapes).astype(np.float32) * 2 + 0.5
        w = rng.standard_normal(shapes).astype(np.float32)
        xt = torch.tensor(x, requires_grad=True)
        xc = cr.tensor(x, requires_grad=True)
        yt, yc = mt(xt), mc(xc)
        np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-4,
                                   atol=1e-5)
        (yt * torch.tensor(w)).sum().backward()
        (yc * cr.tensor(w)).sum().backward()
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        for (n, pt), (_, pc) in zip(mt.named_parameters(), mc.named_parameters()):
            np.testing.assert_allclose(pc.grad.numpy(), pt.grad.numpy(), rtol=1e-4,
                                       atol=1e-4, err_msg=n)
    st, sc = mt.state_dict(), mc.state_dict()
    assert list(st) == list(sc)
    for k in st:
        assert tuple(st[k].shape) == tuple(sc[k].shape), k
        assert str(st[k].dtype) == str(sc[k].dtype), k
        np.testing.assert_allclose(sc[k].numpy(), st[k].numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=k)


BN_CONFIGS = [
    ("BatchNorm1d", (8, 3), {}),
    ("BatchNorm1d", (4, 3, 5), {}),
    ("BatchNorm1d", (4, 3, 5), {"momentum": None}),
    ("BatchNorm1d", (6, 3), {"affine": False}),
    ("BatchNorm1d", (6, 3), {"track_running_stats": False}),
    ("BatchNorm1d", (6, 3), {"bias": False, "eps": 1e-3, "momentum": 0.5}),
    ("BatchNorm2d", (2, 3, 4, 4), {}),
    ("BatchNorm2d", (2, 3, 4, 4), {"momentum": None, "affine": False}),
]


@pytest.mark.parametrize("name,shape,kw", BN_CONFIGS,
                         ids=[f"{n}-{len(s)}d-{k}" for n, s, k in BN_CONFIGS])
def test_batchnorm_train_then_eval_matches_torch(name, shape, kw):
    mt = getattr(torch.nn, name)(shape[1], **kw)
    mc = getattr(cr.nn, name)(shape[1], **kw)
    _rand_params(mt, 1)
    _copy_state(mt, mc)
    assert repr(mc) == repr(mt)
    _run_both(mt, mc, shape, steps=3)                   # training: batch statistics
    mt.eval(); mc.eval()
    assert not mc.training
    _run_both(mt, mc, shape, steps=2, seed=5)           # eval: running statistics (or batch)
    if kw.get("track_running_stats", True):
        assert int(mc.num_batches_tracked) == 3


def test_batchnorm_defaults_and_buffers():
    m = cr.nn.BatchNorm2d(4)
    t = torch.nn.BatchNorm2d(4)
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert len(list(m.buffers())) == 3
    assert m.num_batches_tracked.dtype == cr.int64
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones(4, np.float32))
    np.testing.assert_array_equal(m.bias.detach().numpy(), np.zeros(4, np.float32))
    np.testing.assert_array_equal(m.running_var.numpy(), np.ones(4, np.float32))
    assert [n for n, _ in cr.nn.BatchNorm1d(2, track_running_stats=False).named_buffers()] == []
    assert list(cr.nn.BatchNorm1d(2, track_running_stats=False).state_dict()) == \
        ["weight", "bias"]
    m64 = cr.nn.BatchNorm1d(2, dtype=cr.float64)
    assert m64.weight.dtype == cr.float64 and m64.running_mean.dtype == cr.float64
    # loading torch's state dict maps one to one, strictly
    t.running_mean.fill_(0.25)
    m.load_state_dict({k: cr.tensor(v.numpy()) for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(m.running_mean.numpy(), np.full(4, 0.25, np.float32))


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        cr.nn.BatchNorm1d(3)(cr.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="expected 4D input"):
        cr.nn.BatchNorm2d(3)(cr.ones(2, 3, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        cr.nn.BatchNorm1d(3)(cr.ones(1, 3))
    cr.nn.BatchNorm1d(3).eval()(cr.ones(1, 3))         # fine in eval mode, as torch


def test_batchnorm_second_order_through_module():
    m = cr.nn.BatchNorm1d(2).double()
    mt = torch.nn.BatchNorm1d(2).double()
    x = np.random.default_rng(2).standard_normal((5, 2))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gc, = cr.autograd.grad((m(xc) ** 3).sum(), xc, create_graph=True)
    gt, = torch.autograd.grad((mt(xt) ** 3).sum(), xt, create_graph=True)
    hc, = cr.autograd.grad((gc * gc).sum(), xc)
    ht, = torch.autograd.grad((gt * gt).sum(), xt)
    np.testing.assert_allclose(hc.numpy(), ht.numpy(), rtol=1e-9, atol=1e-9)


LN_CONFIGS = [((4, 5), 5, {}), ((2, 3, 4), (3, 4), {}), ((3, 4), [4], {"bias": False}),
              ((3, 4), 4, {"elementwise_affine": False, "eps": 1e-2})]


@pytest.mark.parametrize("shape,ns,kw", LN_CONFIGS, ids=[str(c[2]) + str(c[1]) for c in LN_CONFIGS])
def test_layernorm_matches_torch(shape, ns, kw):
    mt, mc = torch.nn.LayerNorm(ns, **kw), cr.nn.LayerNorm(ns, **kw)
    _rand_params(mt, 2)
    _copy_state(mt, mc)
    assert repr(mc) == repr(mt)
    _run_both(mt, mc, shape)
    mt.eval(); mc.eval()
    _run_both(mt, mc, shape, steps=1, seed=3)


GN_CONFIGS = [(2, 4, (3, 4, 5), {}), (3, 6, (2, 6, 2, 2), {"affine": False}),
              (1, 3, (2, 3, 4), {"bias": False}), (4, 4, (2, 4, 3), {"eps": 1e-3})]


@pytest.mark.parametrize("g,c,shape,kw", GN_CONFIGS, ids=[str(c[:2]) for c in GN_CONFIGS])
def test_groupnorm_matches_torch(g, c, shape, kw):
    mt, mc = torch.nn.GroupNorm(g, c, **kw), cr.nn.GroupNorm(g, c, **kw)
    _rand_params(mt, 3)
    _copy_state(mt, mc)
    assert repr(mc) == repr(mt)
    _run_both(mt, mc, shape)


def test_groupnorm_layernorm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups"):
        cr.nn.GroupNorm(2, 5)
    with pytest.raises(RuntimeError, match="expected input with shape"):
        cr.nn.LayerNorm(4)(cr.ones(2, 3))


def test_dropout2d_drops_whole_channels():
    cr.manual_seed(0)
    x = cr.ones(50, 40, 3, 3, requires_grad=True)
    m = cr.nn.Dropout2d(0.3)
    assert repr(m) == repr(torch.nn.Dropout2d(0.3))
    y = m(x)
    planes = y.detach().numpy().reshape(2000, 9)
    scale = np.float32(1 / 0.7)
    assert ((planes == 0).all(1) | (planes == scale).all(1)).all()
    frac = (planes[:, 0] == 0).mean()
    assert 0.25 < frac < 0.35
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert y.dtype == cr.float32
    m.eval()
    assert m(x) is x
    # a 3-D input is (N, C, L), with torch's warning
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        y3 = cr.nn.functional.dropout2d(cr.ones(20, 30, 4))
    rows = y3.numpy().reshape(600, 4)
    assert ((rows == 0).all(1) | (rows == 2).all(1)).all()
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        cr.nn.functional.dropout2d(cr.ones(3, 4))
    with pytest.raises(ValueError, match="between 0 and 1"):
        cr.nn.Dropout2d(1.5)
    assert (cr.nn.functional.dropout2d(cr.ones(2, 2, 2, 2), p=1.0).numpy() == 0).all()


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4), (2, 3, 0)])
def test_empty_inputs_like_torch(shape):
    """An empty batch normalises to an empty result (running statistics unchanged); one
    value per channel in training still raises, as in PyTorch."""
    import torch
    for lib in (cr, torch):
        F = lib.nn.functional
        rm, rv = lib.zeros(3), lib.ones(3)
        x = lib.zeros(*shape, requires_grad=True)
        y = F.batch_norm(x, rm, rv, training=True)
        g = F.group_norm(x, 3)
        assert tuple(y.shape) == shape and tuple(g.shape) == shape
        (y.sum() + g.sum()).backward()
        assert tuple(x.grad.shape) == shape
        assert rm.tolist() == [0.0] * 3 and rv.tolist() == [1.0] * 3
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            F.batch_norm(lib.zeros(1, 3), None, None, training=True)


def test_num_batches_tracked_changes_in_place_as_in_torch():
    # add_(1) per training forward and zero_() on reset in PyTorch: both bump the version
    seen = []
    for lib in (cr, torch):
        bn = lib.nn.BatchNorm1d(3)
        x = lib.tensor([[1.0, 2, 3], [0, 1, 5]])
        bn(x)
        bn(x)
        after_two = bn.num_batches_tracked._version
        bn.reset_running_stats()
        seen.append((after_two, bn.num_batches_tracked._version, int(bn.num_batches_tracked)))
    assert seen[0] == seen[1]
