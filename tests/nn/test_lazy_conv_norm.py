"""nn.LazyConv1d/2d, nn.LazyConvTranspose1d/2d, nn.LazyBatchNorm1d/2d and
UninitializedBuffer against PyTorch: reprs and types before and after the first forward
(``cls_to_become``), shapes, the initialisation's bounds, state_dict before and after,
errors on use before materialisation, and outputs/gradients with the same weights."""
import copy
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def _trace(m, script):
    """Run ``script(m, say)`` and return what it said (exceptions as class and message)."""
    out = []

    def say(f):
        try:
            out.append(f())
        except Exception as e:                       # noqa: BLE001 -- compared with torch
            out.append(f"{type(e).__name__}: {e}")
    script(m, say)
    return out


def _lifecycle(m, say):
    nn_ = m.nn
    for make, x in [(lambda: nn_.LazyConv1d(4, 3), (2, 5, 9)),
                    (lambda: nn_.LazyConv1d(4, 3, bias=False, padding=1), (5, 9)),
                    (lambda: nn_.LazyConv2d(6, 3, stride=2, groups=2), (2, 4, 7, 7)),
                    (lambda: nn_.LazyConv2d(4, (3, 1), padding="same", dilation=2,
                                            padding_mode="reflect"), (3, 6, 6)),
                    (lambda: nn_.LazyConvTranspose1d(4, 3, stride=2), (2, 3, 5)),
                    (lambda: nn_.LazyConvTranspose2d(4, 3, stride=2, padding=1,
                                                     output_padding=1, groups=2,
                                                     bias=False), (1, 2, 4, 4)),
                    (lambda: nn_.LazyBatchNorm1d(), (4, 3)),
                    (lambda: nn_.LazyBatchNorm1d(momentum=None, eps=1e-3), (4, 3, 5)),
                    (lambda: nn_.LazyBatchNorm2d(affine=False), (3, 2, 2, 2)),
                    (lambda: nn_.LazyBatchNorm2d(bias=False), (3, 2, 2, 2)),
                    (lambda: nn_.LazyBatchNorm1d(affine=False, track_running_stats=False),
                     (4, 3))]:
        mod = make()
        say(lambda: repr(mod))
        say(lambda: type(mod).__name__)
        say(lambda: [(k, repr(v)) for k, v in mod.state_dict().items()])
        say(lambda: [(k, type(p).__name__) for k, p in mod.named_parameters()])
        say(lambda: [(k, type(b).__name__) for k, b in mod.named_buffers()])
        y = mod(m.ones(*x))
        say(lambda: tuple(y.shape))
        say(lambda: repr(mod))
        say(lambda: type(mod).__name__)
        say(lambda: [(k, tuple(v.shape), str(v.dtype)) for k, v in mod.state_dict().items()])
        say(lambda: [(k, type(p).__name__) for k, p in mod.named_parameters()])
        say(lambda: [(k, type(b).__name__) for k, b in mod.named_buffers()])


def test_lazy_layers_lifecycle_matches_torch():
    assert _trace(cr, _lifecycle) == _trace(torch, _lifecycle)


def _errors(m, say):
    nn_ = m.nn
    conv = nn_.LazyConv2d(4, 3)
    say(lambda: conv.weight.shape)
    say(lambda: conv.weight.numel())
    say(lambda: repr(conv.weight))
    say(lambda: conv(m.ones(2, 3, 5, 5, 5)))       # wrong rank: stays lazy
    say(lambda: type(conv).__name__)
    say(lambda: nn_.LazyConv1d(4, 3)(m.ones(3)))
    say(lambda: nn_.LazyConv2d(4, 3, groups=2)(m.ones(1, 3, 5, 5)))
    bn = nn_.LazyBatchNorm2d()
    say(lambda: bn.running_mean.shape)
    say(lambda: bn.running_var.numel())
    say(lambda: repr(bn.running_mean))
    say(lambda: type(bn.running_mean).__name__)
    say(lambda: bn(m.ones(3, 2, 2)))                # materialised, then the rank check
    say(lambda: (type(bn).__name__, tuple(bn.weight.shape)))
    bn1 = nn_.LazyBatchNorm1d()
    say(lambda: type(bn1(m.ones(3))).__name__)
    say(lambda: type(bn1).__name__)


