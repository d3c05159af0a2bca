"""Module, Parameter, layers and init: behaviour compared with PyTorch."""
import copy
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def _twin(m):
    """The same architecture built from torch.nn."""
    return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.ReLU(),
                           m.nn.Sequential(m.nn.Linear(4, 2, bias=False), m.nn.Tanh()))


# --- Parameter ---------------------------------------------------------------------------

def test_parameter_from_computed_tensor_is_leaf():
    x = cr.ones(2, requires_grad=True)
    y = x * 3
    p = nn.Parameter(y)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    assert isinstance(p, cr.Tensor)
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [6.0, 6.0])
    assert x.grad is None                         # no gradient flows through a Parameter


def test_parameter_repr_and_options():
    t = torch.nn.Parameter(torch.tensor([1.5, -2.0]))
    c = nn.Parameter(cr.tensor([1.5, -2.0]))
    assert repr(c) == repr(t)
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        nn.Parameter(cr.tensor([1, 2]))
    assert nn.Parameter().shape == (0,)


def test_parameter_shares_memory_and_deepcopies():
    t = cr.zeros(3)
    p = nn.Parameter(t)
    with cr.no_grad():
        p.add_(1.0)
    assert t.tolist() == [1.0, 1.0, 1.0]
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad
    with cr.no_grad():
        q.add_(1.0)
    assert p.tolist() == [1.0, 1.0, 1.0]


def test_parameter_ops_give_plain_tensors():
    p = nn.Parameter(cr.ones(2))
    y = p * 2
    assert type(y) is cr.Tensor and y.grad_fn is not None


# --- Module registration and traversal ----------------------------------------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(cr.ones(1))
        self.register_buffer("running", cr.zeros(4))
        self.register_buffer("tmp", cr.zeros(1), persistent=False)
        self.not_a_param = cr.ones(2)            # plain tensors are just attributes

    def forward(self, x):
        return self.fc(x) * self.scale + self.running


