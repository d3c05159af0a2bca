"""Short, exact-looking text for numbers, arrays, shapes and dtypes (shared by viz)."""
import numpy as np


def num(v, digits=6):
    """``7.0 -> '7'``, ``-3.0 -> '-3'``, ``4.5 -> '4.5'``, ``True -> 'True'``."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    s = format(v, f".{digits}g")
    if "e" not in s and "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def array(a, max_items=12, digits=6):
    """An ndarray (or scalar) as ``'7'``, ``'[-6, -3, -9]'``, ``'[[1, 0], [0, 1]]'``;
    larger arrays as ``'<shape [100] float64>'``."""
    a = np.asarray(a)
    if a.ndim == 0:
        return num(a.item(), digits)
    if a.size > max_items:
        return f"<{shape(a.shape)} {a.dtype.name}>"

    def rec(x):
        if x.ndim == 1:
            return "[" + ", ".join(num(v, digits) for v in x.tolist()) + "]"
        return "[" + ", ".join(rec(r) for r in x) + "]"
    return rec(a)


def shape(s):
    return "[" + ", ".join(str(int(d)) for d in s) + "]"


def nbytes(n):
    if n < 1024:
        return f"{n} B"
    if n < 1024 ** 2:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 ** 2:.1f} MiB"
