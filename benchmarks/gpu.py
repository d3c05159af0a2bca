"""GPU benchmarks: ``python -m benchmarks --device cuda``.

Times, on the CUDA device, chainrule against a hand-written CuPy step (forward and
backward written out with CuPy calls, no autodiff) and, where PyTorch with CUDA is
installed, against PyTorch eager:

  * ``mlp small``: 784 -> 256 -> 10 ReLU MLP, batch 128, float32, softmax cross-entropy,
    forward + backward + SGD update (the book's MLP step);
  * ``mlp big``: 4096 -> 4096 -> 4096 -> 10, batch 8192, float32 (compute-bound);
  * ``chain vec4``: 2,000 elementwise ops (mul, add, sin, tanh) on a 4-vector, then sum and
    backward (the per-op cost: launch latency plus chainrule's Python).

Every step ends with a device synchronisation, so a time is the step's wall-clock time.
Gradients of the three libraries are checked against each other before timing.  Targets
(issue 17): small MLP <= 1.25 x the CuPy step, big MLP <= 1.05 x.

``--standin`` runs the same code on the test suite's stand-in backend (NumPy behind a
non-NumPy array type, no GPU): a smoke test of this script, not a measurement.
"""
import os
import sys

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import common  # noqa: E402

CONFIGS = {
    "full": dict(small=(128, (784, 256, 10)), big=(8192, (4096, 4096, 4096, 10)),
                 chain_ops=2000, repeats=30, repeats_big=10),
    "quick": dict(small=(16, (32, 16, 4)), big=(64, (64, 64, 64, 4)), chain_ops=100,
                  repeats=3, repeats_big=2),
}
TARGETS = {"mlp small": 1.25, "mlp big": 1.05}
CHAIN = ("mul", "add", "sin", "tanh")
MUL_C, ADD_C = 0.9, 0.1


def _setup_standin():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.join(here, "tests"))
    from standin import standin_backend
    from chainrule import _backend
    _backend.register(standin_backend())


