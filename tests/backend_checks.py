"""Checks shared by the stand-in backend tests (``test_backend_standin.py``) and the GPU tests
(``test_gpu.py``): every op-table row runs on the ``"cuda"`` device -- value, VJP, JVP and
reverse-over-reverse -- and must give the CPU's results, with every result on the device.

The CPU run is the reference (the op table checks it against PyTorch and finite
differences); the device run must agree with it to ``rtol``/``atol`` (the stand-in runs the
same NumPy calls: exactly; a GPU: to its float64 rounding).  Inside ``fn`` the default
device is ``"cuda"`` during the device run, so tensors a row makes (index tensors,
constants) are made on the device, as a program written for the GPU would.
"""
import importlib.util
import pathlib

import numpy as np

import chainrule as cr
import chainrule.autograd.forward_ad as fw
from chainrule._backend import CPU_BACKEND, backend_of
from oplib import inputs

OPS_DIR = pathlib.Path(__file__).parent / "ops"


UNLOADED = []       # (file, error) of op-table modules that failed to import (test_gpu.py
                    # reports them: a GPU machine may lack a test dependency such as hypothesis)


def table_rows(tolerate_missing=False):
    """Every ``OpCase`` of ``tests/ops/test_*.py`` as ``(file stem, case)``.  With
    ``tolerate_missing``, a module whose import fails for a missing package is left out and
    listed in ``UNLOADED`` instead of failing the collection."""
    rows = []
    for path in sorted(OPS_DIR.glob("test_*.py")):
        if path.stem == "test_coverage" or "OpCase(" not in path.read_text(encoding="utf-8"):
            continue                    # (table-wide checks, Hypothesis tests: no rows)
        spec = importlib.util.spec_from_file_location(f"_dev_rows_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except ModuleNotFoundError as e:
            if not tolerate_missing:
                raise
            UNLOADED.append((path.name, str(e)))
            continue
        seen = set()
        for value in vars(mod).values():
            if isinstance(value, (list, tuple)) and value and all(
                    hasattr(c, "fn") and hasattr(c, "shapes") and hasattr(c, "op")
                    for c in value):
                for c in value:
                    if id(c) not in seen:
                        seen.add(id(c))
                        rows.append((path.stem[5:], c))
    return rows


def host(t):
    """A tensor's values as a float64 NumPy array (None stays None)."""
    if t is None:
        return None
    return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)


def on_device(t, where):
    if t is not None:
        assert backend_of(t._data) is not CPU_BACKEND, \
            f"{where}: result is on {t.device}, not on the device (fell back to the host)"


def _make(arrays, device, rg=True):
    return [cr.tensor(a, dtype=cr.float64, device=device).requires_grad_(rg) for a in arrays]


def _run_case(case, arrays, device, rng_seed=0):
    """Value, VJP, JVP and second-order results of ``case`` on ``device``, as host arrays;
    each device result is checked to be on the device."""
    rng = np.random.default_rng(rng_seed + 100)
    res = {}
    cr.set_default_device(None if device == "cpu" else device)
    try:
        with cr.no_grad():
            out = case.fn(cr, *_make(arrays, device, rg=False))
        if device != "cpu":
            on_device(out, f"{case.name}: value")
        res["value"] = host(out)
        res["dtype"] = str(out.dtype)
        shape = tuple(out.shape)
        v = rng.standard_normal(shape)
        u = [rng.standard_normal(a.shape) for a in arrays]
        w = [rng.standard_normal(a.shape) for a in arrays]
        if case.grad and not case.nondiff_output:
            xs = _make(arrays, device)
            out = case.fn(cr, *xs)
            gs = cr.autograd.grad(out, xs, cr.tensor(v, device=device), allow_unused=True)
            for i, g in enumerate(gs):
                if device != "cpu":
                    on_device(g, f"{case.name}: VJP input {i}")
            res["vjp"] = [host(g) for g in gs]
        if case.fwd and not case.nondiff_output:
            with fw.dual_level():
                duals = [fw.make_dual(x, t) for x, t in zip(_make(arrays, device, rg=False),
                                                            _make(u, device, rg=False))]
                tan = fw.unpack_dual(case.fn(cr, *duals)).tangent
                if device != "cpu":
                    on_device(tan, f"{case.name}: JVP")
                res["jvp"] = host(tan)
        if case.second and case.grad and not case.nondiff_output:
            xs = _make(arrays, device)
            out = case.fn(cr, *xs)
            gs = cr.autograd.grad(out, xs, cr.tensor(v, device=device), create_graph=True,
                                  allow_unused=True)
            total = None
            for g, d in zip(gs, w):
                if g is not None:
                    term = (g * cr.tensor(d, device=device)).sum()
                    total = term if total is None else total + term
            if total is not None and total.requires_grad:
                hs = cr.autograd.grad(total, xs, allow_unused=True)
                for i, h in enumerate(hs):
                    if device != "cpu":
                        on_device(h, f"{case.name}: 2nd order input {i}")
                res["second"] = [host(h) for h in hs]
            else:
                res["second"] = None
    finally:
        cr.set_default_device(None)
    return res


