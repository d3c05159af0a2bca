"""Devices: chainrule.device, device= on factories, Tensor.to/.cuda/.cpu, Module.to,
the default device, chainrule.cuda and chainrule.backends -- each against PyTorch (CPU
build) -- and d2l's device helpers run unchanged on both libraries."""
import copy
import os
import pickle
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
import torch

import chainrule
from chainrule import _device
from chainrule import cuda as cr_cuda

LIBS = (chainrule, torch)


@pytest.fixture(autouse=True)
def _default_device_reset():
    yield
    torch.set_default_device(None)
    chainrule.set_default_device(None)


def _outcome(fn):
    """('ok', value) or ('raise', exception class name, first line of the message)."""
    try:
        return ("ok", fn())
    except Exception as e:           # noqa: BLE001  (compared with PyTorch's)
        return ("raise", type(e).__name__, str(e).splitlines()[0] if str(e) else "")


def _same_error(f, same_text=True):
    """``f(m)`` raises the same class (and, unless ``same_text=False``, the same first line
    of the message) in chainrule and torch; returns chainrule's full message."""
    with pytest.raises(Exception) as ref:
        f(torch)
    with pytest.raises(type(ref.value)) as got:
        f(chainrule)
    if same_text:
        assert str(got.value).splitlines()[0] == str(ref.value).splitlines()[0]
    return str(got.value)


# --- device objects ----------------------------------------------------------------------

DEVICE_ARGS = [("cpu",), ("cuda",), ("cuda:0",), ("cuda", 0), ("cuda:1",), ("cuda", 1),
               ("cpu:0",), ("cpu", 1), ("mps",), ("meta",), ("cuda", None)]


@pytest.mark.parametrize("args", DEVICE_ARGS, ids=str)
def test_device_attributes_repr_str_match_torch(args):
    a, b = chainrule.device(*args), torch.device(*args)
    assert (repr(a), str(a), a.type, a.index) == (repr(b), str(b), b.type, b.index)
    assert chainrule.device(a) == a and chainrule.device(str(a)) == a
    assert pickle.loads(pickle.dumps(a)) == a and copy.deepcopy(a) == a


def test_device_keywords_and_equality_and_hash_match_torch():
    assert repr(chainrule.device(type="cuda", index=1)) == repr(torch.device(type="cuda", index=1))
    cr = [chainrule.device(*a) for a in DEVICE_ARGS]
    th = [torch.device(*a) for a in DEVICE_ARGS]
    eq_cr = [[x == y for y in cr] for x in cr]
    eq_th = [[x == y for y in th] for x in th]
    assert eq_cr == eq_th
    assert [[x != y for y in cr] for x in cr] == [[x != y for y in th] for x in th]
    for i, x in enumerate(cr):
        for j, y in enumerate(cr):
            if eq_cr[i][j]:
                assert hash(x) == hash(y)
    assert len(set(cr)) == len(set(th))
    # a device never equals a string (PyTorch: device('cpu') == 'cpu' is False)
    assert (chainrule.device("cpu") == "cpu") is (torch.device("cpu") == "cpu") is False
    assert bool(chainrule.device("cpu")) is True


def test_device_is_read_only():
    d = chainrule.device("cpu")
    with pytest.raises(AttributeError):
        d.type = "cuda"
    with pytest.raises(AttributeError):
        d.index = 0
    assert d.type == "cpu" and d.index is None


BAD_DEVICES = [("gpu",), ("cuda:x",), ("cuda:-1",), ("",), (" cuda",), ("CUDA",), ("cuda:01",),
               ("cuda:",), ("cuda:0 ",), ("cuda:1", 0), ("cuda", -1), (0,), (None,),
               (("cuda", 0),), ("cuda", 0.0), ("cuda", True), ("cuda", "0")]


@pytest.mark.parametrize("args", BAD_DEVICES, ids=str)
def test_bad_devices_raise_torchs_error(args):
    _same_error(lambda m: m.device(*args))


def test_bad_device_messages_say_what_to_use():
    with pytest.raises(RuntimeError, match="(?s)device string: gpu.*'cuda'"):
        chainrule.device("gpu")
    with pytest.raises(RuntimeError, match="(?s)accelerator.*'cpu'"):
        chainrule.device(0)