def mlp_data(batch, sizes, seed=0):
    """Input, labels and ``[W1, b1, W2, b2, ...]`` (host float32 arrays)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=batch)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32))
        params.append((0.1 * rng.standard_normal(n_out)).astype(np.float32))
    return x, y, params


def mlp_chainrule(x, y, params, lr=1e-3):
    import chainrule as cr
    ps = [cr.tensor(p, device="cuda", requires_grad=True) for p in params]
    xt, yt = cr.tensor(x, device="cuda"), cr.tensor(y, device="cuda")
    sync = cr.cuda.synchronize
    F = cr.nn.functional

    def step():
        h = xt
        for i in range(0, len(ps) - 2, 2):
            h = cr.relu(h @ ps[i] + ps[i + 1])
        loss = F.cross_entropy(h @ ps[-2] + ps[-1], yt)
        loss.backward()
        out["grads"] = [p.grad for p in ps]
        with cr.no_grad():
            for p in ps:
                p -= lr * p.grad
                p.grad = None
        sync()

    def grads():
        step()
        return [g.cpu().numpy() for g in out["grads"]]
    out = {}
    return step, grads


def mlp_torch(x, y, params, lr=1e-3):
    import torch
    ps = [torch.tensor(p, device="cuda", requires_grad=True) for p in params]
    xt, yt = torch.tensor(x, device="cuda"), torch.tensor(y, device="cuda")
    F = torch.nn.functional

    def step():
        h = xt
        for i in range(0, len(ps) - 2, 2):
            h = torch.relu(h @ ps[i] + ps[i + 1])
        loss = F.cross_entropy(h @ ps[-2] + ps[-1], yt)
        loss.backward()
        out["grads"] = [p.grad for p in ps]
        with torch.no_grad():
            for p in ps:
                p -= lr * p.grad
                p.grad = None
        torch.cuda.synchronize()

    def grads():
        step()
        return [g.cpu().numpy() for g in out["grads"]]
    out = {}
    return step, grads


def mlp_cupy(x, y, params, lr=1e-3):
    """The MLP step written out with the device array library (``xp``): no autodiff."""
    from chainrule import _backend
    b = _backend.cuda_backend()
    xp = b.xp
    ps = [b.from_host(p) for p in params]
    xd = b.from_host(x)
    rows = xp.arange(x.shape[0])
    yd = b.from_host(y)
    batch = x.shape[0]
    out = {}

    def step():
        hs = [xd]
        for i in range(0, len(ps) - 2, 2):
            h = hs[-1] @ ps[i]
            h += ps[i + 1]
            hs.append(xp.maximum(h, 0))
        logits = hs[-1] @ ps[-2]
        logits += ps[-1]
        z = logits - logits.max(axis=1, keepdims=True)
        e = xp.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        p[rows, yd] -= 1            # d mean(-log p[y]) / d logits = (p - onehot) / batch
        p /= batch
        grads = [None] * len(ps)
        d = p
        for i in range(len(ps) - 2, -1, -2):
            grads[i] = hs[i // 2].T @ d
            grads[i + 1] = d.sum(axis=0)
            if i:
                d = (d @ ps[i].T) * (hs[i // 2] > 0)
        for q, g in zip(ps, grads):
            q -= lr * g
        out["grads"] = grads
        b.synchronize()

    def grads():
        step()
        return [b.to_host(g) for g in out["grads"]]
    return step, grads


def chain_chainrule(x0, n):
    import chainrule as cr
    x = cr.tensor(x0, device="cuda", requires_grad=True)
    kinds = [CHAIN[k % 4] for k in range(n)]
    sync = cr.cuda.synchronize

    def step():
        x.grad = None
        h = x
        for k in kinds:
            h = h * MUL_C if k == "mul" else h + ADD_C if k == "add" else \
                cr.sin(h) if k == "sin" else cr.tanh(h)
        h.sum().backward()
        sync()
        return x.grad
    return step, lambda: step().cpu().numpy()


def chain_torch(x0, n):
    import torch
    x = torch.tensor(x0, device="cuda", requires_grad=True)
    kinds = [CHAIN[k % 4] for k in range(n)]

    def step():
        x.grad = None
        h = x
        for k in kinds:
            h = h * MUL_C if k == "mul" else h + ADD_C if k == "add" else \
                torch.sin(h) if k == "sin" else torch.tanh(h)
        h.sum().backward()
        torch.cuda.synchronize()
        return x.grad
    return step, lambda: step().cpu().numpy()


def chain_cupy(x0, n):
    from chainrule import _backend
    b = _backend.cuda_backend()
    xp = b.xp
    x = b.from_host(x0)
    kinds = [CHAIN[k % 4] for k in range(n)]

    def step():
        h, saved = x, []
        for k in kinds:
            saved.append(h)
            h = h * MUL_C if k == "mul" else h + ADD_C if k == "add" else \
                xp.sin(h) if k == "sin" else xp.tanh(h)
        g = xp.ones_like(h)
        for k, v in zip(reversed(kinds), reversed(saved)):
            if k == "mul":
                g = g * MUL_C
            elif k == "sin":
                g = g * xp.cos(v)
            elif k == "tanh":
                t = xp.tanh(v)
                g = g * (1 - t * t)
        b.synchronize()
        return g
    return step, lambda: b.to_host(step())


def _torch_cuda():
    try:
        import torch
        return torch.cuda.is_available()
    except Exception:       # no torch, or a CPU build
        return False


def _check(grads, rtol, atol, what):
    ref = grads["cupy"]()
    for lib, fn in grads.items():
        if lib == "cupy":
            continue
        got = fn()
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                       err_msg=f"{what}: {lib} vs the CuPy step")


def run(quick=False, standin=False, only=None):
    """Time the GPU workloads; returns ``[(name, unit, {lib: [seconds]})]``."""
    if standin:
        _setup_standin()
    import chainrule as cr
    if not cr.cuda.is_available():
        raise SystemExit("no CUDA device: chainrule's GPU backend needs CuPy and an NVIDIA "
                         "GPU (torch.cuda.is_available() is False)")
    cfg = CONFIGS["quick" if quick else "full"]
    use_torch = not standin and _torch_cuda()
    rows = []
    for name in ("mlp small", "mlp big"):
        if only and name not in only:
            continue
        batch, sizes = cfg["small" if name == "mlp small" else "big"]
        x, y, params = mlp_data(batch, sizes)
        makers = {"chainrule": mlp_chainrule, "cupy": mlp_cupy}
        if use_torch:
            makers["torch"] = mlp_torch
        made = {lib: mk(x, y, [p.copy() for p in params]) for lib, mk in makers.items()}
        _check({lib: m[1] for lib, m in made.items()}, 2e-3, 2e-4, name)
        steps = {lib: mk(x, y, [p.copy() for p in params])[0] for lib, mk in makers.items()}
        reps = cfg["repeats"] if name == "mlp small" else cfg["repeats_big"]
        rows.append((f"{name} ({batch}, {'-'.join(map(str, sizes))})", "ms/step", 1e3,
                     common.interleaved(steps, reps, warmup=3), TARGETS[name]))
    if not only or "chain vec4" in only:
        x0 = np.random.default_rng(0).uniform(-1, 1, 4)
        makers = {"chainrule": chain_chainrule, "cupy": chain_cupy}
        if use_torch:
            makers["torch"] = chain_torch
        _check({lib: (lambda mk=mk: [mk(x0, 50)[1]()]) for lib, mk in makers.items()},
               1e-10, 1e-12, "chain")
        n = cfg["chain_ops"]
        steps = {lib: mk(x0, n)[0] for lib, mk in makers.items()}
        rows.append((f"chain vec4 ({n} ops)", "us/op", 1e6 / n,
                     common.interleaved(steps, max(3, cfg["repeats"] // 3), warmup=1), None))
    return rows


def table(rows):
    libs = ["chainrule", "cupy", "torch"]
    lines = ["| benchmark | unit | chainrule | hand-written CuPy | torch CUDA | cr/cupy | "
             "cr/torch | target | met |", "|---|---|---|---|---|---|---|---|---|"]
    for name, unit, scale, times, target in rows:
        med = {lib: common.median(times[lib]) * scale for lib in libs if lib in times}
        cells = [name, unit] + [common.fmt(med[lib]) if lib in med else "-" for lib in libs]
        r_cupy = common.ratio(times, "chainrule", "cupy")
        r_torch = common.ratio(times, "chainrule", "torch") if "torch" in times else None
        cells += [common.fmt(r_cupy, 2), "-" if r_torch is None else common.fmt(r_torch, 2)]
        cells += ["-", "-"] if target is None else [f"cr/cupy <= {target}",
                                                    "yes" if r_cupy <= target else "NO"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(quick=False, standin=False, only=None):
    rows = run(quick=quick, standin=standin, only=only)
    import chainrule as cr
    print(f"# chainrule GPU benchmarks ({'quick' if quick else 'full'}"
          f"{', stand-in backend: not a measurement' if standin else ''}); device: "
          f"{cr.cuda.get_device_name()}")
    try:
        import cupy
        print(f"# CuPy {cupy.__version__}")
    except Exception:       # the stand-in run has no CuPy
        pass
    if not standin and _torch_cuda():
        import torch
        print(f"# torch {torch.__version__}, CUDA {torch.version.cuda}")
    print()
    print(table(rows))
    return rows


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--standin", action="store_true")
    a = ap.parse_args()
    main(quick=a.quick, standin=a.standin)