def _same(a, b, what, rtol, atol):
    if a is None or b is None:
        assert (a is None or not np.any(a)) and (b is None or not np.any(b)), \
            f"{what}: one side has no result"
        return
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what, equal_nan=True)


def check_case_on_device(case, device="cuda", rtol=1e-12, atol=1e-12):
    """``case`` on ``device`` gives the CPU's value, VJP, JVP and second order."""
    arrays = inputs(case)
    ref = _run_case(case, arrays, "cpu")
    got = _run_case(case, arrays, device)
    assert got["dtype"] == ref["dtype"], f"{case.name}: dtype {got['dtype']} vs {ref['dtype']}"
    _same(got["value"], ref["value"], f"{case.name}: value", rtol, atol)
    for key in ("vjp", "second"):
        if key in ref:
            r, g = ref[key], got[key]
            if r is None or g is None:
                assert r is None and g is None, f"{case.name}: {key} on one side only"
                continue
            for i, (a, b) in enumerate(zip(g, r)):
                _same(a, b, f"{case.name}: {key} input {i}", rtol, atol)
    if "jvp" in ref:
        _same(got["jvp"], ref["jvp"], f"{case.name}: JVP", rtol, atol)


# --- nn layers, losses and optimizers: a few training steps on the device vs the CPU ----------

def _layers(nn):
    """Modules of every family (each: (module, input shape, input kind))."""
    return [
        (nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)), (4, 6), "float"),
        (nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Sigmoid(), nn.LayerNorm(4),
                       nn.Softmax(-1), nn.Identity()), (3, 6), "float"),
        (nn.Sequential(nn.Linear(6, 4), nn.LogSoftmax(-1)), (3, 6), "float"),
        (nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                       nn.MaxPool2d(2), nn.Conv2d(3, 2, 2, stride=1), nn.AvgPool2d(1),
                       nn.AdaptiveAvgPool2d(1), nn.Flatten()), (2, 2, 6, 6), "float"),
        (nn.Sequential(nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3), nn.ReLU(),
                       nn.MaxPool1d(2), nn.Flatten()), (2, 2, 9), "float"),
        (nn.Sequential(nn.ConvTranspose2d(2, 2, 2, stride=2), nn.GroupNorm(1, 2),
                       nn.Flatten()), (1, 2, 3, 3), "float"),
        (nn.Sequential(nn.Embedding(7, 4), nn.Flatten(), nn.Linear(12, 2)), (2, 3), "index"),
        (nn.RNN(3, 4, batch_first=True), (2, 5, 3), "float"),
        (nn.GRU(3, 4, batch_first=True), (2, 5, 3), "float"),
        (nn.LSTM(3, 4, batch_first=True), (2, 5, 3), "float"),
        (nn.Sequential(nn.Conv2d(2, 2, 1), nn.Unfold(2), nn.Flatten()), (1, 2, 3, 3), "float"),
        (nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.0), nn.AdaptiveMaxPool1d(2)), (2, 3, 4),
         "float"),
    ]


def _out_tensor(y):
    while isinstance(y, (tuple, list)):
        y = y[0]
    return y