def test_tensor_device():
    for m in LIBS:
        x = m.zeros(2, 3)
        assert repr(x.device) == "device(type='cpu')" and str(x.device) == "cpu"
        assert x.device == m.device("cpu") and x.device != m.device("cuda")
        assert (x.is_cuda, x.is_cpu, x.get_device()) == (False, True, -1)
    assert chainrule.tensor([1.0], requires_grad=True).exp().device == chainrule.device("cpu")


@pytest.mark.parametrize("make", [
    lambda m: m.zeros(2), lambda m: m.tensor([[1.5, 2.0]], requires_grad=True),
    lambda m: m.arange(3), lambda m: m.tensor(True),
    lambda m: m.ones(2, dtype=m.float64) * 2])
def test_printing_a_cpu_tensor_has_no_device_suffix(make):
    assert repr(make(chainrule)) == repr(make(torch))
    assert "device" not in repr(make(chainrule))


# --- factories --------------------------------------------------------------------------

_x = {m: m.tensor([[1.0, 2.0], [3.0, 4.0]]) for m in LIBS}

FACTORIES = {
    "tensor": lambda m, d: m.tensor([1.0, 2.0], device=d),
    "as_tensor": lambda m, d: m.as_tensor([1, 2], device=d),
    "as_tensor_tensor": lambda m, d: m.as_tensor(_x[m], device=d),
    "zeros": lambda m, d: m.zeros(2, 3, device=d),
    "ones": lambda m, d: m.ones((2,), device=d, dtype=m.int64),
    "full": lambda m, d: m.full((2,), 7.5, device=d),
    "empty": lambda m, d: m.empty(2, device=d).shape,
    "arange": lambda m, d: m.arange(1, 7, 2, device=d),
    "linspace": lambda m, d: m.linspace(0, 1, 5, device=d),
    "logspace": lambda m, d: m.logspace(0, 2, 3, device=d),
    "eye": lambda m, d: m.eye(2, 3, device=d),
    "zeros_like": lambda m, d: m.zeros_like(_x[m], device=d),
    "ones_like": lambda m, d: m.ones_like(_x[m], device=d),
    "full_like": lambda m, d: m.full_like(_x[m], 3, device=d),
    "empty_like": lambda m, d: m.empty_like(_x[m], device=d).shape,
    "rand": lambda m, d: (m.rand(2, 3, device=d).shape, m.rand(2, device=d).dtype),
    "randn": lambda m, d: (m.randn(2, 3, device=d).shape, m.randn(2, device=d).dtype),
    "randint": lambda m, d: (m.randint(0, 5, (3,), device=d).shape,
                             m.randint(0, 5, (3,), device=d).dtype),
    "normal": lambda m, d: m.normal(0.0, 1.0, (2, 2), device=d).shape,
    "randperm": lambda m, d: m.randperm(4, device=d).sort().values,
    "rand_like": lambda m, d: m.rand_like(_x[m], device=d).shape,
    "randn_like": lambda m, d: m.randn_like(_x[m], device=d).shape,
    "randint_like": lambda m, d: m.randint_like(_x[m], 3, device=d).shape,
    "new_zeros": lambda m, d: _x[m].new_zeros(2, device=d),
    "new_ones": lambda m, d: _x[m].new_ones((1, 2), device=d),
    "new_full": lambda m, d: _x[m].new_full((2,), 4.0, device=d),
    "new_tensor": lambda m, d: _x[m].new_tensor([5, 6], device=d),
    "new_empty": lambda m, d: _x[m].new_empty(3, device=d).shape,
}


