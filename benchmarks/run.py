"""Run all chainrule benchmarks and print a table of medians and same-run ratios.

    python -m benchmarks            # full run (a few minutes on 2 cores)
    python -m benchmarks --quick    # small sizes, few repeats (a smoke run)
    python benchmarks/run.py --only overhead,mlp
    python -m benchmarks --device cuda   # on a GPU: vs hand-written CuPy and torch CUDA

Each benchmark runs chainrule, PyTorch (with NumPy's BLAS thread count), HIPS autograd and
a hand-written NumPy forward/backward, interleaved, after checking that all gradients agree
with PyTorch's.  Ratios are medians over rounds of the same-round ratio, so machine noise
that hits one round hits every library in it.  See benchmarks/README.md.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import common, workloads as W  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL = ("overhead", "mlp", "deep", "big", "import", "conv", "compiled")
# the compiled rows' columns: "chainrule" is chainrule.compile's replay, "eager" chainrule
# without compile
COMPILED_LIBS = ("chainrule", "eager", "torch", "numpy")


class Row:
    def __init__(self, name, unit, scale, times, targets, note=""):
        self.name, self.unit, self.scale, self.times = name, unit, scale, times
        self.targets, self.note = targets, note

    def med(self, lib):
        return common.median(self.times[lib]) * self.scale if lib in self.times else float("nan")

    def ratio(self, other):
        return common.ratio(self.times, "chainrule", other)

    def ratio_min(self, other):
        """Ratio of the fastest rounds: robust when other processes load the machine."""
        if other not in self.times:
            return float("nan")
        return min(self.times["chainrule"]) / min(self.times[other])

    def verdicts(self):
        out = []
        for other, limit in self.targets.items():
            r = self.ratio(other) if other != "abs" else self.med("chainrule")
            out.append((other, limit, r, r <= limit))
        return out


def bench_overhead(cfg, libs):
    rows = []
    for name, size in (("overhead vec4", 4), ("overhead scalar", ())):
        x0 = W.chain_input(size)
        n = cfg["chain_ops"]
        W.check_gradients(lambda lib: W.chain(lib, x0, 50), libs, rtol=1e-10, atol=1e-12)
        steps = {lib: W.chain(lib, x0, n) for lib in libs}
        times = common.interleaved(steps, cfg["repeats_small"])
        targets = {"torch": 0.7, "hips": 0.5} if size == 4 else {}
        rows.append(Row(name, "us/op", 1e6 / n, times, targets,
                        f"{n} ops (mul, add, sin, tanh) fwd+bwd"))
    return rows


def bench_mlp(cfg, libs):
    rows = []
    for dtype in ("float32", "float64"):
        x, y, params = W.mlp_data(batch=cfg["batch"], dtype=dtype)
        tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-9, atol=1e-12)
        W.check_gradients(lambda lib: W.mlp(lib, x, y, params), libs, **tol)
        steps = {lib: W.mlp(lib, x, y, params) for lib in libs}
        times = common.interleaved(steps, cfg["repeats_mlp"], warmup=3)
        rows.append(Row(f"mlp {dtype}", "ms/step", 1e3, times, {"numpy": 1.10},
                        f"784-256-10 ReLU, batch {cfg['batch']}, fwd+bwd+SGD"))
    return rows


def bench_compiled(cfg, libs):
    """chainrule.compile against eager chainrule, PyTorch and hand-written NumPy: the MLP
    step, the vec4 chain, and scipy.optimize's L-BFGS on value_and_grad functions."""
    rows = []
    others = [lib for lib in ("torch", "numpy") if lib in libs]

    def steps_for(make):
        steps = {"chainrule": make("compiled"), "eager": make("chainrule")}
        steps.update({lib: make(lib) for lib in others})
        return steps
    for dtype in ("float32", "float64"):
        x, y, params = W.mlp_data(batch=cfg["batch"], dtype=dtype)
        tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-9, atol=1e-12)
        W.check_gradients(lambda lib: W.mlp(lib, x, y, params), ["compiled"] + others, **tol)
        steps = steps_for(lambda lib: W.mlp(lib, x, y, params))
        times = common.interleaved(steps, cfg["repeats_mlp"], warmup=3)
        rows.append(Row(f"compiled mlp {dtype}", "ms/step", 1e3, times, {"numpy": 0.90},
                        f"784-256-10 ReLU, batch {cfg['batch']}, fwd+bwd+SGD, compiled"))
    x0 = W.chain_input(4)
    n = cfg["chain_ops"]
    W.check_gradients(lambda lib: W.chain(lib, x0, 50), ["compiled"] + others,
                      rtol=1e-10, atol=1e-12)
    steps = steps_for(lambda lib: W.chain(lib, x0, n))
    times = common.interleaved(steps, cfg["repeats_small"], warmup=2)
    rows.append(Row("compiled vec4", "us/op", 1e6 / n, times, {"torch": 0.20},
                    f"{n} ops (mul, add, sin, tanh) fwd+bwd, compiled"))
    for problem in ("rosenbrock", "logreg"):
        x0, data = W.scipy_data(problem)
        eager = W.scipy_minimize("chainrule", problem, x0, data)
        comp = W.scipy_minimize("compiled", problem, x0, data)
        a, b = eager(), comp()
        # the same iterates: the same number of iterations and the same final point
        assert int(a[1][0]) == int(b[1][0]) and np.allclose(a[0], b[0], rtol=1e-10, atol=1e-12), \
            (problem, a, b)
        times = common.interleaved({"chainrule": comp, "eager": eager},
                                   cfg["repeats_small"], warmup=1)
        rows.append(Row(f"scipy {problem}", "ms/run", 1e3, times, {"eager": 0.20},
                        f"L-BFGS-B, jac=True, {int(a[1][0])} iterations, compiled vs eager"))
    return rows


