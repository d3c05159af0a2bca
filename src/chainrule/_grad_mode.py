"""Grad mode: whether ops record a graph.  ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The flags live in the object ``STATE`` so the op hot path reads one attribute.  As in
PyTorch, grad mode and forward-AD levels are per thread: ``STATE`` is a
``threading.local``, and a new thread starts with grad mode on and no forward levels
whatever the thread that started it is doing (a ``no_grad`` validation loop in one thread
does not stop another from recording).  Observers are per thread too: ``observe(obj)``
attaches an object whose hooks the core calls -- ``op_ran(op, args, params, out)`` after
each op call of the program (the ops of a custom Function's forward included, with grad
mode off as they run; not the ops an op runs inside itself, such as its JVP rule's) and
``run_node(node, run)`` around each backward step (``run()`` computes the node's input
gradients).  ``viz.record`` and ``detect_anomaly`` attach this way; nothing patches the
core.  ``SHARED.observed`` counts the threads that have observers, so the op hot path
tests one process-wide slot and reads the thread-local only when some thread observes.
"""
import functools
import threading
from collections.abc import Callable
from typing import Any, Literal, Self, TypeVar, overload

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "observe", "unobserve", "notify", "announced"]


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
        self.observers = ()      # this thread's observers (see ``observe``), oldest first
        self.observed = None     # while it has some: its token in SHARED.observed's count
        self.nested = 0          # > 0 while an observed op runs (ops inside it are not told)


class _Shared:
    """Process-wide facts the hot path reads without a thread-local lookup."""
    __slots__ = ("observed",)

    def __init__(self):
        self.observed = 0        # how many threads have observers (0: none)


_F = TypeVar("_F", bound=Callable[..., Any])

STATE = _State()
SHARED = _Shared()
GRAD_LOCK = threading.Lock()    # held while a ``.grad`` is read, added to and stored (the
# engine's accumulation and retain_grad; PyTorch's AccumulateGrad holds a mutex too)
_COUNT_LOCK = threading.Lock()


class _Counted:
    """Held in a thread's state while it has observers: it leaves ``SHARED.observed`` when
    the last observer is detached or when the thread ends with observers attached."""

    def __init__(self):
        self.counted = True
        with _COUNT_LOCK:
            SHARED.observed += 1

    def release(self):
        if self.counted:
            self.counted = False
            with _COUNT_LOCK:
                SHARED.observed -= 1

    __del__ = release


def observe(observer: object) -> None:
    """Attach ``observer`` to this thread: the core calls its ``op_ran(op, args, params,
    out)`` after every op call of the program and its ``run_node(node, run)`` around every
    backward step (either may be absent).  Detach it with ``unobserve``.

    >>> import chainrule as torch
    >>> from chainrule.autograd.grad_mode import observe, unobserve
    >>> class Names:
    ...     def __init__(self): self.seen = []
    ...     def op_ran(self, op, args, params, out): self.seen.append(op.name)
    >>> names = Names(); observe(names)
    >>> y = torch.ones(2).exp().sum()
    >>> unobserve(names); names.seen
    ['exp', 'sum']
    """
    st = STATE
    if not st.observers:
        st.observed = _Counted()
    st.observers = st.observers + (observer,)


def unobserve(observer: object) -> None:
    """Detach an observer attached with ``observe`` (in this thread)."""
    st = STATE
    rest = list(st.observers)
    if observer not in rest:
        raise ValueError(f"unobserve: {observer!r} is not attached to this thread; "
                         f"attach it with observe() first (observers are per thread)")
    rest.remove(observer)
    st.observers = tuple(rest)
    if not rest:
        st.observed.release()
        st.observed = None


def notify(event: str, *args: Any) -> None:
    """Tell this thread's observers that have a method named ``event`` (``event(*args)``).

    The core calls it, behind ``if SHARED.observed:``, where something happens that an
    observer recording the program must know of but that is no op: a tensor's value read
    into Python (``value_read``), an in-place write (``wrote``, ``bumped``), a gradient
    added into ``.grad`` (``accumulating``), random numbers drawn (``random``) ...
    ``chainrule.compile`` uses them to record or to refuse what it cannot replay."""
    for ob in STATE.observers:
        f = getattr(ob, event, None)
        if f is not None:
            f(*args)


def announced(fn: _F) -> _F:
    """``fn`` (a method that updates state in place, such as ``Optimizer.step``) made
    visible to observers as one call: an observer with ``run_call(fn, args, kwargs)``
    runs it (and may record it as a unit); without observers it is a plain call."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if SHARED.observed:
            for ob in STATE.observers:
                run = getattr(ob, "run_call", None)
                if run is not None:
                    return run(fn, args, kwargs)
        return fn(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def is_grad_enabled() -> bool:
    """True when ops record a graph for reverse mode.

    >>> import chainrule as torch
    >>> torch.is_grad_enabled()
    True
    """
    return STATE.enabled


def _with_mode(fn: _F, mode: bool) -> _F:
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

    @overload
    def __new__(cls, func: None = None) -> Self: ...
    # without parentheses the decorator gives back the wrapped function, not an instance
    @overload
    def __new__(cls, func: _F) -> _F: ...  # type: ignore[misc]

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        if func is None:
            return self
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments (got {func!r}); use "
                            f"`with {cls.__name__}():` or decorate a function")
        self.__init__()
        return self(func)         # the decorator form: the wrapped function

    def __enter__(self) -> None:
        self._prev = STATE.enabled
        STATE.enabled = self._mode

    def __exit__(self, *exc: object) -> Literal[False]:
        STATE.enabled = self._prev
        return False

    def __call__(self, fn: _F) -> _F:
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

    def __new__(cls, mode: bool | Callable[..., Any] = True) -> Self:
        if callable(mode):                  # @inference_mode without parentheses
            return object.__new__(cls)(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool | Callable[..., Any] = True) -> None:
        self._mode = not mode


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off; usable as a function, context manager or decorator.

    >>> import chainrule as torch
    >>> with torch.set_grad_enabled(False):
    ...     torch.is_grad_enabled()
    False
    """

    def __new__(cls, mode: bool) -> Self:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        self._prev = STATE.enabled
        self._mode = bool(mode)
        STATE.enabled = self._mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> Literal[False]:
        STATE.enabled = self._prev
        return False

    def __call__(self, fn: _F) -> _F:
        STATE.enabled = self._prev        # used as a decorator: undo the call's effect
        return _with_mode(fn, self._mode)