def _first_line(s):
    # PyTorch names its C method where chainrule names the op; the rest of each message
    # is compared in test_errors_before_materialisation
    return s.split(" in ")[0] if s.startswith("ValueError: Attempted") else s


def test_errors_before_materialisation_match_torch():
    # same results and exception classes; chainrule's messages begin with PyTorch's and
    # may say more (what to do)
    ours, theirs = _trace(cr, _errors), _trace(torch, _errors)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert _first_line(str(a)).startswith(_first_line(str(b)))


def test_use_before_materialisation_raises_value_error_naming_the_op():
    conv, bn = nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d()
    for f, what, kind in [(lambda: conv.weight * 2, "multiply", "UninitializedParameter"),
                          (lambda: conv.bias.sum(), "add", "UninitializedParameter"),
                          (lambda: cr.nn.functional.conv2d(cr.ones(1, 2, 5, 5), conv.weight),
                           "conv2d", "UninitializedParameter"),
                          (lambda: bn.running_var + 1, "add", "UninitializedBuffer")]:
        with pytest.raises(ValueError, match=f"uninitialized parameter in {what}.*{kind}"):
            f()
    for f in (lambda: torch.nn.LazyConv2d(4, 3).weight * 2,
              lambda: torch.nn.LazyBatchNorm2d().running_var + 1):
        with pytest.raises(ValueError, match="uninitialized parameter in"):
            f()


@pytest.mark.parametrize("cls,args,x,fan_in", [
    ("LazyConv1d", (40, 3), (2, 10, 12), 30),
    ("LazyConv2d", (64, 3, 1, 0, 1, 2), (2, 8, 6, 6), 36),
    ("LazyConvTranspose1d", (30, 3), (2, 10, 12), 90),
    ("LazyConvTranspose2d", (20, (2, 3)), (2, 40, 4, 4), 120)])
def test_materialised_conv_init_bounds(cls, args, x, fan_in):
    cr.manual_seed(0)
    lazy = getattr(nn, cls)(*args)
    lazy(cr.rand(*x))
    w, b = lazy.weight.detach().numpy(), lazy.bias.detach().numpy()
    bound = 1 / np.sqrt(fan_in)             # kaiming_uniform_(a=sqrt(5)) and the bias's
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.08 * bound
    tw = getattr(torch.nn, cls)(*args)
    tw(torch.rand(*x))
    assert w.shape == tuple(tw.weight.shape) and b.shape == tuple(tw.bias.shape)


def test_materialised_batchnorm_starts_like_batchnorm():
    bn = nn.LazyBatchNorm2d(dtype=cr.float64)
    bn.eval()(cr.ones(2, 5, 3, 3, dtype=cr.float64))
    sd = bn.state_dict()
    assert [str(v.dtype) for v in sd.values()] == ["torch.float64"] * 4 + ["torch.int64"]
    np.testing.assert_array_equal(sd["weight"].numpy(), np.ones(5))
    np.testing.assert_array_equal(sd["bias"].numpy(), np.zeros(5))
    np.testing.assert_array_equal(sd["running_mean"].numpy(), np.zeros(5))
    np.testing.assert_array_equal(sd["running_var"].numpy(), np.ones(5))
    assert int(sd["num_batches_tracked"]) == 0


def _pair(cls, args, x_shape, dtype):
    """A materialised lazy chainrule layer and the plain torch layer with its weights."""
    lazy = getattr(nn, cls)(*args, dtype=dtype)
    x = np.random.default_rng(0).standard_normal(x_shape)
    lazy(cr.tensor(x, dtype=dtype))
    plain = {"LazyConv1d": "Conv1d", "LazyConv2d": "Conv2d",
             "LazyConvTranspose1d": "ConvTranspose1d", "LazyConvTranspose2d": "ConvTranspose2d",
             "LazyBatchNorm1d": "BatchNorm1d", "LazyBatchNorm2d": "BatchNorm2d"}[cls]
    t = getattr(torch.nn, plain)(x_shape[1], *args).double()
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lazy.state_dict().items()})
    assert type(lazy).__name__ == plain
    return lazy, t, x