def bench_big(cfg, libs):
    x, ws = W.big_data(n=cfg["big_n"])
    ref = W.big("numpy", x, ws)()
    scale = max(float(abs(g).max()) for g in ref)
    W.check_gradients(lambda lib: W.big(lib, x, ws), libs, rtol=2e-3, atol=2e-3 * scale)
    steps = {lib: W.big(lib, x, ws) for lib in libs}
    times = common.interleaved(steps, cfg["repeats_big"])
    return [Row("big", "s", 1.0, times, {"numpy": 1.05},
                f"3 x tanh(h @ W), {cfg['big_n']}^2 float32, fwd+bwd")]


def bench_conv(cfg, libs):
    rows = []
    x, y, params = W.lenet_data(batch=cfg["lenet_batch"])
    two = [lib for lib in libs if lib in ("chainrule", "torch")]
    W.check_gradients(lambda lib: W.lenet(lib, x, y, params), two, rtol=1e-3, atol=1e-5)
    steps = {lib: W.lenet(lib, x, y, params) for lib in two}
    times = common.interleaved(steps, cfg["repeats_conv"], warmup=2)
    rows.append(Row("conv lenet", "ms/step", 1e3, times, {"torch": 2.0},
                    f"the book's LeNet (sigmoid, avg pool), batch {cfg['lenet_batch']} "
                    f"1x28x28 float32, fwd+bwd+SGD"))
    data = W.conv_layer_data(batch=cfg["conv_batch"], size=cfg["conv_size"])
    three = [lib for lib in libs if lib in ("chainrule", "torch", "numpy")]
    # float32 sums over 64*32*32 products: tolerance relative to the largest gradient
    scale = max(float(abs(g).max()) for g in W.conv_layer("numpy", *data)())
    W.check_gradients(lambda lib: W.conv_layer(lib, *data), three, rtol=1e-3,
                      atol=1e-4 * scale)
    steps = {lib: W.conv_layer(lib, *data) for lib in three}
    times = common.interleaved(steps, cfg["repeats_conv"], warmup=1)
    rows.append(Row("conv 3x3", "ms/step", 1e3, times, {"torch": 2.0},
                    f"conv2d 64->64 channels, 3x3, padding 1, batch {cfg['conv_batch']}, "
                    f"{cfg['conv_size']}x{cfg['conv_size']} float32, fwd+bwd"))
    return rows


def bench_deep(cfg, libs, threads):
    n, size = cfg["deep_ops"], 1000
    x0 = W.chain_input(size)
    W.check_gradients(lambda lib: W.chain(lib, x0, 200), libs, rtol=1e-10, atol=1e-12)
    times = {lib: [] for lib in libs}
    mem = {lib: [] for lib in libs}
    for r in range(cfg["deep_rounds"]):
        k = r % len(libs)
        for lib in libs[k:] + libs[:k]:
            res = _child(["--lib", lib, "--n", str(n), "--size", str(size), "--repeats",
                          str(cfg["deep_repeats"]), "--threads", str(threads or 1)])
            times[lib].append(common.median(res["times"]))
            mem[lib].append(res["peak_mb"])
    traced = {}
    for lib in libs:
        if lib != "torch":
            traced[lib] = _child(["--lib", lib, "--n", str(n), "--size", str(size),
                                  "--tracemalloc"])["peak_mb"]
    note = f"{n} ops on a {size}-vector, one process per library"
    rows = [Row("deep time", "s", 1.0, times, {"numpy": 1.5}, note),
            Row("deep peak mem", "MB", 1.0, mem, {"torch": 1.2},
                "peak RSS growth of fwd+bwd (VmHWM reset after setup); tracemalloc peak: "
                + ", ".join(f"{k} {v:.1f} MB" for k, v in traced.items()))]
    return rows