def test_registration_and_traversal():
    net = Net()
    # torch's order: the module's own parameters first, then its children's
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc.weight", "fc.bias"]
    assert [n for n, _ in net.named_buffers()] == ["running", "tmp"]
    assert list(net.state_dict()) == ["scale", "running", "fc.weight", "fc.bias"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Linear"]
    assert [n for n, _ in net.named_children()] == ["fc"]
    assert len(list(net.parameters())) == 3
    assert net.fc.weight is net.fc._parameters["weight"]
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        net.nope
    with pytest.raises(TypeError, match="cannot assign"):
        net.scale = cr.ones(1)
    net.scale = None
    assert [n for n, _ in net.named_parameters()] == ["fc.weight", "fc.bias"]
    del net.fc
    assert list(net.named_parameters()) == []


def test_state_dict_keys_and_torch_order():
    c, t = _twin(cr), _twin(torch)
    assert list(c.state_dict()) == list(t.state_dict())
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [tuple(p.shape) for p in c.parameters()] == [tuple(p.shape) for p in t.parameters()]
    sd = c.state_dict()
    assert not any(v.requires_grad for v in sd.values())
    assert all(v.requires_grad for v in c.state_dict(keep_vars=True).values())


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_repr_matches_torch():
    def build(m):
        return m.nn.Sequential(m.nn.Linear(2, 3), m.nn.ReLU(),
                               m.nn.Sequential(m.nn.Dropout(0.2), m.nn.Flatten()),
                               m.nn.CrossEntropyLoss(), m.nn.MSELoss(reduction="sum"),
                               m.nn.BCEWithLogitsLoss(), m.nn.Identity(), m.nn.Tanh(),
                               m.nn.Sigmoid(), m.nn.NLLLoss(), m.nn.ReLU(inplace=True),
                               m.nn.Linear(3, 1, bias=False), m.nn.Softmax(dim=1),
                               m.nn.LogSoftmax(dim=-1), m.nn.BCELoss(), m.nn.L1Loss())
    assert repr(build(cr)) == repr(build(torch))
    assert repr(cr.nn.Module()) == repr(torch.nn.Module())


def test_load_state_dict_roundtrip_and_errors_match_torch():
    a, b = _twin(cr), _twin(cr)
    result = b.load_state_dict(a.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    for p, q in zip(a.parameters(), b.parameters()):
        assert (p == q).all() and p is not q
    # the loaded values are copies: changing the source later does not leak
    with cr.no_grad():
        a[0].weight.add_(1.0)
    assert not (a[0].weight == b[0].weight).all()

    for m in (cr, torch):
        lin = m.nn.Linear(2, 3)
        bad = {"weight": m.zeros(3, 2), "foo": m.zeros(1)}
        with pytest.raises(RuntimeError) as info:
            lin.load_state_dict(bad)
        msg = str(info.value)
        with pytest.raises(RuntimeError) as info:
            lin.load_state_dict({"weight": m.zeros(3, 3), "bias": m.zeros(3)})
        size_msg = str(info.value)
        keys = lin.load_state_dict(bad, strict=False)
        if m is torch:
            torch_msgs = (msg, size_msg, repr(keys))
        else:
            cr_msgs = (msg, size_msg, repr(keys))
    assert cr_msgs == torch_msgs
    assert 'Missing key(s) in state_dict: "bias"' in cr_msgs[0]


def test_zero_grad_train_eval_apply_to():
    net = Net()
    net(cr.ones(2, 3)).sum().backward()
    assert net.fc.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert (net.fc.weight.grad == 0).all()
    net.zero_grad()
    assert net.fc.weight.grad is None
    seq = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert seq.training and seq[1].training
    assert seq.eval() is seq and not seq[1].training
    seq.train()
    assert seq[1].training
    seen = []
    seq.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Dropout", "Sequential"]
    net.double()
    assert net.fc.weight.dtype == cr.float64 and net.running.dtype == cr.float64
    assert isinstance(net.fc.weight, nn.Parameter) and net.fc.weight.is_leaf
    net.to(cr.float32)
    assert net.scale.dtype == cr.float32
    assert net(cr.ones(1, 3)).dtype == cr.float32


def test_forward_hooks_and_missing_forward():
    lin = nn.Linear(2, 2)
    h = lin.register_forward_hook(lambda mod, args, out: out * 0)
    assert (lin(cr.ones(1, 2)) == 0).all()
    h.remove()
    assert not (lin(cr.ones(1, 2)) == 0).all()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


# --- layers ---------------------------------------------------------------------------------

def test_linear_matches_torch_with_copied_weights():
    c = nn.Linear(4, 3, dtype=cr.float64)
    t = torch.nn.Linear(4, 3, dtype=torch.float64)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(c.weight.detach().numpy()))
        t.bias.copy_(torch.from_numpy(c.bias.detach().numpy()))
    x = np.random.default_rng(0).standard_normal((5, 4))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = c(xc), t(xt)
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    yc.sin().sum().backward()
    yt.sin().sum().backward()
    for a, b in ((xc.grad, xt.grad), (c.weight.grad, t.weight.grad), (c.bias.grad, t.bias.grad)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    assert c.weight.dtype == cr.float64
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_default_init_bounds_and_spread():
    cr.manual_seed(0)
    lin = nn.Linear(100, 300)
    bound = 1 / math.sqrt(100)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.98 * bound            # fills the whole interval
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound * 5   # uniform's std
    assert abs(w.mean()) < 0.02 * bound * 5


def test_sequential_container():
    a, b = nn.Linear(2, 3), nn.ReLU()
    seq = nn.Sequential(a, b, nn.Linear(3, 1))
    assert len(seq) == 3 and seq[0] is a and seq[-2] is b
    assert list(seq)[1] is b
    sub = seq[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is a
    with pytest.raises(IndexError):
        seq[3]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    out = seq(cr.ones(5, 2))
    assert out.shape == (5, 1) and ((out > 0) & (out < 1)).all()
    from collections import OrderedDict
    named = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"]


def test_activation_and_shape_modules_vs_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for name, args in (("ReLU", ()), ("Sigmoid", ()), ("Tanh", ()), ("Flatten", ()),
                       ("Flatten", (0, 1)), ("Identity", ()), ("Softmax", (1,)),
                       ("LogSoftmax", (-1,))):
        c = getattr(nn, name)(*args)(cr.tensor(x))
        t = getattr(torch.nn, name)(*args)(torch.tensor(x))
        assert tuple(c.shape) == tuple(t.shape)
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-12)


def test_dropout_module_train_and_eval():
    drop = nn.Dropout(0.5)
    x = cr.ones(200)
    cr.manual_seed(0)
    y = drop(x)
    assert set(np.unique(y.numpy()).tolist()) == {0.0, 2.0}
    drop.eval()
    assert (drop(x) == x).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_loss_modules_match_functional_and_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    idx = np.array([0, 2, 1, 2])
    prob = rng.uniform(0, 1, (4, 3))
    w = np.array([0.5, 1.0, 2.0])
    for name, kw, target in (("MSELoss", {}, prob), ("L1Loss", {"reduction": "sum"}, prob),
                             ("CrossEntropyLoss", {"label_smoothing": 0.1}, idx),
                             ("CrossEntropyLoss", {"weight": "w", "reduction": "none"}, idx),
                             ("NLLLoss", {"ignore_index": 2}, idx),
                             ("BCEWithLogitsLoss", {"pos_weight": "w"}, prob),
                             ("BCELoss", {"weight": "w"}, prob)):
        inp = 1 / (1 + np.exp(-x)) if name == "BCELoss" else x
        vals = []
        for m in (cr, torch):
            kws = {k: (m.tensor(w) if v == "w" else v) for k, v in kw.items()}
            vals.append(getattr(m.nn, name)(**kws)(m.tensor(inp), m.tensor(target)).numpy())
        np.testing.assert_allclose(vals[0], vals[1], rtol=1e-10, err_msg=name)
    assert list(nn.CrossEntropyLoss(weight=cr.ones(3)).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        nn.MSELoss(reduction="avg")


# --- init ---------------------------------------------------------------------------------

def test_init_uniform_bounds():
    cr.manual_seed(1)
    w = cr.empty(64, 32)
    nn.init.kaiming_uniform_(w)                          # a=0, leaky_relu -> sqrt(2) gain
    bound = math.sqrt(2.0) * math.sqrt(3.0 / 32)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.97 * bound
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(2.0) * math.sqrt(3.0 / 64)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.97 * bound
    nn.init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / (32 + 64))
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.97 * bound
    nn.init.uniform_(w, -0.5, 3.0)
    assert w.numpy().min() >= -0.5 and w.numpy().max() < 3.0


def test_init_normal_statistics():
    cr.manual_seed(2)
    w = cr.empty(200, 100)
    nn.init.normal_(w, mean=1.0, std=0.5)
    assert abs(w.numpy().mean() - 1.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    nn.init.xavier_normal_(w)
    assert abs(w.numpy().std() - math.sqrt(2.0 / 300)) < 0.003
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2.0 / 100)) < 0.003


def test_init_constants_gain_and_errors():
    p = nn.Parameter(cr.ones(2, 3))                    # works on leaves that require grad
    assert nn.init.zeros_(p) is p and (p == 0).all() and p.requires_grad
    assert (nn.init.ones_(p) == 1).all()
    assert (nn.init.constant_(p, 0.25) == 0.25).all()
    assert p.grad_fn is None
    for args in (("linear",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                 ("leaky_relu", 0.2), ("selu",), ("conv2d",)):
        assert nn.init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))
    for m in (cr, torch):
        with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
            m.nn.init.xavier_uniform_(m.empty(3))
        with pytest.raises(ValueError, match="Unsupported nonlinearity"):
            m.nn.init.calculate_gain("swishy")


