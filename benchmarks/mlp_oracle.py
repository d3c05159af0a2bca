"""How much of the mlp gap is NumPy work and how much is Python: an "oracle" step runs the
array operations chainrule's MLP step runs (bias add and relu out of place, relu's
backward mask, the one-hot of the indexed log-probabilities, ...) as plain NumPy, with no
graph, and is timed interleaved with chainrule's and the hand-written step.

    python -m benchmarks.mlp_oracle [float32|float64] [--threads N]

oracle/numpy is the cost of chainrule's temporaries alone; chainrule/oracle the cost of
its Python bookkeeping at this size (see benchmarks/README.md, fifth round).
"""
import argparse
import os
import sys

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import common, workloads as W  # noqa: E402


def oracle(x, y, params, lr=1e-3):
    """``step()`` doing chainrule's array work for the mlp workload, without a graph."""
    from chainrule.ops.activation import _relu_backward_np
    batch = x.shape[0]
    rows = np.arange(batch)
    ps = [p.copy() for p in params]

    def step():
        W1, b1, W2, b2 = ps
        h = np.maximum(x @ W1 + b1, 0)                  # two new arrays, as recorded
        logits = h @ W2 + b2
        idx = logits.argmax(1)
        z = logits - logits[rows, idx][:, None]
        e = np.exp(z)
        s = e.sum(1, keepdims=True)
        logp = z - np.log(s)
        loss = -logp[rows, y].sum() / batch              # (the forward's value)
        del loss
        g_pick = np.zeros_like(logp)                     # getitem's backward
        np.add.at(g_pick, (rows, y), -1.0 / batch)
        g_z = g_pick + np.broadcast_to(-g_pick.sum(1, keepdims=True) / s, e.shape) * e
        g_sel = np.zeros_like(logits)                    # max's backward
        g_sel[rows, idx] = -g_z.sum(1)
        g_logits = g_z + g_sel
        db2 = g_logits.sum(0)
        dW2 = h.T @ g_logits
        dh = _relu_backward_np(g_logits @ W2.T, h)
        db1 = dh.sum(0)
        dW1 = x.T @ dh
        grads = [dW1, db1, dW2, db2]
        for q, g in zip(ps, grads):
            q -= lr * g
        return grads
    return step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dtype", nargs="?", default="float64")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=60)
    a = ap.parse_args(argv)
    common.set_threads(a.threads)
    x, y, params = W.mlp_data(dtype=a.dtype)
    steps = {"oracle": oracle(x, y, params), "chainrule": W.mlp("chainrule", x, y, params),
             "numpy": W.mlp("numpy", x, y, params)}
    want = W.mlp("numpy", x, y, params)()
    tol = 1e-4 if a.dtype == "float32" else 1e-9
    for name, got in (("oracle", oracle(x, y, params)()),
                      ("chainrule", W.mlp("chainrule", x, y, params)())):
        for u, v in zip(got, want):
            assert np.allclose(u, v, rtol=tol, atol=tol), f"{name}'s gradients differ"
    t = common.interleaved(steps, a.repeats, warmup=3)
    for k in steps:
        print(f"{k:10s} {common.median(t[k]) * 1e3:.3f} ms")
    print(f"oracle/numpy {common.ratio(t, 'oracle', 'numpy'):.3f}  "
          f"chainrule/numpy {common.ratio(t, 'chainrule', 'numpy'):.3f}  "
          f"chainrule/oracle {common.ratio(t, 'chainrule', 'oracle'):.3f}")


if __name__ == "__main__":
    main()
