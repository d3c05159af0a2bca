"""Anomaly detection, as ``torch.autograd.detect_anomaly`` / ``set_detect_anomaly``.

While it is on, every recorded node keeps the stack of the user code that created it
(``node._trace``, kept by its ``op_ran`` hook, see ``grad_mode.observe``), and the engine
runs each node through :func:`checked_run`: if the node's VJP produces NaN, or raises,
the error names the node (``MulBackward0``) and shows where in user code the op was
created.

>>> import chainrule as torch
>>> x = torch.tensor([0.0], requires_grad=True)
>>> with torch.autograd.detect_anomaly():           # doctest: +ELLIPSIS
...     torch.sqrt(x * 0.0).sum().backward()
Traceback (most recent call last):
    ...
RuntimeError: Function 'MulBackward0' returned nan values in its 0th output.
The op was created here (most recent call last):
...

(``sqrt``'s backward gives ``inf`` at 0; the multiplication by 0.0 turns it into NaN.)

The mode is per thread (PyTorch's is process-wide): turning it on in one thread leaves
the others alone.  It attaches to the core as an observer (``grad_mode.observe``).
"""
import os
import traceback
import warnings
from typing import Literal

import numpy as np

from .._grad_mode import STATE, observe, unobserve


class _Detector:
    """The observer anomaly detection attaches to a thread (``grad_mode.observe``): it
    keeps the creation traceback of every node recorded, and checks each backward step."""

    def op_ran(self, op, args, params, out):
        node = out._node
        if node is not None and node._trace is None:
            node._trace = traceback.format_stack()[:-3]     # (without the core's frames)

    def run_node(self, node, run):
        return checked_run(node, run)


_DETECTOR = _Detector()


def _set(on, check_nan):
    """Turn this thread's anomaly detection on or off."""
    on = bool(on)
    if on != STATE.anomaly:
        if on:
            observe(_DETECTOR)
        else:
            unobserve(_DETECTOR)
        STATE.anomaly = on
    STATE.check_nan = check_nan

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "checked_run"]

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on.

    >>> import chainrule as torch
    >>> torch.autograd.is_anomaly_enabled()
    False
    >>> with torch.autograd.set_detect_anomaly(True):
    ...     torch.autograd.is_anomaly_enabled()
    ...
    True
    """
    return STATE.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks backward results for NaN (its ``check_nan``
    setting; ``True`` by default, also while detection is off, as in PyTorch).

    >>> import chainrule as torch
    >>> with torch.autograd.set_detect_anomaly(True, check_nan=False):
    ...     torch.autograd.is_anomaly_check_nan_enabled()
    ...
    False
    >>> with torch.autograd.set_detect_anomaly(True):
    ...     torch.autograd.is_anomaly_check_nan_enabled()
    ...
    True
    """
    return STATE.check_nan


class detect_anomaly:
    """Context manager that turns anomaly detection on (see the module docstring).

    ``check_nan``: raise when a backward function returns NaN (default ``True``).

    >>> import chainrule as torch
    >>> with torch.autograd.detect_anomaly():
    ...     torch.autograd.anomaly.is_anomaly_enabled()
    True
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self.prev = STATE.anomaly
        self.prev_nan = STATE.check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> Literal[False]:
        _set(self.prev, self.prev_nan)
        return False


class set_detect_anomaly:
    """Turn anomaly detection on or off; works as a function call or a context manager.

    >>> import chainrule as torch
    >>> with torch.autograd.set_detect_anomaly(False):
    ...     torch.autograd.anomaly.is_anomaly_enabled()
    False
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = STATE.anomaly
        self.prev_nan = STATE.check_nan
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> Literal[False]:
        _set(self.prev, self.prev_nan)
        return False


def user_trace(node):
    """The creation stack of ``node`` with chainrule's own frames removed (a string)."""
    trace = getattr(node, "_trace", None)
    if not trace:
        return ("  (no traceback: the op was created while anomaly detection was off; enable "
                "it before the forward pass)\n")
    kept = []
    for frame in trace:
        first = frame.lstrip().split("\n", 1)[0]          # '  File "...", line N, in f'
        if first.startswith('File "'):
            path = first[6:first.index('"', 6)]
            if os.path.abspath(path).startswith(_PKG_DIR + os.sep):
                continue
        kept.append(frame)
    return "".join(kept)


def _has_nan(g):
    data = getattr(g, "_data", g)
    return isinstance(data, np.ndarray) and data.dtype.kind in "fc" and bool(np.isnan(data).any())


def checked_run(node, run):
    """Run a backward step (``run()`` returns the node's input gradients) with anomaly
    checks: raise if a gradient contains NaN, and show the forward traceback of the node
    when its backward fails."""
    name = node.name()
    try:
        grads = run()
    except Exception:
        warnings.warn(f"Error detected in {name}. Traceback of forward call that caused the "
                      f"error:\n{user_trace(node)}", stacklevel=2)
        raise
    if STATE.check_nan:
        for i, gi in enumerate(grads):
            if gi is not None and _has_nan(gi):
                raise RuntimeError(
                    f"Function '{name}' returned nan values in its {i}th output.\n"
                    f"The op was created here (most recent call last):\n{user_trace(node)}"
                    f"Check the inputs of this op for values outside its domain (e.g. log or "
                    f"sqrt of a negative number, 0/0) or for infinities earlier in the forward "
                    f"pass.")
    return grads
