"""Convolution and pooling layers against PyTorch with the same weights (torch's state_dict
loaded into chainrule): outputs, gradients of inputs and parameters, state_dict keys and
shapes, repr, train()/eval(), and the default initialisation's bounds; and the book's
LeNet (forward + backward on a batch) equal to torch's."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr


def _copy(tm, cm):
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _check(tm, cm, shape, atol=1e-10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    xc = cr.tensor(x, requires_grad=True)
    ot, oc = tm(xt), cm(xc)
    assert tuple(oc.shape) == tuple(ot.shape)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), atol=atol)
    v = rng.standard_normal(tuple(ot.shape))
    (ot * torch.tensor(v)).sum().backward()
    (oc * cr.tensor(v)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), atol=atol)
    pt = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), pt[name].grad.numpy(), atol=atol,
                                   err_msg=name)


LAYERS = [
    ("Conv2d(1, 6, 5, padding=2)", (2, 1, 8, 8)),
    ("Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2, bias=False)",
     (2, 4, 7, 8)),
    ("Conv2d(2, 3, 4, padding='same')", (2, 2, 6, 5)),
    ("Conv2d(2, 3, 3, padding=1, padding_mode='reflect')", (2, 2, 5, 5)),
    ("Conv2d(2, 3, 3, padding=(1, 2), padding_mode='circular')", (2, 2, 5, 5)),
    ("Conv2d(2, 3, 3, padding='same', padding_mode='replicate')", (2, 5, 5)),
    ("Conv1d(2, 4, 3, stride=2, padding=1)", (3, 2, 9)),
    ("Conv1d(2, 4, 4, padding='same', bias=False)", (2, 7)),
    ("ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)", (2, 4, 3, 3)),
    ("ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), groups=2, dilation=2)", (1, 4, 3, 4)),
    ("ConvTranspose1d(3, 2, 3, stride=2)", (2, 3, 4)),
    ("Unfold((2, 3), padding=1, stride=2)", (2, 3, 5, 6)),
    ("Fold((4, 5), 2)", (2, 12, 12)),
    ("MaxPool2d(2)", (2, 3, 6, 6)),
    ("MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", (2, 3, 6, 7)),
    ("MaxPool1d(3, 2, 1)", (2, 3, 8)),
    ("AvgPool2d(2, 2)", (2, 3, 6, 6)),
    ("AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)",
     (2, 3, 6, 7)),
    ("AvgPool1d(3, stride=2)", (2, 3, 8)),
    ("AdaptiveAvgPool2d((1, 1))", (2, 3, 5, 5)),
    ("AdaptiveAvgPool2d((3, None))", (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d(2)", (2, 3, 5, 5)),
    ("AdaptiveAvgPool1d(3)", (2, 3, 7)),
    ("AdaptiveMaxPool1d(3)", (2, 3, 7)),
]


@pytest.mark.parametrize("spec,shape", LAYERS, ids=[s for s, _ in LAYERS])
def test_layer_matches_torch(spec, shape):
    tm = eval("torch.nn." + spec).double()
    cm = eval("cr.nn." + spec).double()
    assert repr(cm) == repr(tm)
    sd_t, sd_c = tm.state_dict(), cm.state_dict()
    assert list(sd_c) == list(sd_t)
    assert [tuple(v.shape) for v in sd_c.values()] == [tuple(v.shape) for v in sd_t.values()]
    _copy(tm, cm)
    _check(tm, cm, shape)
    cm.eval()
    tm.eval()
    _check(tm, cm, shape, seed=1)     # no mode-dependent behaviour


def test_conv_transpose_output_size():
    tm = torch.nn.ConvTranspose2d(2, 3, 3, stride=2).double()
    cm = cr.nn.ConvTranspose2d(2, 3, 3, stride=2).double()
    _copy(tm, cm)
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    ot = tm(torch.tensor(x), output_size=[10, 10])
    oc = cm(cr.tensor(x), output_size=[10, 10])
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("spec", ["Conv2d(6, 16, 5)", "Conv2d(4, 8, (3, 2), groups=2)",
                                  "Conv1d(3, 5, 4)", "ConvTranspose2d(4, 6, 3, groups=2)"])
def test_default_init_bounds(spec):
    # torch: weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in =
    # weight.size(1) * prod(kernel_size)
    cr.manual_seed(0)
    m = eval("cr.nn." + spec)
    t = eval("torch.nn." + spec)
    assert m.weight.shape == t.weight.shape and m.bias.shape == t.bias.shape
    assert m.weight.dtype == cr.float32
    fan_in = m.weight.shape[1] * math.prod(m.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert abs(w.mean()) < 0.2 * bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound


def _lenet(m):
    nn = m.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lenet_forward_backward_matches_torch(dtype):
    torch.manual_seed(0)
    tm = _lenet(torch).to(getattr(torch, dtype))
    cm = _lenet(cr).to(getattr(cr, dtype))
    assert list(cm.state_dict()) == list(tm.state_dict())
    _copy(tm, cm)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 1, 28, 28)).astype(dtype)
    y = rng.integers(0, 10, 16)
    lt = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
    lc = cr.nn.functional.cross_entropy(cm(cr.tensor(x)), cr.tensor(y))
    lt.backward()
    lc.backward()
    tol = dict(rtol=1e-4, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(float(lc), float(lt), **tol)
    pt = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        assert p.grad.dtype == p.dtype
        np.testing.assert_allclose(p.grad.numpy(), pt[name].grad.numpy(), err_msg=name, **tol)
