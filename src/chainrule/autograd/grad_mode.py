"""Grad mode: whether ops record a graph.  ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The flags live in the object ``STATE`` so the op hot path reads one attribute.  As in
PyTorch, grad mode and forward-AD levels are per thread: ``STATE`` is a
``threading.local``, and a new thread starts with grad mode on and no forward levels
whatever the thread that started it is doing (a ``no_grad`` validation loop in one thread
does not stop another from recording).  Anomaly detection is per thread too (PyTorch keeps
it process-wide; chainrule's issue tracker asked for per-thread state): ``STATE.anomaly``
and ``STATE.check_nan``, with ``SHARED.anomaly`` counting the threads that have it on, so
the op hot path tests one process-wide slot and reads the thread-local only when some
thread has detection on.
"""
import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"]


class _State(threading.local):
    """One thread's autograd state (``__init__`` runs once in every thread that reads it)."""

    def __init__(self):
        self.enabled = True      # record graphs?
        self.fw_level = 0        # number of open forward-AD levels (0: forward mode off)
        self.fw_limit = 1 << 30  # tangents of levels >= this are not propagated (nesting)
        self.fw_levels = []      # ids of this thread's open forward levels, innermost last
        self.fw_open = set()     # the same, for membership tests
        self.anomaly = False     # detect_anomaly in this thread
        self.check_nan = True    # ... and check backward results for NaN
        self.anomaly_count = None  # while on: a token in SHARED.anomaly's count


class _Shared:
    """Process-wide facts the hot path reads without a thread-local lookup."""
    __slots__ = ("anomaly",)

    def __init__(self):
        self.anomaly = 0         # how many threads have anomaly detection on (0: none)


STATE = _State()
SHARED = _Shared()


def is_grad_enabled():
    """True when ops record a graph for reverse mode.

    >>> import chainrule as torch
    >>> torch.is_grad_enabled()
    True
    """
    return STATE.enabled


def _with_mode(fn, mode):
    """``fn`` wrapped so that it runs with grad mode ``mode`` (the decorator form)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        prev = STATE.enabled
        STATE.enabled = mode
        try:
            return fn(*args, **kwargs)
        finally:
            STATE.enabled = prev
    return wrapper


class _GradModeContext:
    """Base for the grad-mode context managers; each also works as a decorator, with or
    without parentheses (``@no_grad()`` and ``@no_grad``)."""
    _mode = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if func is None:
            return self
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments (got {func!r}); use "
                            f"`with {cls.__name__}():` or decorate a function")
        self.__init__()
        return self(func)

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self._mode

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        return _with_mode(fn, self._mode)


class no_grad(_GradModeContext):
    """Context manager / decorator: ops inside record no graph.

    >>> import chainrule as torch
    >>> x = torch.ones(2, requires_grad=True)
    >>> with torch.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    _mode = False


class enable_grad(_GradModeContext):
    """Context manager / decorator: turn graph recording back on inside ``no_grad``.

    >>> import chainrule as torch
    >>> x = torch.ones(2, requires_grad=True)
    >>> with torch.no_grad():
    ...     with torch.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """
    _mode = True


class inference_mode(no_grad):
    """Like ``no_grad`` (chainrule has no separate inference tensors).

    >>> import chainrule as torch
    >>> x = torch.ones(2, requires_grad=True)
    >>> with torch.inference_mode():
    ...     y = x * 2
    ...
    >>> y.requires_grad
    False
    """

    def __new__(cls, mode=True):
        if callable(mode):                  # @inference_mode without parentheses
            return object.__new__(cls)(mode)
        return object.__new__(cls)

    def __init__(self, mode=True):
        self._mode = not mode


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off; usable as a function, context manager or decorator.

    >>> import chainrule as torch
    >>> with torch.set_grad_enabled(False):
    ...     torch.is_grad_enabled()
    False
    """

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        self._prev = STATE.enabled
        self._mode = bool(mode)
        STATE.enabled = self._mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        STATE.enabled = self._prev        # used as a decorator: undo the call's effect
        return _with_mode(fn, self._mode)
