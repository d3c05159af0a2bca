"""One library's ``deep`` run in a fresh process (started by ``run.py``).

Prints one JSON line: the peak memory growth of a first forward+backward, then the time
of each of ``--repeats`` further ones.  Memory is measured the same way for every library:
the Linux peak resident set (``VmHWM``) is reset after the imports and the setup
(``/proc/self/clear_refs``), and the peak reached during one forward+backward minus the
resident size before it is reported (falls back to ``ru_maxrss`` deltas where ``/proc``
can't be used).  With ``--tracemalloc``
the peak of Python/NumPy allocations is reported instead (not meaningful for torch, whose
tensors are not allocated through Python's allocator).
"""
import argparse
import gc
import json
import os
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak():
    """Reset the kernel's peak-RSS mark; returns the baseline (KiB) or None."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_kb("VmRSS")
    except OSError:
        return None


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=1_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--tracemalloc", action="store_true")
    a = ap.parse_args(argv)
    from benchmarks import common
    from benchmarks.workloads import chain, chain_input
    common.set_threads(a.threads)
    step = chain(a.lib, chain_input(a.size), a.n)
    gc.collect()
    if a.tracemalloc:
        import tracemalloc
        tracemalloc.start()
        step()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(json.dumps({"lib": a.lib, "peak_mb": peak / 2**20}))
        return
    import resource
    base = _reset_peak()
    ru0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step()                      # the memory-measured run (cold: first touch of its memory)
    if base is not None:
        peak_kb = _status_kb("VmHWM") - base
    else:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - ru0
    times = []                  # timed runs come after it, for every library alike
    for _ in range(a.repeats):
        gc.collect()
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"lib": a.lib, "times": times, "peak_mb": peak_kb / 1024}))


if __name__ == "__main__":
    main()
