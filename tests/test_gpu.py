"""GPU tests (``pytest -m gpu``; skipped without CuPy and an NVIDIA GPU): the op table,
nn layers, losses, optimizers, ``func`` transforms and forward mode on ``"cuda"`` against
the CPU, with every result left on the GPU; the device API with CuPy's arrays; the GPU
benchmark script at tiny sizes.  ``benchmarks/gpu_check.sh`` runs them with the timed
benchmarks.

Tolerances: the GPU computes in a different order (cuBLAS, parallel reductions), so its
float64 results agree with the CPU's to rounding, not bit for bit.
"""
import os
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import _backend
from backend_checks import (UNLOADED, _layers, _losses, _optimizers, _transforms,
                            check_case_on_device, check_training_on_device,
                            check_transform_on_device, table_rows)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def _gpu():
    b = _backend.cuda_backend()
    return b is not None and b.xp.__name__ == "cupy"


pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not _gpu(), reason="needs CuPy and a CUDA GPU")]

ROWS = table_rows(tolerate_missing=True) if _gpu() else []
RTOL, ATOL = 1e-9, 1e-10


def test_every_op_table_module_was_loaded():
    assert not UNLOADED, ("op-table modules left out (a test dependency is missing on this "
                          f"machine; their rows did not run on the GPU): {UNLOADED}")


@pytest.mark.parametrize("case", [c for _, c in ROWS], ids=[f"{m}-{c.name}" for m, c in ROWS])
def test_op_table_on_gpu(case):
    check_case_on_device(case, rtol=RTOL, atol=ATOL)


LAYERS = _layers(cr.nn)


@pytest.mark.parametrize("i", range(len(LAYERS)), ids=[type(m[0]).__name__ + str(i)
                                                       for i, m in enumerate(LAYERS)])
def test_layer_training_on_gpu(i):
    _, shape, kind = LAYERS[i]
    check_training_on_device(lambda: _layers(cr.nn)[i][0], shape, kind,
                             lambda y, t: cr.nn.functional.mse_loss(y, t),
                             lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9),
                             rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name,loss", _losses(cr.nn.functional), ids=[n for n, _ in
                                                                     _losses(cr.nn.functional)])
def test_loss_on_gpu(name, loss):
    check_training_on_device(lambda: cr.nn.Linear(6, 4), (5, 6), "float", loss,
                             lambda p: cr.optim.SGD(p, lr=0.1), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name,opt", _optimizers(cr.optim), ids=[n for n, _ in
                                                                _optimizers(cr.optim)])
def test_optimizer_on_gpu(name, opt):
    check_training_on_device(lambda: cr.nn.Sequential(cr.nn.Linear(6, 5), cr.nn.Tanh(),
                                                      cr.nn.Linear(5, 2)),
                             (4, 6), "float", lambda y, t: ((y - t) ** 2).mean(), opt,
                             rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name,fn", _transforms(), ids=[n for n, _ in _transforms()])
def test_transform_on_gpu(name, fn):
    check_transform_on_device(fn, rtol=RTOL, atol=ATOL)


def test_device_api_with_cupy():
    import cupy
    x = cr.tensor([1.0, 2.5], device="cuda", requires_grad=True)
    assert type(x._data) is cupy.ndarray and x.device == cr.device("cuda", 0)
    assert repr(x) == "tensor([1.0000, 2.5000], device='cuda:0', requires_grad=True)"
    assert x.sum().item() == 3.5 and x.tolist() == [1.0, 2.5]
    with pytest.raises(TypeError, match="Use Tensor.cpu"):
        x.detach().numpy()
    with pytest.raises(RuntimeError, match="cuda:0 and cpu"):
        x + cr.ones(2)
    (x.cpu() * 2).sum().backward()
    assert type(x.grad._data) is cupy.ndarray and x.grad.tolist() == [2.0, 2.0]
    cr.manual_seed(0)
    a = cr.rand(5, device="cuda")
    cr.cuda.manual_seed(0)
    b = cr.rand(5, device="cuda")
    assert type(a._data) is cupy.ndarray and bool((a == b).all())
    assert isinstance(cr.cuda.get_device_name(), str) and cr.cuda.device_count() >= 1
    cr.cuda.synchronize()
    cr.cuda.empty_cache()


def test_module_and_training_loop_on_gpu():
    import cupy
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3)).cuda()
    assert all(type(p._data) is cupy.ndarray for p in net.parameters())
    opt = cr.optim.Adam(net.parameters(), lr=0.05)
    X = cr.randn(64, 4, device="cuda")
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = cr.nn.functional.cross_entropy(net(X), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first


def test_gpu_benchmark_script_at_tiny_sizes():
    from benchmarks import gpu
    rows = gpu.run(quick=True)
    assert [r[0].split(" (")[0] for r in rows] == ["mlp small", "mlp big", "chain vec4"]
    assert all(np.isfinite(t).all() for r in rows for t in r[3].values())