def _np(v):
    if isinstance(v, (torch.Tensor, chainrule.Tensor)):
        return (str(v.dtype).replace("torch.", ""), v.detach().numpy().tolist(), str(v.device))
    if isinstance(v, tuple):
        return tuple(_np(e) for e in v)
    return str(v).replace("torch.", "")


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("dev", ["cpu", "cpu-device", "cpu:0", None])
def test_factory_on_cpu_matches_torch(name, dev):
    f = FACTORIES[name]
    got = f(chainrule, chainrule.device("cpu") if dev == "cpu-device" else dev)
    want = f(torch, torch.device("cpu") if dev == "cpu-device" else dev)
    assert _np(got) == _np(want)


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("dev", ["cuda", "cuda:0", "cuda-device", "gpu", "cuda:x", 0, "mps"])
def test_factory_on_an_unavailable_device_raises_torchs_error(name, dev):
    f = FACTORIES[name]
    if dev == "mps":        # PyTorch: NotImplementedError from its dispatcher; chainrule too
        with pytest.raises(NotImplementedError, match="no 'mps' device.*device='cpu'"):
            f(chainrule, dev)
        return
    msg = _same_error(lambda m: f(m, m.device("cuda") if dev == "cuda-device" else dev))
    if dev in ("cuda", "cuda:0", "cuda-device"):
        assert "pip install cupy-cuda13x" in msg and "GPU backend" in msg


def test_from_numpy_has_no_device_argument_as_in_torch():
    msg = _same_error(lambda m: m.from_numpy(np.zeros(2), device="cpu"), same_text=False)
    assert "device" in msg


def test_generator_device():
    assert chainrule.Generator("cpu").device == chainrule.device("cpu")
    assert repr(chainrule.Generator().device) == repr(torch.Generator().device)
    for m in LIBS:
        with pytest.raises(RuntimeError, match="CUDA generator"):
            m.Generator("cuda")


# --- Tensor.to / .cpu / .cuda ------------------------------------------------------------

IDENTITY = {
    "to(cpu)": lambda m, x: x.to("cpu"),
    "to(device)": lambda m, x: x.to(m.device("cpu")),
    "to(device=)": lambda m, x: x.to(device="cpu"),
    "to(other)": lambda m, x: x.to(m.ones(1)),
    "to()": lambda m, x: x.to(),
    "to(None)": lambda m, x: x.to(None),
    "to(dtype=None)": lambda m, x: x.to(dtype=None),
    "to(same dtype)": lambda m, x: x.to(m.float32),
    "to(cpu, same dtype)": lambda m, x: x.to("cpu", m.float32),
    "to(non_blocking)": lambda m, x: x.to("cpu", non_blocking=True),
    "cpu()": lambda m, x: x.cpu(),
    # not self: a copy
    "to(cpu:0)": lambda m, x: x.to("cpu:0"),
    "to(copy=True)": lambda m, x: x.to("cpu", copy=True),
    "to(dtype, copy=True)": lambda m, x: x.to(m.float32, copy=True),
    "to(cpu, dtype)": lambda m, x: x.to("cpu", m.float64),
    "to(device, dtype)": lambda m, x: x.to(m.device("cpu"), m.float64),
    "to(dtype=, device=)": lambda m, x: x.to(dtype=m.float64, device="cpu"),
    "to(device=, dtype=)": lambda m, x: x.to(device=m.device("cpu"), dtype=m.int64),
    "to(int tensor)": lambda m, x: x.to(m.tensor([1])),
    "to(float)": lambda m, x: x.to(float),
    "to(cpu, dtype, True, True)": lambda m, x: x.to("cpu", m.float16, False, True),
}


@pytest.mark.parametrize("name", sorted(IDENTITY))
def test_to_returns_self_or_a_converted_copy_as_torch(name):
    f = IDENTITY[name]
    results = {}
    for m in LIBS:
        x = m.tensor([1.5, -2.0], requires_grad=True)
        y = f(m, x)
        node = type(y.grad_fn).__name__ if y.grad_fn is not None else None
        results[m] = (y is x, _np(y), y.requires_grad, node)
    assert results[chainrule] == results[torch]


def test_to_device_and_dtype_passes_the_gradient_back():
    grads = []
    for m in LIBS:
        x = m.tensor([1.5, -2.0], requires_grad=True)
        (x.to("cpu", m.float64) ** 2).sum().backward()
        grads.append((str(x.grad.dtype), x.grad.tolist()))
    assert grads[0][1] == grads[1][1] and grads[0][0].endswith("float32")


