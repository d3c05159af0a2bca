"""The backend seam, proved without a GPU: a stand-in array type (``tests/standin.py``: not
a ``numpy.ndarray``, refuses implicit conversion to one, as CuPy does) registered as the
``"cuda"`` backend runs the whole op table, nn layers, losses, optimizers, ``func``
transforms and forward mode, and must give the CPU's results with every result left on
the device.  An op that silently falls back to NumPy on the host fails here."""
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import _backend
from backend_checks import (_layers, _losses, _optimizers, _transforms, check_case_on_device,
                            check_training_on_device, check_transform_on_device, table_rows)
from standin import StandIn, standin_backend

ROWS = table_rows()


@pytest.fixture
def cuda_standin():
    """The stand-in registered as the ``"cuda"`` backend for one test."""
    old = _backend.register(standin_backend())
    try:
        yield
    finally:
        _backend.register(old)


@pytest.mark.parametrize("case", [c for _, c in ROWS], ids=[f"{m}-{c.name}" for m, c in ROWS])
def test_op_table_on_standin(cuda_standin, case):
    check_case_on_device(case)


# --- nn layers, losses, optimizers ---------------------------------------------------------

LAYERS = _layers(cr.nn)


@pytest.mark.parametrize("i", range(len(LAYERS)), ids=[type(m[0]).__name__ + str(i)
                                                       for i, m in enumerate(LAYERS)])
def test_layer_training_on_standin(cuda_standin, i):
    _, shape, kind = LAYERS[i]
    check_training_on_device(lambda: _layers(cr.nn)[i][0], shape, kind,
                             lambda y, t: cr.nn.functional.mse_loss(y, t),
                             lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9))


@pytest.mark.parametrize("name,loss", _losses(cr.nn.functional), ids=[n for n, _ in
                                                                     _losses(cr.nn.functional)])
def test_loss_on_standin(cuda_standin, name, loss):
    check_training_on_device(lambda: cr.nn.Linear(6, 4), (5, 6), "float", loss,
                             lambda p: cr.optim.SGD(p, lr=0.1))


@pytest.mark.parametrize("name,opt", _optimizers(cr.optim), ids=[n for n, _ in
                                                                _optimizers(cr.optim)])
def test_optimizer_on_standin(cuda_standin, name, opt):
    check_training_on_device(lambda: cr.nn.Sequential(cr.nn.Linear(6, 5), cr.nn.Tanh(),
                                                      cr.nn.Linear(5, 2)),
                             (4, 6), "float", lambda y, t: ((y - t) ** 2).mean(), opt)


@pytest.mark.parametrize("name,fn", _transforms(), ids=[n for n, _ in _transforms()])
def test_transform_on_standin(cuda_standin, name, fn):
    check_transform_on_device(fn)


# --- the device API on the stand-in: what PyTorch does with a GPU --------------------------

def test_cuda_queries_with_a_backend(cuda_standin):
    assert cr.cuda.is_available() is True and cr.cuda.device_count() == 1
    assert cr.cuda.current_device() == 0 and cr.cuda.is_initialized() is True
    assert cr.cuda.get_device_name() == "chainrule stand-in device"
    assert cr.cuda.synchronize() is None and cr.cuda.empty_cache() is None
    assert cr.device(0) == cr.device("cuda:0")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        cr.zeros(1, device="cuda:1")


def test_device_tensor_holds_the_backend_array_and_prints_its_device(cuda_standin):
    x = cr.tensor([1.0, 2.5], device="cuda", requires_grad=True)
    assert type(x._data) is StandIn
    assert (x.device, x.is_cuda, x.is_cpu, x.get_device()) == (cr.device("cuda", 0), True,
                                                               False, 0)
    # PyTorch's format: the device first, then dtype and autograd suffixes
    assert repr(x) == "tensor([1.0000, 2.5000], device='cuda:0', requires_grad=True)"
    assert repr(x.double() * 2) == ("tensor([2., 5.], device='cuda:0', dtype=torch.float64, "
                                    "grad_fn=<MulBackward0>)")
    assert repr(cr.zeros(0, 2, device="cuda")) == \
        "tensor([], device='cuda:0', size=(0, 2))"
    assert repr(cr.ones(2)) == "tensor([1., 1.])"
    assert x.sum().item() == 3.5 and x.tolist() == [1.0, 2.5]
    assert float(x[1]) == 2.5 and int(x[0]) == 1 and bool(x[0] > 0)
    assert x.type() == "torch.cuda.FloatTensor" and cr.ones(1).type() == "torch.FloatTensor"
    assert cr.ones(1).type("torch.cuda.DoubleTensor").type() == "torch.cuda.DoubleTensor"


