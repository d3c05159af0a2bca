"""PyTorch's tensor printing: ``tensor([0., 1., 2., 3.], requires_grad=True)``.

Follows PyTorch's rules: precision 4, integers-valued floats print as ``1.``, scientific
notation when the ratio of largest to smallest non-zero magnitude exceeds 1000 (or values
exceed 1e8 or fall below 1e-4), summarisation with ``...`` above 1000 elements, a line
width of 80, and ``dtype=`` shown when it is not the default for its kind.
"""
import math

import numpy as np

from ._backend import to_host
from ._device import device_of
from . import _dtypes
from ._grad_mode import SHARED, notify
from .autograd.forward_ad import unpack_dual

__all__ = ["tensor_repr", "set_printoptions"]


class _Opts:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


OPTS = _Opts()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set printing options, as ``torch.set_printoptions``.

    >>> import chainrule as torch
    >>> torch.set_printoptions(precision=2); torch.tensor([1.2345])
    tensor([1.23])
    >>> torch.set_printoptions(profile="default")
    """
    if profile == "default":
        OPTS.precision, OPTS.threshold, OPTS.edgeitems, OPTS.linewidth = 4, 1000, 3, 80
    elif profile == "short":
        OPTS.precision, OPTS.threshold, OPTS.edgeitems, OPTS.linewidth = 2, 1000, 2, 80
    elif profile == "full":
        OPTS.precision, OPTS.threshold, OPTS.edgeitems, OPTS.linewidth = 4, math.inf, 3, 80
    if precision is not None:
        OPTS.precision = precision
    if threshold is not None:
        OPTS.threshold = threshold
    if edgeitems is not None:
        OPTS.edgeitems = edgeitems
    if linewidth is not None:
        OPTS.linewidth = linewidth
    OPTS.sci_mode = sci_mode


class _Formatter:
    """Chooses one layout for all printed values of a tensor, as PyTorch does: integers
    as they are; floats in "int mode" (``1.``) when every non-zero finite value is whole,
    else fixed point with ``precision`` decimals; scientific notation when the largest and
    smallest non-zero finite magnitudes differ by more than 1000x, exceed 1e8, or (outside
    int mode) fall below 1e-4.  The column width comes from the non-zero finite values
    only, so ``inf``/``nan``/zeros never widen the columns."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        p = OPTS.precision
        if not floating:
            for v in values.ravel().tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        vals = values.astype(np.float64).ravel()
        finite = vals[np.isfinite(vals) & (vals != 0)]
        if finite.size == 0:
            return                        # nothing to measure: width 1, fixed mode
        absv = np.abs(finite)
        vmin, vmax = absv.min(), absv.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if OPTS.sci_mode is None:
            self.sci_mode = bool(vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4)
        else:
            self.sci_mode = bool(OPTS.sci_mode)
        if self.sci_mode:
            strs = [f"{v:.{p}e}" for v in finite.tolist()]
        elif self.int_mode:
            strs = [f"{v:.0f}." for v in finite.tolist()]
        else:
            strs = [f"{v:.{p}f}" for v in finite.tolist()]
        self.max_width = max(len(s) for s in strs)

    @staticmethod
    def _int_str(v):
        s = f"{v:.0f}"
        return s if math.isinf(v) or math.isnan(v) else s + "."

    def _fmt(self, v):
        p = OPTS.precision
        if self.sci_mode:
            return f"{v:.{p}e}"
        if self.int_mode:
            return self._int_str(v)
        return f"{v:.{p}f}"

    def width(self):
        return self.max_width

    def format(self, v):
        if self.floating:
            s = f"{v:{self.max_width}.{OPTS.precision}e}" if self.sci_mode else self._fmt(v)
        else:
            s = str(v)
        return (self.max_width - len(s)) * " " + s


def _summarized(a):
    e = OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim > 1 and not e:
        return a[(slice(0, 0),) * a.ndim]
    if a.shape[0] > 2 * e:
        parts = [_summarized(x) for x in list(a[:e]) + list(a[-e:])]
        return np.stack(parts) if parts else a
    return np.stack([_summarized(x) for x in a]) if a.ndim > 1 else a


def _vector_str(a, indent, summarize, fmt):
    elem_len = fmt.width() + 2
    per_line = max(1, int(math.floor((OPTS.linewidth - indent) / elem_len)))
    e = OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = [fmt.format(v) for v in a[:e].tolist()] + [" ..."] + \
               [fmt.format(v) for v in a[-e:].tolist()]
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e = OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."] + \
                 [_tensor_str(a[i], indent + 1, summarize, fmt)
                  for i in range(a.shape[0] - e, a.shape[0])]
    else:
        slices = [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(s, suffixes, indent):
    out = [s]
    last_len = len(s) - s.rfind("\n") + 1
    for suf in suffixes:
        if last_len + len(suf) + 2 > OPTS.linewidth:
            out.append(",\n" + " " * indent + suf)
            last_len = indent + len(suf)
        else:
            out.append(", " + suf)
            last_len += len(suf) + 2
    out.append(")")
    return "".join(out)


def format_values(a, indent):
    """The bracketed value text of ndarray ``a`` as PyTorch prints it."""
    if a.size == 0:
        return "[]"
    summarize = a.size > OPTS.threshold
    shown = _summarized(a) if summarize else a
    fmt = _Formatter(shown, a.dtype.kind == "f")
    return _tensor_str(a, indent, summarize, fmt)


def tensor_repr(t, prefix="tensor("):
    if SHARED.observed:
        notify("value_read", t, "printing (repr)")
    a = t._data
    indent = len(prefix)
    suffixes = []
    if a.__class__ is not np.ndarray:           # a GPU tensor: printed from a host copy
        suffixes.append(f"device='{device_of(a)}'")
        a = to_host(a)
    default = _dtypes.DEFAULTS.float.np
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if a.dtype != default:
            suffixes.append("dtype=" + repr(_dtypes._FROM_NP[a.dtype]))
        body = "[]"
    else:
        if not OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(a.shape)))
        if a.dtype not in (default, np.dtype(np.int64), np.dtype(np.bool_)):
            suffixes.append("dtype=" + repr(_dtypes._FROM_NP[a.dtype]))
        body = format_values(a, indent)
    if t._node is not None:
        suffixes.append(f"grad_fn=<{t._node.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    if t._fw:
        tangent = unpack_dual(t).tangent          # at the innermost open dual level
        if tangent is not None:
            suffixes.append(f"tangent={tangent!r}")
    return _add_suffixes(prefix + body, suffixes, indent)
