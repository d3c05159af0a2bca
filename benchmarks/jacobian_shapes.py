"""Forward vs reverse accumulation on Jacobians of different shapes.

``jacfwd`` runs one forward-mode pass per INPUT element, ``jacrev`` one reverse pass per
OUTPUT element (after a single forward pass).  So for a function R^n -> R^m:

* wide Jacobian (n >> m, e.g. a loss of many parameters): jacrev needs m passes, jacfwd n;
* tall Jacobian (n << m): jacfwd needs n passes, jacrev m.

This script counts the passes (calls of ``f`` and of ``autograd.grad``) and times both
transforms on a wide and a tall problem, plus torch.func for reference when available.
It is a benchmark, not a test:

    python benchmarks/jacobian_shapes.py [--n-big 300] [--n-small 3] [--repeats 3]
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import chainrule as cr              # noqa: E402
import chainrule.func as cf        # noqa: E402


def make_problem(n, m, seed=0):
    """``f(x) = tanh(W2 tanh(W1 x)) * x.sum()``: R^n -> R^m with a hidden layer of 16."""
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((16, n)) / np.sqrt(n)
    w2 = rng.standard_normal((m, 16)) / 4.0
    x = rng.standard_normal(n)
    return w1, w2, x


def chainrule_f(w1, w2, counter):
    W1, W2 = cr.tensor(w1, dtype=cr.float64), cr.tensor(w2, dtype=cr.float64)

    def f(x):
        counter["f"] += 1
        return cr.tanh(W2 @ cr.tanh(W1 @ x)) * x.sum()
    return f


def count_grad_calls(counter):
    """Wrap chainrule.func's autograd.grad so reverse passes are counted."""
    real = cf._autograd_grad

    def counting(*a, **k):
        counter["grad"] += 1
        return real(*a, **k)
    cf._autograd_grad = counting
    return lambda: setattr(cf, "_autograd_grad", real)


def best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(n_big, n_small, repeats):
    rows = []
    for shape, (n, m) in (("wide", (n_big, n_small)), ("tall", (n_small, n_big))):
        w1, w2, x0 = make_problem(n, m)
        x = cr.tensor(x0, dtype=cr.float64)
        results = {}
        for name in ("jacfwd", "jacrev"):
            counter = {"f": 0, "grad": 0}
            f = chainrule_f(w1, w2, counter)
            restore = count_grad_calls(counter)
            try:
                J = getattr(cf, name)(f)(x)
                passes = dict(counter)
                t = best_time(lambda: getattr(cf, name)(f)(x), repeats)
            finally:
                restore()
            results[name] = J.numpy()
            npass = passes["f"] if name == "jacfwd" else passes["grad"]
            kind = "forward-mode passes" if name == "jacfwd" else "reverse passes"
            rows.append((shape, f"{m}x{n}", name, npass, kind, passes["f"], t))
        np.testing.assert_allclose(results["jacfwd"], results["jacrev"], rtol=1e-10,
                                   atol=1e-12)
        try:
            import torch
            import torch.func as tf
            W1, W2 = torch.tensor(w1), torch.tensor(w2)
            xt = torch.tensor(x0)

            def ft(x):
                return torch.tanh(W2 @ torch.tanh(W1 @ x)) * x.sum()
            for name in ("jacfwd", "jacrev"):
                Jt = getattr(tf, name)(ft)(xt)
                np.testing.assert_allclose(Jt.numpy(), results[name], rtol=1e-10, atol=1e-12)
                t = best_time(lambda: getattr(tf, name)(ft)(xt), repeats)
                rows.append((shape, f"{m}x{n}", f"torch.func.{name} (vmap)", "-", "", "-", t))
        except ImportError:
            pass
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-big", type=int, default=300)
    ap.add_argument("--n-small", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    rows = run(args.n_big, args.n_small, args.repeats)
    print(f"{'shape':6} {'J (m x n)':>10} {'transform':28} {'passes':>7} {'':20} "
          f"{'f calls':>7} {'time (ms)':>10}")
    for shape, dims, name, npass, kind, fcalls, t in rows:
        print(f"{shape:6} {dims:>10} {name:28} {str(npass):>7} {kind:20} {str(fcalls):>7} "
              f"{t * 1e3:10.2f}")
    print("\njacfwd: one forward pass per input element (n); jacrev: one forward pass plus one "
          "reverse pass per output element (m).\nPick jacrev for wide Jacobians and jacfwd for "
          "tall ones.")


if __name__ == "__main__":
    main()
