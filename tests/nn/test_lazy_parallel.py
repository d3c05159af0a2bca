"""nn.LazyLinear / UninitializedParameter (the book's deferred-initialisation cells) and
nn.DataParallel on one device, against PyTorch."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def _book_lazy_cells(m):
    """The deferred-initialisation section's cells, returning what they print."""
    net = m.nn.Sequential(m.nn.LazyLinear(256), m.nn.ReLU(), m.nn.LazyLinear(10))
    shown = [repr(net[0].weight), repr(net)]
    X = m.rand(2, 20)
    shown.append(tuple(net(X).shape))
    shown.append(tuple(net[0].weight.shape))
    shown.append(repr(net))
    shown.append(type(net[0]).__name__)
    shown.append(type(net[0].weight).__name__)
    return shown


def test_book_deferred_initialisation_cells_print_what_torch_prints():
    assert _book_lazy_cells(cr) == _book_lazy_cells(torch)


def test_uninitialised_parameter_errors_match_torch():
    for m in (torch, cr):
        w = m.nn.LazyLinear(3).weight
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
            w.shape
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            w.numel()
        assert w.requires_grad and w.dtype == m.float32


def test_lazy_init_statistics_and_parity_after_materialising():
    cr.manual_seed(0)
    lazy = nn.LazyLinear(300)
    x = cr.rand(4, 50)
    out = lazy(x)
    w, b = lazy.weight.detach().numpy(), lazy.bias.detach().numpy()
    bound = 1 / np.sqrt(50)                                  # Linear's init with fan_in 50
    assert w.shape == (300, 50) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 0.01
    t = torch.nn.Linear(50, 300)
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lazy.state_dict().items()})
    np.testing.assert_allclose(out.detach().numpy(), t(torch.tensor(x.numpy())).detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    assert isinstance(lazy, nn.Linear) and lazy.in_features == 50


def test_optimizer_made_before_the_first_forward_trains_the_materialised_parameters():
    """The book builds the optimizer from a LazyLinear's parameters before any forward."""
    net = nn.LazyLinear(1, dtype=cr.float64)
    net.weight.data.normal_(0, 0.01)          # (on the empty parameter: a no-op, as in torch)
    net.bias.data.fill_(0)
    params = list(net.parameters())
    opt = cr.optim.SGD(net.parameters(), lr=0.1)
    x, y = cr.rand(8, 3, dtype=cr.float64), cr.ones(8, 1, dtype=cr.float64)
    net(x)
    w0 = net.weight.detach().clone()
    tnet = torch.nn.Linear(3, 1).double()
    tnet.load_state_dict({k: torch.tensor(v.numpy()) for k, v in net.state_dict().items()})
    topt = torch.optim.SGD(tnet.parameters(), lr=0.1)
    for _ in range(3):
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = ((tnet(torch.tensor(x.numpy())) - torch.tensor(y.numpy())) ** 2).mean()
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    assert params[0] is net.weight and not np.allclose(net.weight.detach().numpy(), w0.numpy())
    np.testing.assert_allclose(net.weight.detach().numpy(), tnet.weight.detach().numpy(),
                               rtol=1e-12)


def test_lazy_load_state_dict_materialises_and_shared_lazy_layers():
    src = nn.Linear(5, 4)
    lazy = nn.LazyLinear(4)
    lazy.load_state_dict(src.state_dict())
    assert tuple(lazy.weight.shape) == (4, 5)
    x = cr.rand(2, 5)
    np.testing.assert_array_equal(lazy(x).detach().numpy(), src(x).detach().numpy())
    assert repr(lazy) == "Linear(in_features=5, out_features=4, bias=True)"
    # the parameter-management section's shared lazy layer
    shared = nn.LazyLinear(8)
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(),
                        nn.LazyLinear(1))
    assert tuple(net(cr.rand(2, 4)).shape) == (2, 1)
    net[2].weight.data[0, 0] = 100
    assert bool((net[2].weight.data[0] == net[4].weight.data[0]).all())
    assert [(n, tuple(p.shape)) for n, p in net.named_parameters()] == [
        ("0.weight", (8, 4)), ("0.bias", (8,)), ("2.weight", (8, 8)), ("2.bias", (8,)),
        ("6.weight", (1, 8)), ("6.bias", (1,))]


def test_lazy_without_bias_and_float64():
    for m in (torch, cr):
        lin = m.nn.LazyLinear(3, bias=False, dtype=m.float64)
        assert repr(lin) == "LazyLinear(in_features=0, out_features=3, bias=False)"
        assert lin(m.ones(2, 4, dtype=m.float64)).dtype == m.float64
        assert lin.bias is None and tuple(lin.weight.shape) == (3, 4)


# --- DataParallel ---------------------------------------------------------------------------

def test_data_parallel_wraps_like_torch_without_gpus():
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    cnet = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tdp, cdp = torch.nn.DataParallel(tnet), nn.DataParallel(cnet, device_ids=[cr.device("cpu")])
    assert [(k, tuple(v.shape)) for k, v in tdp.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in cdp.state_dict().items()]
    assert repr(cdp) == repr(tdp)
    assert cdp.module is cnet and cdp.device_ids == tdp.device_ids == []
    cdp.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tdp.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    tx, cx = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    tdp(tx).sum().backward()
    cdp(cx).sum().backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    for (k, tp), cp in zip(tdp.named_parameters(), cdp.parameters()):
        np.testing.assert_allclose(cp.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=k)
    assert [k for k, _ in cdp.named_parameters()] == [k for k, _ in tdp.named_parameters()]
