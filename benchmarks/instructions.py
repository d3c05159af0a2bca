"""Instructions per op under valgrind: a measure that other processes on the machine do
not disturb (wall-clock times on a shared 2-core machine move 10-20 % between runs).

    python -m benchmarks.instructions                  # vec4 chain, chainrule
    python -m benchmarks.instructions --lib torch      # the same chain in PyTorch
    python -m benchmarks.instructions --workload scalar  # the same chain on a 0-d tensor
    python -m benchmarks.instructions --workload mlp   # tiny MLP step (batch 4, 5-6-3)

The workload runs in a child process under ``valgrind --tool=callgrind`` twice, with
``k`` and ``5 k`` repetitions; the difference of the two instruction totals divided by the
extra repetitions (and by the chain's 2,000 ops) leaves out the interpreter start-up and
the imports.  The garbage collector stays on, as in real use (``--no-gc`` turns it off to
see its share).  Instructions are not time -- NumPy's scalar conversions and ufunc calls
have a different cost per instruction than the interpreter loop -- so use this to compare
two versions of chainrule, and the timed benchmarks to compare libraries.

Needs ``valgrind`` (Debian: ``apt-get install -y valgrind``); takes about 30 s per library
for the chain.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHAIN_OPS = 2000


def _child(workload, lib, reps, gc_on):
    """Run ``reps`` repetitions of the workload (inside the valgrind child)."""
    import gc
    import numpy as np
    from benchmarks import workloads as W
    if workload in ("chain", "scalar"):
        step = W.chain(lib, W.chain_input(4 if workload == "chain" else ()), CHAIN_OPS)
    else:
        x, y, params = W.mlp_data(batch=4, n_in=5, hidden=6, n_out=3, dtype="float32")
        step = W.mlp(lib, x, y, params)
    step()                                  # warm: imports inside the libraries, caches
    if not gc_on:
        gc.disable()
    for _ in range(reps):
        step()
    np.asarray(0)


def _count(workload, lib, reps, gc_on):
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           sys.executable, "-m", "benchmarks.instructions", "--child", "--workload", workload,
           "--lib", lib, "--reps", str(reps)] + ([] if gc_on else ["--no-gc"])
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or m is None:
        raise RuntimeError(f"valgrind run failed:\n{out.stderr[-2000:]}")
    return int(m.group(1))


def measure(workload="chain", lib="chainrule", k=1, gc_on=True):
    """Instructions per op (chain) or per step (mlp) of ``lib``: the difference between
    runs of ``5 k`` and ``k`` repetitions, per extra repetition."""
    if shutil.which("valgrind") is None:
        raise RuntimeError("valgrind is not installed: apt-get install -y valgrind")
    small = _count(workload, lib, k, gc_on)
    large = _count(workload, lib, 5 * k, gc_on)
    per = (large - small) / (4 * k)
    return per / CHAIN_OPS if workload in ("chain", "scalar") else per


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=("chain", "scalar", "mlp"), default="chain",
                    help="the vec4 chain, the same chain on a 0-d tensor, or the tiny MLP")
    ap.add_argument("--lib", default="chainrule")
    ap.add_argument("--k", type=int, default=None, help="base repetitions (default: "
                    "1 for the chain, 100 for the mlp step)")
    ap.add_argument("--no-gc", action="store_true", help="garbage collector off")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reps", type=int, default=1, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _child(a.workload, a.lib, a.reps, not a.no_gc)
        return
    k = a.k or (100 if a.workload == "mlp" else 1)
    n = measure(a.workload, a.lib, k, not a.no_gc)
    unit = "step" if a.workload == "mlp" else "op (fwd+bwd)"
    print(f"{a.lib} {a.workload}{'' if not a.no_gc else ' (gc off)'}: "
          f"{n:,.0f} instructions per {unit}")


if __name__ == "__main__":
    main()