@pytest.mark.parametrize("call", [
    lambda m, x: x.to("cpu", "cuda"), lambda m, x: x.to(m.float64, "cpu"),
    lambda m, x: x.to(x, m.float64), lambda m, x: x.to("cpu", device="cpu"),
    lambda m, x: x.to(m.float64, dtype=m.float32), lambda m, x: x.to("cpu", m.float64, 1)],
    ids=["two devices", "dtype then device", "tensor then dtype", "device twice",
         "dtype twice", "non_blocking not a bool"])
def test_to_with_a_bad_combination_raises_type_error(call):
    for m in LIBS:
        with pytest.raises(TypeError, match="invalid combination of arguments"):
            call(m, m.zeros(2))


@pytest.mark.parametrize("call", [
    lambda m, x: x.to("cuda"), lambda m, x: x.to("cuda:0"), lambda m, x: x.to(m.device("cuda")),
    lambda m, x: x.to("cuda", m.float64), lambda m, x: x.to(device="cuda"),
    lambda m, x: x.cuda(), lambda m, x: x.cuda("cuda:1"), lambda m, x: x.cuda(m.device("cuda")),
    lambda m, x: x.cuda(non_blocking=True),
    lambda m, x: x.cuda(0), lambda m, x: x.cuda(-1), lambda m, x: x.cuda("cpu"),
    lambda m, x: x.to(0), lambda m, x: x.to("gpu"), lambda m, x: x.to("cuda:x")])
def test_moving_a_tensor_to_an_unavailable_device_raises_torchs_error(call):
    _same_error(lambda m: call(m, m.zeros(2)))


def test_cuda_request_message_says_what_to_install():
    with pytest.raises(AssertionError) as e:
        chainrule.zeros(2).cuda()
    lines = str(e.value).splitlines()
    assert lines[0] == "Torch not compiled with CUDA enabled"
    assert "pip install cupy-cuda13x" in lines[1] and "GPU backend" in lines[1]
    assert "device='cpu'" in lines[1]


def test_cuda_message_when_cupy_is_installed(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "cupy" else real(name, *a))
    with pytest.raises(AssertionError, match="CuPy is installed, but chainrule's GPU backend"):
        chainrule.zeros(2, device="cuda")


# --- Module.to / .cuda / .cpu ------------------------------------------------------------

def _linear(m):
    net = m.nn.Linear(3, 2)
    with m.no_grad():
        net.weight.copy_(m.tensor([[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]]))
        net.bias.copy_(m.tensor([0.05, -0.05]))
    return net


MODULE_CALLS = {
    "to(cpu)": lambda m, n: n.to("cpu"),
    "to(device)": lambda m, n: n.to(m.device("cpu")),
    "to(device=)": lambda m, n: n.to(device="cpu"),
    "to(cpu, float64)": lambda m, n: n.to("cpu", m.float64),
    "to(dtype=, device=)": lambda m, n: n.to(dtype=m.float64, device=m.device("cpu")),
    "to(float64 tensor)": lambda m, n: n.to(m.zeros(1, dtype=m.float64)),
    "to(cpu:0)": lambda m, n: n.to("cpu:0"),
    "cpu()": lambda m, n: n.cpu(),
}


@pytest.mark.parametrize("name", sorted(MODULE_CALLS))
def test_module_to_cpu_matches_torch(name):
    res = {}
    for m in LIBS:
        net = _linear(m)
        w = net.weight
        out = MODULE_CALLS[name](m, net)
        res[m] = (out is net, net.weight is w, _np(net.weight.detach()),
                  _np(net(m.ones(1, 3, dtype=net.weight.dtype)).detach()))
    assert res[chainrule] == res[torch]


@pytest.mark.parametrize("call", [
    lambda m, n: n.cuda(), lambda m, n: n.cuda(0), lambda m, n: n.to("cuda"),
    lambda m, n: n.to(m.device("cuda", 0)), lambda m, n: n.to("cuda", m.float64),
    lambda m, n: n.to(0), lambda m, n: n.to("gpu"), lambda m, n: n.to("cuda:x"),
    lambda m, n: n.to(m.int64)])
def test_module_to_an_unavailable_device_raises_torchs_error(call):
    _same_error(lambda m: call(m, _linear(m)))