def _child(args):
    out = subprocess.run([sys.executable, "-m", "benchmarks.deep_child"] + args, cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"deep child {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_import(cfg):
    code = ("import time; t = time.perf_counter(); import {m}; "
            "print(time.perf_counter() - t)")
    times = {"chainrule": [], "numpy": []}
    # as an installed package is imported: with byte-code caches.  The environment may set
    # PYTHONDONTWRITEBYTECODE, which would make every run of an editable install compile
    # all ~30 modules from source (~0.1 s); the caches go to a temporary directory (not
    # the source tree) and one untimed import per library fills them first
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        for r in range(cfg["import_repeats"] + 1):
            for lib in times:
                out = subprocess.run([sys.executable, "-c", code.format(m=lib)], cwd=ROOT,
                                     capture_output=True, text=True, check=True, env=env)
                if r:
                    times[lib].append(float(out.stdout))
    return [Row("import", "s", 1.0, times, {"abs": 0.15},
                "fresh interpreter, byte-code cached; the numpy column is `import numpy` "
                "alone")]


CONFIGS = {
    "full": dict(chain_ops=2000, repeats_small=15, batch=128, repeats_mlp=40, big_n=2048,
                 repeats_big=5, deep_ops=10_000, deep_rounds=3, deep_repeats=5,
                 import_repeats=7, lenet_batch=256, conv_batch=64, conv_size=32,
                 repeats_conv=7),
    "quick": dict(chain_ops=400, repeats_small=5, batch=128, repeats_mlp=10, big_n=512,
                  repeats_big=3, deep_ops=2000, deep_rounds=1, deep_repeats=2,
                  import_repeats=3, lenet_batch=32, conv_batch=8, conv_size=16,
                  repeats_conv=3),
}


def _is_compiled(row):
    return row.name.startswith(("compiled ", "scipy "))


def table(rows, libs):
    cols = ["benchmark", "unit"] + list(libs) + [f"cr/{l}" for l in libs if l != "chainrule"]
    cols += ["target", "met"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        cells = [row.name, row.unit] + [common.fmt(row.med(l)) for l in libs]
        cells += [common.fmt(row.ratio(l), 2) for l in libs if l != "chainrule"]
        v = row.verdicts()
        cells.append("; ".join((f"< {lim} s" if o == "abs" else f"cr/{o} <= {lim}") for o, _, lim in
                               [(o, r, lim) for o, lim, r, _ in v]) or "-")
        cells.append("; ".join("yes" if ok else f"NO ({common.fmt(r, 3)})" for _, _, r, ok in v)
                     or "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and few repeats")
    ap.add_argument("--only", default=",".join(ALL), help="comma-separated subset of " + ", ".join(ALL))
    ap.add_argument("--json", help="also write raw times to this file")
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS threads for NumPy and torch alike (default: NumPy's count)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                    help="cuda: the GPU benchmarks (benchmarks/gpu.py: chainrule vs a "
                         "hand-written CuPy step and PyTorch CUDA)")
    ap.add_argument("--standin", action="store_true",
                    help="with --device cuda: run on the test suite's stand-in backend (a "
                         "smoke test without a GPU, not a measurement)")
    a = ap.parse_args(argv)
    if a.device == "cuda":
        from benchmarks import gpu
        return gpu.main(quick=a.quick, standin=a.standin)
    cfg = CONFIGS["quick" if a.quick else "full"]
    which = [w.strip() for w in a.only.split(",") if w.strip()]
    libs = W.available_libs()
    threads = common.set_threads(a.threads)
    blas = common.blas_info()
    import numpy
    import chainrule
    versions = [f"python {platform.python_version()}", f"numpy {numpy.__version__}",
                f"chainrule {chainrule.__version__ if hasattr(chainrule, '__version__') else '?'}"]
    if "torch" in libs:
        import torch
        versions.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    if "hips" in libs:
        from importlib.metadata import version
        versions.append(f"autograd {version('autograd')}")
    print(f"# chainrule benchmarks ({'quick' if a.quick else 'full'})")
    print(f"# {', '.join(versions)}; BLAS {blas[0]} kernel {blas[1]}, {blas[2]} threads; "
          f"{os.cpu_count()} CPUs; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}, "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE')}")
    rows = []
    for w in which:
        if w == "overhead":
            new = bench_overhead(cfg, libs)
        elif w == "mlp":
            new = bench_mlp(cfg, libs)
        elif w == "deep":
            new = bench_deep(cfg, libs, threads)
        elif w == "big":
            new = bench_big(cfg, libs)
        elif w == "import":
            new = bench_import(cfg)
        elif w == "conv":
            new = bench_conv(cfg, libs)
        elif w == "compiled":
            new = bench_compiled(cfg, libs)
        else:
            raise SystemExit(f"unknown benchmark {w!r}; choose from {', '.join(ALL)}")
        for row in new:
            print(f"#   {row.name}: {row.note}", flush=True)
        rows += new
    plain = [r for r in rows if not _is_compiled(r)]
    compiled = [r for r in rows if _is_compiled(r)]
    if plain:
        print()
        print(table(plain, libs))
    if compiled:
        print()
        print("chainrule.compile (the chainrule column is the compiled replay; eager is "
              "chainrule without compile):")
        print(table(compiled, [c for c in COMPILED_LIBS if c in libs or c == "eager"]))
    print()
    print("ratios of the fastest rounds (less sensitive to load from other processes):")
    for row in rows:
        print(f"  {row.name:16s} " + "  ".join(f"cr/{l} {common.fmt(row.ratio_min(l), 2)}"
                                              for l in row.times if l != "chainrule"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({r.name: {"unit": r.unit, "scale": r.scale, "times": r.times} for r in rows},
                      f, indent=1)
    return rows


if __name__ == "__main__":
    main()