@pytest.mark.parametrize("cls,args,x", [
    ("LazyConv1d", (4, 3, 2, 1), (3, 5, 9)),
    ("LazyConv2d", (4, 3, 1, 1, 1, 2), (2, 6, 5, 5)),
    ("LazyConvTranspose1d", (4, 3, 2), (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3, 2, 1, 1), (2, 3, 4, 4)),
    ("LazyBatchNorm1d", (), (6, 3, 4)),
    ("LazyBatchNorm2d", (), (4, 3, 2, 5))])
def test_lazy_layers_match_torch_with_the_same_weights(cls, args, x):
    ours, theirs, x0 = _pair(cls, args, x, cr.float64)
    rng = np.random.default_rng(1)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        xv = rng.standard_normal(x)
        cx = cr.tensor(xv, requires_grad=True)
        tx = torch.tensor(xv, requires_grad=True)
        cy, ty = ours(cx), theirs(tx)
        np.testing.assert_allclose(cy.detach().numpy(), ty.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        g = rng.standard_normal(tuple(ty.shape))
        cy.backward(cr.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
        for (k, tp), cp in zip(theirs.named_parameters(), ours.parameters()):
            np.testing.assert_allclose(cp.grad.numpy(), tp.grad.numpy(), rtol=1e-9,
                                       atol=1e-11, err_msg=f"{mode} {k}")
            cp.grad = None
            tp.grad = None
    for (k, v), (tk, tv) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == tk
        np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=1e-12, err_msg=k)


def test_state_dict_round_trips_and_load_into_a_lazy_layer():
    # a lazy layer loading a state_dict takes its shapes (and stays lazy until forward,
    # in_channels / num_features staying 0 as in PyTorch)
    for make, plain, x in [(lambda m: m.nn.LazyConv2d(4, 3), lambda m: m.nn.Conv2d(3, 4, 3),
                            (2, 3, 5, 5)),
                           (lambda m: m.nn.LazyBatchNorm2d(), lambda m: m.nn.BatchNorm2d(3),
                            (2, 3, 2, 2))]:
        reprs = []
        for m in (cr, torch):
            m.manual_seed(0)
            src = plain(m)
            lazy = make(m)
            lazy.load_state_dict(src.state_dict())
            reprs.append((repr(lazy), type(lazy).__name__))
            xs = m.rand(*x)
            np.testing.assert_array_equal(lazy.eval()(xs).detach().numpy(),
                                          src.eval()(xs).detach().numpy())
            reprs.append((repr(lazy), type(lazy).__name__))
        assert reprs[:2] == reprs[2:]
    # an uninitialised module's state_dict holds the uninitialised tensors themselves
    lazy = nn.LazyBatchNorm2d()
    sd = lazy.state_dict()
    assert sd["weight"] is lazy.weight and sd["running_mean"] is lazy.running_mean


def test_dtype_conversion_copy_and_pickle_before_materialisation():
    for m in (cr, torch):
        bn = m.nn.LazyBatchNorm2d().double()
        conv = m.nn.LazyConv2d(4, 3).double()
        assert repr(bn.running_mean) == "<UninitializedBuffer>"
        assert repr(conv.weight) == "<UninitializedParameter>"
        assert bn.running_mean.dtype == conv.weight.dtype == m.float64
        bn(m.ones(2, 3, 2, 2, dtype=m.float64))
        conv(m.ones(1, 2, 5, 5, dtype=m.float64))
        assert bn.running_mean.dtype == bn.weight.dtype == conv.weight.dtype == m.float64
    lazy = nn.LazyConv2d(4, 3)
    for c in (copy.deepcopy(lazy), pickle.loads(pickle.dumps(lazy))):
        assert repr(c) == repr(lazy) and repr(c.weight) == "<UninitializedParameter>"
        assert c(cr.ones(1, 2, 5, 5)).shape == (1, 4, 3, 3)


def test_optimizer_made_before_materialisation_trains_the_conv():
    cr.manual_seed(0)
    net = nn.Sequential(nn.LazyConv2d(3, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(),
                        nn.LazyLinear(2))
    opt = cr.optim.SGD(net.parameters(), lr=0.1)
    x = cr.rand(4, 2, 5, 5)
    net(x)
    before = [p.detach().clone() for p in net.parameters()]
    net(x).sum().backward()
    opt.step()
    assert all(not np.array_equal(a.numpy(), p.detach().numpy())
               for a, p in zip(before, net.parameters()))