def test_module_without_tensors_moves_to_cuda_without_error_as_in_torch():
    for m in LIBS:
        relu = m.nn.ReLU()
        assert relu.to("cuda") is relu and relu.cuda() is relu


# --- the default device ------------------------------------------------------------------

def test_default_device_matches_torch():
    for m in LIBS:
        assert m.get_default_device() == m.device("cpu")
        m.set_default_device("cpu")
        assert repr(m.get_default_device()) == "device(type='cpu')"
        assert m.zeros(1).device == m.device("cpu")
        m.set_default_device(m.device("cpu:0"))
        assert repr(m.get_default_device()) == "device(type='cpu', index=0)"
        m.set_default_device(None)
        assert m.get_default_device() == m.device("cpu")


@pytest.mark.parametrize("call", [
    lambda m: m.get_default_device(), lambda m: m.zeros(2), lambda m: m.tensor([1.0]),
    lambda m: m.as_tensor(m.zeros(1, device="cpu")), lambda m: m.nn.Linear(2, 2),
    lambda m: m.arange(3), lambda m: m.randn(2)])
def test_default_device_cuda_raises_when_a_tensor_is_made(call):
    def f(m):
        m.set_default_device("cuda")        # accepted, as in PyTorch ...
        try:
            return call(m)                  # ... and refused here
        finally:
            m.set_default_device(None)
    _same_error(f)


def test_default_device_cuda_leaves_like_factories_and_cpu_copies_alone():
    res = {}
    for m in LIBS:
        x = m.ones(2)
        m.set_default_device("cuda")
        try:
            res[m] = (_np(m.zeros_like(x)), _np(x.new_zeros(2)), x.to("cpu") is x,
                      _np(m.from_numpy(np.ones(1))), _np(x + 1))
        finally:
            m.set_default_device(None)
    assert res[chainrule] == res[torch]


def test_set_default_device_rejects_bad_strings():
    _same_error(lambda m: m.set_default_device("gpu"))


def test_device_as_a_context_manager_sets_the_default():
    for m in LIBS:
        with m.device("cpu"):
            assert m.zeros(1).device == m.device("cpu")
        with pytest.raises(AssertionError):
            with m.device("cuda"):
                m.zeros(1)
        assert m.get_default_device() == m.device("cpu")
        assert m.zeros(1).device == m.device("cpu")


# --- chainrule.cuda and chainrule.backends -----------------------------------------------

def test_cuda_queries_match_torch_without_a_gpu():
    for name in ("is_available", "device_count", "is_initialized", "empty_cache", "seed",
                 "seed_all"):
        assert getattr(chainrule.cuda, name)() == getattr(torch.cuda, name)(), name
    assert chainrule.cuda.is_available() is False and chainrule.cuda.device_count() == 0
    assert type(chainrule.cuda.device_count()) is int
    for name in ("manual_seed", "manual_seed_all"):
        assert getattr(chainrule.cuda, name)(0) is None is getattr(torch.cuda, name)(0)
        _same_error(lambda m: getattr(m.cuda, name)("not a seed"))
    assert chainrule.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert chainrule.backends.mps.is_built() is torch.backends.mps.is_built() is False
    assert chainrule.backends.cuda.is_built() is torch.backends.cuda.is_built() is False


@pytest.mark.parametrize("call", [
    lambda m: m.cuda.current_device(), lambda m: m.cuda.get_device_name(),
    lambda m: m.cuda.get_device_name(0), lambda m: m.cuda.synchronize()])
def test_cuda_functions_that_need_a_gpu_raise_torchs_error(call):
    assert "pip install cupy" in _same_error(call)


def _fake_cupy(count):
    """A module shaped like CuPy as far as chainrule's probe reads it (no arrays)."""
    cupy = types.ModuleType("cupy")
    runtime = types.SimpleNamespace(
        getDeviceCount=count,
        getDeviceProperties=lambda i: {"name": b"Fake GPU"})
    cupy.cuda = types.SimpleNamespace(runtime=runtime,
                                      Device=lambda *a: types.SimpleNamespace(
                                          id=0, synchronize=lambda: None))
    cupy.ndarray = type("ndarray", (), {})
    cupy.asnumpy = cupy.asarray = lambda a: a
    cupy.random = types.SimpleNamespace(default_rng=np.random.default_rng)
    cupy.get_default_memory_pool = lambda: types.SimpleNamespace(free_all_blocks=lambda: None)
    return cupy


