"""Training parity with PyTorch: from the same initial parameters (chainrule's init copied
into torch) and the same mini-batches, chainrule and PyTorch reach the same parameters after
every epoch, within float32 tolerance, for SGD (momentum, Nesterov, weight decay,
dampening, maximize), Adam (weight decay, AMSGrad), AdamW, RMSprop (centered, momentum),
Adagrad (lr_decay, initial accumulator), Adadelta, and for every loss."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset

N, D, H, C = 48, 5, 7, 4
EPOCHS = 4
RTOL, ATOL = 2e-4, 2e-5            # float32 tolerance after a few dozen updates


def _data(loss_name, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)).astype(np.float32)
    if loss_name in ("mse", "l1"):
        Y = rng.standard_normal((N, C)).astype(np.float32)
    elif loss_name in ("ce_idx", "ce_smooth", "ce_weight", "nll"):
        Y = rng.integers(0, C, N)
    elif loss_name == "ce_prob":
        p = rng.uniform(0.05, 1, (N, C))
        Y = (p / p.sum(1, keepdims=True)).astype(np.float32)
    elif loss_name in ("bce_logits", "bce"):
        Y = (rng.uniform(0, 1, (N, C)) < 0.4).astype(np.float32)
    return X, Y


def _log_softmax(m, x):
    if m is cr and not hasattr(cr, "log_softmax"):
        from chainrule.nn._losses import _stable_log_softmax
        return _stable_log_softmax(x, 1)
    return m.log_softmax(x, dim=1)


def _loss(m, name, out, y):
    F = m.nn.functional
    if name == "mse":
        return m.nn.MSELoss()(out, y)
    if name == "l1":
        return F.l1_loss(out, y)
    if name == "ce_idx":
        return m.nn.CrossEntropyLoss()(out, y)
    if name == "ce_smooth":
        return m.nn.CrossEntropyLoss(label_smoothing=0.15)(out, y)
    if name == "ce_weight":
        w = m.tensor([1.0, 0.5, 2.0, 1.5])
        return m.nn.CrossEntropyLoss(weight=w, reduction="sum")(out, y) / 10
    if name == "ce_prob":
        return m.nn.CrossEntropyLoss()(out, y)
    if name == "bce_logits":
        return m.nn.BCEWithLogitsLoss()(out, y)
    if name == "bce":
        return m.nn.BCELoss()(m.sigmoid(out), y)
    if name == "nll":
        return m.nn.NLLLoss()(_log_softmax(m, out), y)
    raise AssertionError(name)


def _models():
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(D, H), nn.Tanh(), nn.Linear(H, C))
    ref = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, C))
    with torch.no_grad():
        for (n1, p1), (n2, p2) in zip(net.named_parameters(), ref.named_parameters()):
            assert n1 == n2
            p2.copy_(torch.from_numpy(p1.detach().numpy().copy()))
    return net, ref


def _compare(net, ref, what):
    for (name, p1), (_, p2) in zip(net.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p1.detach().numpy(), p2.detach().numpy(), rtol=RTOL,
                                   atol=ATOL, err_msg=f"{what}: parameter {name}")


def _train(loss_name, make_opt, epochs=EPOCHS, batch_size=12):
    X, Y = _data(loss_name)
    net, ref = _models()
    opt_c, opt_t = make_opt(cr, net.parameters()), make_opt(torch, ref.parameters())
    ds = TensorDataset(cr.arange(N))
    loader = DataLoader(ds, batch_size=batch_size, shuffle=True,
                        generator=cr.Generator().manual_seed(1))
    Xc, Yc, Xt, Yt = cr.tensor(X), cr.tensor(Y), torch.tensor(X), torch.tensor(Y)
    for epoch in range(epochs):
        for (idx,) in loader:
            i = idx.numpy()
            for m, model, opt, xs, ys in ((cr, net, opt_c, Xc, Yc), (torch, ref, opt_t, Xt, Yt)):
                sel = torch.from_numpy(i) if m is torch else idx
                opt.zero_grad()
                loss = _loss(m, loss_name, model(xs[sel]), ys[sel])
                loss.backward()
                opt.step()
        _compare(net, ref, f"{loss_name} epoch {epoch}")
    return net


OPTIMIZERS = {
    "sgd": lambda m, ps: m.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda m, ps: m.optim.SGD(ps, lr=0.05, momentum=0.9),
    "sgd_nesterov_wd": lambda m, ps: m.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True,
                                                 weight_decay=0.01),
    "sgd_dampening_maximize": lambda m, ps: m.optim.SGD(ps, lr=0.02, momentum=0.5,
                                                        dampening=0.3, maximize=True),
    "adam": lambda m, ps: m.optim.Adam(ps, lr=0.01),
    "adam_wd_amsgrad": lambda m, ps: m.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99),
                                                  weight_decay=0.05, amsgrad=True),
    "adamw": lambda m, ps: m.optim.AdamW(ps, lr=0.01),
    "adamw_amsgrad": lambda m, ps: m.optim.AdamW(ps, lr=0.02, weight_decay=0.1, amsgrad=True,
                                                 eps=1e-6),
    "rmsprop": lambda m, ps: m.optim.RMSprop(ps, lr=0.01),
    "rmsprop_centered_momentum_wd": lambda m, ps: m.optim.RMSprop(
        ps, lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.8, centered=True),
    "rmsprop_momentum_maximize": lambda m, ps: m.optim.RMSprop(ps, lr=0.002, momentum=0.5,
                                                               maximize=True),
    "adagrad": lambda m, ps: m.optim.Adagrad(ps, lr=0.1),
    "adagrad_decay_wd_init": lambda m, ps: m.optim.Adagrad(
        ps, lr=0.2, lr_decay=0.05, weight_decay=0.02, initial_accumulator_value=0.5,
        eps=1e-8),
    "adadelta": lambda m, ps: m.optim.Adadelta(ps),
    "adadelta_rho_wd": lambda m, ps: m.optim.Adadelta(ps, lr=0.5, rho=0.8, eps=1e-5,
                                                      weight_decay=0.05),
    "adadelta_maximize": lambda m, ps: m.optim.Adadelta(ps, lr=0.1, maximize=True),
}
LOSSES = ["mse", "l1", "ce_idx", "ce_smooth", "ce_weight", "ce_prob", "bce_logits", "bce",
          "nll"]


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_optimizer_parity(opt):
    _train("ce_idx", OPTIMIZERS[opt])


@pytest.mark.parametrize("opt", ["sgd_momentum", "adam"])
@pytest.mark.parametrize("loss", LOSSES)
def test_loss_parity(loss, opt):
    _train(loss, OPTIMIZERS[opt])


def test_training_actually_moves_parameters():
    """Guard against a vacuous parity pass: parameters change and the loss falls."""
    X, Y = _data("ce_idx")
    net, _ = _models()
    before = [p.detach().numpy().copy() for p in net.parameters()]
    opt = cr.optim.Adam(net.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(net(cr.tensor(X)), cr.tensor(Y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.85 * losses[0]
    assert all(np.abs(b - p.detach().numpy()).max() > 1e-3
               for b, p in zip(before, net.parameters()))


def test_param_groups_parity():
    """Per-group options (a different lr and momentum for the last layer) match torch."""
    X, Y = _data("mse")
    net, ref = _models()

    def groups(model):
        ps = list(model.parameters())
        return [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01, "momentum": 0.5}]
    opt_c = cr.optim.SGD(groups(net), lr=0.05, momentum=0.9)
    opt_t = torch.optim.SGD(groups(ref), lr=0.05, momentum=0.9)
    for step in range(10):
        for m, model, opt in ((cr, net, opt_c), (torch, ref, opt_t)):
            opt.zero_grad()
            _loss(m, "mse", model(m.tensor(X)), m.tensor(Y)).backward()
            opt.step()
    _compare(net, ref, "param groups")