def test_init_is_seeded():
    cr.manual_seed(5)
    a = nn.Linear(4, 4).weight.detach().numpy().copy()
    cr.manual_seed(5)
    b = nn.Linear(4, 4).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)
    g = cr.Generator().manual_seed(7)
    w1 = nn.init.uniform_(cr.empty(3), generator=g).numpy().copy()
    g.manual_seed(7)
    np.testing.assert_array_equal(w1, nn.init.uniform_(cr.empty(3), generator=g).numpy())


def test_linear_records_pytorch_nodes():
    # nn.Linear / F.linear: AddmmBackward0 (input, TBackward0 of the weight) for a matrix
    # input with a bias, MmBackward0 without, ViewBackward0 around addmm for other ranks
    def graph(m, shape, bias):
        m.manual_seed(0)
        lin = m.nn.Linear(4, 3, bias=bias)
        y = lin(m.ones(shape, requires_grad=True))
        n = y.grad_fn
        return n.name(), [None if a is None else type(a).__name__.split("::")[-1]
                          for a, _ in n.next_functions]
    for shape in [(2, 4), (4,), (2, 5, 4)]:
        for bias in (True, False):
            if shape != (2, 4) and not bias:
                continue            # (PyTorch's squeeze/unsafe-view wrappers differ there)
            assert graph(cr, shape, bias) == graph(torch, shape, bias), (shape, bias)


def test_addmm_beta_zero_ignores_input_like_torch():
    res = []
    for m in (cr, torch):
        c = m.tensor([float("nan"), 1.0], requires_grad=True)
        a = m.tensor([[1.0, 2.0]], requires_grad=True)
        b = m.tensor([[3.0, 4.0], [5.0, 6.0]], requires_grad=True)
        y = m.addmm(c, a, b, beta=0, alpha=2.0)
        y.sum().backward()
        res.append([y.detach().numpy(), c.grad.numpy(), a.grad.numpy(), b.grad.numpy()])
    for u, v in zip(*res):
        np.testing.assert_array_equal(u, v)