@pytest.fixture
def fake_cupy(monkeypatch):
    """Install a fake CuPy whose getDeviceCount is ``count``; resets the probe's cache (and
    puts it back afterwards)."""
    import importlib.util
    from chainrule import _backend
    real = importlib.util.find_spec

    def install(count):
        monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(count))
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a: object() if name == "cupy" else real(name, *a))
        monkeypatch.setattr(_backend, "_CUDA", [])
        monkeypatch.setattr(_backend, "_PROBED", [])
        monkeypatch.setattr(_backend, "_BY_TYPE", dict(_backend._BY_TYPE))
    return install


def test_cupy_with_a_gpu_becomes_the_cuda_backend(fake_cupy):
    from chainrule import _backend
    fake_cupy(lambda: 2)
    # two GPUs: chainrule computes on the current one and reports one device
    assert cr_cuda.is_available() is True and cr_cuda.device_count() == 1
    assert _backend.cuda_backend().xp is sys.modules["cupy"]
    assert cr_cuda.get_device_name() == "Fake GPU" and cr_cuda.current_device() == 0
    assert cr_cuda.synchronize() is None and cr_cuda.is_initialized() is True
    assert chainrule.device(0) == chainrule.device("cuda:0")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        chainrule.zeros(1, device="cuda:1")


def test_cupy_probe_survives_a_failing_driver_and_a_missing_gpu(fake_cupy, monkeypatch):
    from chainrule import _backend

    def no_driver():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    for count in (no_driver, lambda: 0):
        fake_cupy(count)
        assert cr_cuda.device_count() == 0 and cr_cuda.is_available() is False
        with pytest.raises(AssertionError, match="CuPy is installed"):
            chainrule.zeros(2, device="cuda")
    monkeypatch.setattr(_backend, "_CUDA", [])
    monkeypatch.setattr(_backend, "_PROBED", [])
    monkeypatch.delitem(sys.modules, "cupy")
    import importlib.util
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert cr_cuda.device_count() == 0


def test_cupy_is_imported_only_by_the_first_cuda_query(tmp_path):
    """A CuPy on the path that fails to import (as a broken install does): importing
    chainrule leaves it alone; the first torch.cuda query tries it, and its failure means
    no GPU, with PyTorch's error for a CUDA tensor."""
    pkg = tmp_path / "cupy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import sys\nsys.modules['cupy_tried'] = sys\n"
                                     "raise ImportError('libcudart.so: cannot open')\n")
    code = textwrap.dedent("""
        import sys
        import chainrule as torch
        print("cupy_tried" in sys.modules)
        assert torch.cuda.is_available() is False and torch.cuda.device_count() == 0
        try:
            torch.zeros(1, device="cuda")
        except AssertionError as e:
            assert "CuPy is installed" in str(e)
        print("cupy_tried" in sys.modules)
    """)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