def _losses(F):
    return [
        ("mse", lambda y, t: F.mse_loss(y, t)),
        ("l1", lambda y, t: F.l1_loss(y, t)),
        ("bce_logits", lambda y, t: F.binary_cross_entropy_with_logits(y, t.sigmoid())),
        ("bce", lambda y, t: F.binary_cross_entropy(y.sigmoid(), t.sigmoid())),
        ("cross_entropy", lambda y, t: F.cross_entropy(y, t.argmax(-1))),
        ("cross_entropy_smooth", lambda y, t: F.cross_entropy(y, t.argmax(-1),
                                                              label_smoothing=0.1)),
        ("nll", lambda y, t: F.nll_loss(F.log_softmax(y, -1), t.argmax(-1))),
    ]


def _optimizers(optim):
    return [
        ("sgd", lambda p: optim.SGD(p, lr=0.1)),
        ("sgd_momentum", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                             weight_decay=0.01)),
        ("adam", lambda p: optim.Adam(p, lr=0.01)),
        ("adamw", lambda p: optim.AdamW(p, lr=0.01, amsgrad=True)),
        ("rmsprop", lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True)),
        ("adagrad", lambda p: optim.Adagrad(p, lr=0.1)),
        ("adadelta", lambda p: optim.Adadelta(p)),
    ]


def _train(module_fn, shape, kind, device, loss_fn, opt_fn, steps=3):
    """Parameters, outputs and losses of ``steps`` training steps on ``device`` (float64)."""
    cr.manual_seed(0)
    model = module_fn().double().to(device)
    rng = np.random.default_rng(1)
    if kind == "index":
        x = cr.tensor(rng.integers(0, 7, shape), device=device)
    else:
        x = cr.tensor(rng.standard_normal(shape), dtype=cr.float64, device=device)
    opt = opt_fn(model.parameters())
    losses, outs = [], []
    for _ in range(steps):
        opt.zero_grad()
        y = _out_tensor(model(x))
        if device != "cpu":
            on_device(y, "module output")
        target = cr.tensor(np.random.default_rng(2).standard_normal(tuple(y.shape)),
                           dtype=cr.float64, device=device)
        loss = loss_fn(y, target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        outs.append(host(y))
    params = [host(p) for p in model.parameters()]
    if device != "cpu":
        for p in model.parameters():
            on_device(p, "parameter")
            on_device(p.grad, "gradient")
        for b in model.buffers():
            on_device(b, "buffer")
    return losses, outs, params


def check_training_on_device(module_fn, shape, kind, loss_fn, opt_fn, device="cuda",
                             rtol=1e-10, atol=1e-12):
    ref = _train(module_fn, shape, kind, "cpu", loss_fn, opt_fn)
    got = _train(module_fn, shape, kind, device, loss_fn, opt_fn)
    np.testing.assert_allclose(got[0], ref[0], rtol=rtol, atol=atol, err_msg="losses")
    for a, b in zip(got[1], ref[1]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg="outputs")
    for a, b in zip(got[2], ref[2]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg="parameters")


# --- func transforms and forward mode -------------------------------------------------------

def _f(x):
    return (x.sin() * x.exp()).sum() + (x @ x)


def _g(x):
    return x.tanh() * x ** 2


def _transforms():
    from chainrule import func as T
    return [
        ("grad", lambda x: T.grad(_f)(x)),
        ("grad_grad", lambda x: T.grad(lambda y: T.grad(_f)(y).sum())(x)),
        ("vjp", lambda x: T.vjp(_g, x)[1](x.cos())[0]),
        ("jvp", lambda x: T.jvp(_g, (x,), (x.cos(),))[1]),
        ("jacrev", lambda x: T.jacrev(_g)(x)),
        ("jacfwd", lambda x: T.jacfwd(_g)(x)),
        ("hessian", lambda x: T.hessian(_f)(x)),
        ("forward_ad", lambda x: _dual(x)),
    ]


def _dual(x):
    with fw.dual_level():
        y = _g(fw.make_dual(x, x.cos()))
        return fw.unpack_dual(y).tangent


def check_transform_on_device(fn, device="cuda", rtol=1e-12, atol=1e-12):
    x = np.linspace(-1.0, 1.5, 5)
    ref = fn(cr.tensor(x, dtype=cr.float64))
    got = fn(cr.tensor(x, dtype=cr.float64, device=device))
    on_device(got, "transform result")
    np.testing.assert_allclose(host(got), host(ref), rtol=rtol, atol=atol)
