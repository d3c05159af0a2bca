"""Timing and reporting helpers shared by the benchmarks."""
import gc
import statistics
import time


def blas_info():
    """NumPy's BLAS as threadpoolctl sees it: ``(library, kernel, threads)``."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ("unknown (pip install threadpoolctl)", "?", None)
    import numpy  # noqa: F401  (loads the BLAS)
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return (info.get("internal_api"), info.get("architecture", "?"), info.get("num_threads"))
    return ("none", "?", None)


_LIMITS = []


def set_threads(n=None):
    """Give PyTorch NumPy's BLAS thread count so both use the same cores; with ``n``, first
    limit NumPy's BLAS to ``n`` threads (threadpoolctl) and give torch the same."""
    if n is not None:
        try:
            from threadpoolctl import threadpool_limits
            _LIMITS.append(threadpool_limits(limits=int(n), user_api="blas"))
        except ImportError:
            pass
    if n is None:
        n = blas_info()[2]
    if n is None:
        return None
    try:
        import torch
    except ImportError:
        return n
    torch.set_num_threads(int(n))
    return n


def interleaved(steps, repeats, warmup=1):
    """Time each callable of ``steps`` (``{lib: step}``) ``repeats`` times, interleaved
    (round ``r`` runs every library once, in an order rotated by ``r``).  Returns
    ``{lib: [seconds per round]}``."""
    libs = list(steps)
    for _ in range(warmup):
        for lib in libs:
            steps[lib]()
    times = {lib: [] for lib in libs}
    for r in range(repeats):
        k = r % len(libs)
        for lib in libs[k:] + libs[:k]:
            gc.collect()
            t0 = time.perf_counter()
            steps[lib]()
            times[lib].append(time.perf_counter() - t0)
    return times


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def ratio(times, a, b):
    """Median over rounds of the same-round ratio ``times[a][r] / times[b][r]``."""
    if a not in times or b not in times:
        return float("nan")
    return median([x / y for x, y in zip(times[a], times[b])])


def fmt(x, digits=3):
    if x != x:          # nan
        return "-"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"