def test_numpy_of_a_device_tensor_raises_torchs_error(cuda_standin):
    x = cr.ones(2, device="cuda")
    msg = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
           "tensor to host memory first.")
    with pytest.raises(TypeError) as e:
        x.numpy()
    assert str(e.value) == msg
    with pytest.raises(TypeError):
        np.asarray(x)
    assert np.array_equal(x.numpy(force=True), [1.0, 1.0])
    assert np.array_equal(x.cpu().numpy(), [1.0, 1.0])


def test_mixing_devices_raises_torchs_error_naming_both(cuda_standin):
    a, b = cr.ones(2, device="cuda"), cr.ones(2)
    first = ("Expected all tensors to be on the same device, but found at least two devices, "
             "cuda:0 and cpu!")
    for call in (lambda: a + b, lambda: b * a, lambda: cr.matmul(a, b),
                 lambda: cr.cat([a, b]), lambda: cr.where(a > 0, a, b)):
        with pytest.raises(RuntimeError) as e:
            call()
        assert str(e.value).startswith(first)
    # a 0-d CPU tensor joins a GPU op, as in PyTorch
    assert (a + cr.tensor(2.0)).device == cr.device("cuda:0")


def test_copies_between_devices_carry_the_gradient(cuda_standin):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.cuda()
    assert y.device.type == "cuda" and y.grad_fn.name() == "ToCopyBackward0"
    z = (y * y).cpu()
    assert z.device.type == "cpu" and y.cuda() is y and x.cpu() is x
    z.sum().backward()
    assert x.grad.device.type == "cpu" and x.grad.tolist() == [2.0, 4.0]
    w = cr.tensor([3.0], device="cuda", requires_grad=True)
    w.to("cpu", cr.float64).sum().backward()
    assert w.grad.device.type == "cuda" and w.grad.dtype == cr.float32
    assert x.to(w).device.type == "cuda" and x.to(w).dtype == cr.float32
    assert x.to("cuda:0").device == cr.device("cuda:0")


def test_factories_and_like_functions_on_the_device(cuda_standin):
    x = cr.ones(2, 3, device="cuda")
    made = [cr.zeros(2, device="cuda"), cr.full((2,), 3.0, device="cuda"),
            cr.arange(3, device="cuda"), cr.eye(2, device="cuda"), cr.linspace(0, 1, 3,
                                                                                device="cuda"),
            cr.rand(2, device="cuda"), cr.randn(2, device="cuda"),
            cr.randint(0, 5, (2,), device="cuda"), cr.randperm(3, device="cuda"),
            cr.tensor([1, 2], device="cuda"), cr.as_tensor(np.ones(2), device="cuda"),
            cr.zeros_like(x), cr.ones_like(x), cr.full_like(x, 2), cr.rand_like(x),
            cr.randn_like(x), cr.empty_like(x), x.new_zeros(2), x.new_ones(2),
            x.new_tensor([1.0]), x.new_full((2,), 1.0), cr.tensor(x), cr.bernoulli(x * 0.5),
            cr.multinomial(x[0], 2)]
    for t in made:
        assert type(t._data) is StandIn, t
    assert cr.zeros_like(x, device="cpu").device.type == "cpu"
    cr.manual_seed(3)
    a = cr.rand(4, device="cuda")
    cr.cuda.manual_seed(3)
    assert bool((a == cr.rand(4, device="cuda")).all())
    with cr.device("cuda"):
        assert cr.zeros(1).device.type == "cuda"
    cr.set_default_device("cuda")
    assert cr.get_default_device() == cr.device("cuda", 0)
    assert cr.ones(1).device.type == "cuda"
    cr.set_default_device(None)


def test_module_to_moves_parameters_in_place(cuda_standin):
    net = cr.nn.Sequential(cr.nn.Linear(3, 2), cr.nn.BatchNorm1d(2))
    w = net[0].weight
    assert net.to("cuda") is net and net[0].weight is w
    assert all(type(p._data) is StandIn for p in net.parameters())
    assert all(type(b._data) is StandIn for b in net.buffers())
    y = net(cr.ones(4, 3, device="cuda"))
    y.sum().backward()
    assert w.grad.device.type == "cuda"
    assert net.cpu() is net and w.device.type == "cpu" and w.grad.device.type == "cpu"
    assert net.cuda() is net and w.is_cuda