def test_import_chainrule_does_not_load_the_cuda_module():
    out = subprocess.run([sys.executable, "-c",
                          "import sys, chainrule; print(sorted(m for m in sys.modules if "
                          "m.startswith(('chainrule.cuda', 'chainrule.backends', 'cupy'))))"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --- d2l's device helpers, as the book writes them ---------------------------------------

D2L = '''
def try_gpu(i=0):
    """Return gpu(i) if exists, otherwise return cpu()."""
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f'cuda:{i}')
    return torch.device('cpu')


def try_all_gpus():
    """Return all available GPUs, or [cpu(),] if no GPU exists."""
    devices = [torch.device(f'cuda:{i}')
               for i in range(torch.cuda.device_count())]
    return devices if devices else [torch.device('cpu')]


def num_gpus():
    return torch.cuda.device_count()


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """Compute the accuracy for a model on a dataset using a GPU."""
    if isinstance(net, nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device
    right, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            X = X.to(device)
            y = y.to(device)
            right += int((net(X).argmax(axis=1) == y).sum())
            total += y.numel()
    return right / total


def train(net, train_iter, num_epochs, lr, device=try_gpu()):
    """A small d2l-style training loop (train_ch6's shape)."""
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(num_epochs):
        net.train()
        for X, y in train_iter:
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            losses.append(l.item())
    return losses, evaluate_accuracy_gpu(net, train_iter)
'''


def _run_d2l(m):
    ns = {"torch": m, "nn": m.nn}
    exec(D2L, ns)           # the same source text under each library
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    w1 = rng.standard_normal((8, 4)).astype(np.float32) * 0.5
    w2 = rng.standard_normal((3, 8)).astype(np.float32) * 0.5
    net = m.nn.Sequential(m.nn.Linear(4, 8), m.nn.ReLU(), m.nn.Linear(8, 3))
    with m.no_grad():
        for p, v in zip(net.parameters(), [w1, np.zeros(8), w2, np.zeros(3)]):
            p.copy_(m.tensor(v, dtype=m.float32))
    data = m.utils.data.TensorDataset(m.tensor(X), m.tensor(y))
    it = m.utils.data.DataLoader(data, batch_size=5, shuffle=False)
    losses, acc = ns["train"](net, it, 3, 0.1)
    return {"try_gpu": repr(ns["try_gpu"]()), "try_gpu(1)": repr(ns["try_gpu"](1)),
            "try_all_gpus": repr(ns["try_all_gpus"]()), "num_gpus": ns["num_gpus"](),
            "default": repr(ns["train"].__defaults__[0]), "losses": losses, "acc": acc,
            "weights": [p.detach().numpy().copy() for p in net.parameters()],
            "device": repr(next(net.parameters()).device)}


def test_d2l_device_helpers_and_training_loop_run_unchanged_and_match_torch():
    got, want = _run_d2l(chainrule), _run_d2l(torch)
    for k in ("try_gpu", "try_gpu(1)", "try_all_gpus", "num_gpus", "default", "device", "acc"):
        assert got[k] == want[k], k
    assert got["try_gpu"] == "device(type='cpu')" and got["try_all_gpus"] == "[device(type='cpu')]"
    assert len(got["losses"]) == 12
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-5, atol=1e-6)
    for a, b in zip(got["weights"], want["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert got["losses"][-1] < got["losses"][0]          # it trained


def test_d2l_style_module_import_with_a_default_argument_calling_cuda():
    """d2l/torch.py evaluates torch.cuda.device_count() in default arguments at import:
    a module doing so imports with chainrule as torch."""
    src = ("import chainrule as torch\n"
           "def train_ch13(net, devices=[torch.device(f'cuda:{i}') for i in "
           "range(torch.cuda.device_count())] or [torch.device('cpu')]):\n"
           "    return devices\n"
           "def gpu(i=0):\n    return torch.device(f'cuda:{i}')\n"
           "print(train_ch13(None), gpu(), torch.cuda.is_available())\n")
    out = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[device(type='cpu')] cuda:0 False"


@pytest.mark.parametrize("where", ["cuda", "cuda:0", "cuda-device", "gpu", "cpu", "cpu-device"])
def test_load_map_location_matches_torch(where):
    import io
    res = {}
    for m in LIBS:
        buf = io.BytesIO()
        m.save({"w": m.tensor([1.0, 2.0])}, buf)
        buf.seek(0)
        ml = {"cuda-device": m.device("cuda"), "cpu-device": m.device("cpu")}.get(where, where)
        res[m] = _outcome(lambda: _np(m.load(buf, map_location=ml)["w"]))
    if where == "gpu":      # both RuntimeError; PyTorch's text comes from its unpickler
        assert res[chainrule][:2] == res[torch][:2] == ("raise", "RuntimeError")
    else:
        assert res[chainrule] == res[torch]
    if where.startswith("cuda"):
        assert res[chainrule][:2] == ("raise", "RuntimeError")


def test_load_map_location_cuda_without_tensors_loads_as_torch():
    import io
    for m in LIBS:
        buf = io.BytesIO()
        m.save([1, "a"], buf)
        buf.seek(0)
        assert m.load(buf, map_location="cuda") == [1, "a"]