def test_d2l_style_training_loop_on_the_device(cuda_standin):
    def try_gpu(i=0):
        if cr.cuda.device_count() >= i + 1:
            return cr.device(f"cuda:{i}")
        return cr.device("cpu")
    dev = try_gpu()
    assert dev == cr.device("cuda:0")
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3)).to(dev)
    opt = cr.optim.SGD(net.parameters(), lr=0.5)
    X = cr.randn(32, 4).to(dev)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = cr.nn.functional.cross_entropy(net(X), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    acc = (net(X).argmax(1) == y).float().mean()
    assert acc.device == dev and acc.item() > 0.7


def test_save_and_load_device_tensors_as_pytorch(cuda_standin, tmp_path):
    x = cr.tensor([1.0, 2.0], device="cuda")
    cr.save({"x": x, "c": cr.ones(1)}, tmp_path / "x.pt")
    back = cr.load(tmp_path / "x.pt")             # each tensor where it was saved
    assert back["x"].device.type == "cuda" and back["x"].tolist() == [1.0, 2.0]
    assert back["c"].device.type == "cpu"
    on = cr.load(tmp_path / "x.pt", map_location="cpu")
    assert on["x"].device.type == "cpu" and on["x"].tolist() == [1.0, 2.0]
    on = cr.load(tmp_path / "x.pt", map_location="cuda")
    assert on["x"].device.type == on["c"].device.type == "cuda"
    # a GPU model's parameters saved, loaded into a CPU model and back (copy_ across devices)
    net = cr.nn.Linear(2, 1).cuda()
    cr.save(net.state_dict(), tmp_path / "net.pt")
    cpu_net = cr.nn.Linear(2, 1)
    cpu_net.load_state_dict(cr.load(tmp_path / "net.pt"))
    assert cpu_net.weight.device.type == "cpu"
    assert cpu_net.weight.tolist() == net.weight.tolist()
    gpu_net = cr.nn.Linear(2, 1).cuda()
    gpu_net.load_state_dict(cr.load(tmp_path / "net.pt", map_location="cpu"))
    assert gpu_net.weight.device.type == "cuda" and gpu_net.weight.tolist() == net.weight.tolist()
    _backend.register(None)                      # the same file on a machine without a GPU
    with pytest.raises(RuntimeError, match="map_location=torch.device\\('cpu'\\)"):
        cr.load(tmp_path / "x.pt")
    assert cr.load(tmp_path / "x.pt", map_location="cpu")["x"].tolist() == [1.0, 2.0]


def test_gpu_benchmark_script_runs_on_the_standin():
    """``python -m benchmarks --device cuda`` (benchmarks/gpu.py) at tiny sizes on the
    stand-in: its chainrule, hand-written and gradient-check code paths run (no timing)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--device", "cuda", "--standin",
                          "--quick"], cwd=root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "| mlp small (16, 32-16-4) | ms/step |" in out.stdout
    assert "| chain vec4 (100 ops) | us/op |" in out.stdout


def test_random_layers_init_and_masks_on_the_device(cuda_standin):
    x = cr.ones(4, 6, device="cuda")
    cr.manual_seed(0)
    for layer in (cr.nn.Dropout(0.5), cr.nn.Dropout2d(0.5)):
        y = layer(x.reshape(4, 6, 1, 1) if isinstance(layer, cr.nn.Dropout2d) else x)
        assert type(y._data) is StandIn
        assert set(y.flatten().tolist()) <= {0.0, 2.0}
    assert cr.nn.functional.dropout(x, 1.0).sum().item() == 0.0
    net = cr.nn.Linear(6, 3).cuda()
    cr.nn.init.normal_(net.weight)
    cr.nn.init.xavier_uniform_(net.weight)
    cr.nn.init.constant_(net.bias, 0.5)
    assert type(net.weight._data) is StandIn and net.bias.tolist() == [0.5] * 3
    x.uniform_()
    assert type(x._data) is StandIn and 0 <= x.min().item() and x.max().item() < 1
    oh = cr.nn.functional.one_hot(cr.tensor([0, 2], device="cuda"), 3)
    assert type(oh._data) is StandIn and oh.tolist() == [[1, 0, 0], [0, 0, 1]]
    q = cr.randn(1, 3, 4, device="cuda")
    att = cr.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    ref = cr.nn.functional.scaled_dot_product_attention(q.cpu(), q.cpu(), q.cpu(),
                                                        is_causal=True)
    assert type(att._data) is StandIn
    np.testing.assert_allclose(att.cpu().numpy(), ref.numpy(), rtol=1e-6)
    w = cr.nn.functional.binary_cross_entropy(cr.full((2,), 0.5, device="cuda"),
                                              cr.ones(2, device="cuda"), weight=[1.0, 2.0])
    assert type(w._data) is StandIn
    mha = cr.nn.MultiheadAttention(4, 2, batch_first=True).cuda()
    out, _ = mha(q, q, q)
    assert type(out._data) is StandIn


def test_gradient_clipping_and_state_dict_on_the_device(cuda_standin):
    net = cr.nn.Linear(3, 2).cuda()
    net(cr.ones(2, 3, device="cuda")).sum().backward()
    ref = [p.grad.cpu() for p in net.parameters()]
    total = cr.nn.utils.clip_grad_norm_(net.parameters(), 0.1)
    assert type(total._data) is StandIn
    expect = np.sqrt(sum(float((g ** 2).sum()) for g in ref))
    assert abs(total.item() - expect) < 1e-5
    cr.nn.utils.clip_grad_value_(net.parameters(), 0.01)
    assert all(type(p.grad._data) is StandIn and p.grad.abs().max().item() <= 0.01
               for p in net.parameters())
    sd = net.state_dict()
    assert all(v.device.type == "cuda" for v in sd.values())
    other = cr.nn.Linear(3, 2)
    other.load_state_dict({k: v.cpu() for k, v in sd.items()})
    assert np.array_equal(other.weight.detach().numpy(), net.weight.detach().cpu().numpy())


def test_results_that_numpy_returns_as_views_are_copies_on_the_device(cuda_standin):
    x = cr.arange(4.0, device="cuda")
    for y in (x.flip(0), cr.einsum("i->i", x)):
        y.add_(1)
        assert x.tolist() == [0.0, 1.0, 2.0, 3.0]
    v = x[1:3]                          # a view op: writes through, as in PyTorch
    v.mul_(10)
    assert x.tolist() == [0.0, 10.0, 20.0, 3.0] and v._base is x


def test_a_training_step_reads_the_device_once(cuda_standin, monkeypatch):
    # each value read from a GPU waits for the device (a synchronisation); a training step
    # with cross_entropy reads one: the smallest and largest class index, together
    # (PyTorch checks on the device and reads none; loss.item() is the user's)
    reads = []
    for name in ("__bool__", "__float__", "__int__", "__index__", "item", "tolist", "get"):
        orig = getattr(StandIn, name)
        monkeypatch.setattr(StandIn, name,
                            lambda self, *a, _o=orig, _n=name: reads.append(_n) or _o(self, *a))
    dev = cr.device("cuda")
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3)).to(dev)
    opt = cr.optim.SGD(net.parameters(), lr=0.5)
    X = cr.randn(32, 4).to(dev)
    y = cr.randint(0, 3, (32,)).to(dev)
    for reduction, expected in (("mean", 1), ("sum", 1), ("none", 1)):
        del reads[:]
        opt.zero_grad()
        loss = cr.nn.functional.cross_entropy(net(X), y, reduction=reduction)
        loss.sum().backward()
        opt.step()
        assert len(reads) == expected, (reduction, reads)
    del reads[:]
    y[0] = -100             # an ignored target: the full check and the total weight are read too
    cr.nn.functional.cross_entropy(net(X), y).backward()
    assert len(reads) == 3, reads


@pytest.mark.parametrize("scalar_grad", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
def test_a_cpu_scalar_tensor_in_a_device_op_differentiates(cuda_standin, scalar_grad,
                                                           create_graph):
    # PyTorch lets a 0-d CPU tensor join a device op; its saved value must be used on the
    # device by the backward (it raised there), and its own gradient lands on the CPU
    s = cr.tensor(2.0, requires_grad=scalar_grad)
    x = cr.tensor([1.0, -3.0, 0.5], device="cuda", requires_grad=True)
    y = (x * s * x).sum()
    y.backward(create_graph=create_graph)
    assert x.grad.device == cr.device("cuda:0")
    np.testing.assert_allclose(x.grad.detach().cpu().numpy(), [4.0, -12.0, 2.0])
    if scalar_grad:
        assert s.grad.device == cr.device("cpu") and type(s.grad._data) is np.ndarray
        assert s.grad.item() == 1.0 + 9.0 + 0.25
    else:
        assert s.grad is None
