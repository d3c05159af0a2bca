"""Recording which ops run: the trace behind ``explain`` and ``graph(..., trace=rec)``.

A graph walk from an output only sees what reverse mode recorded.  Values of
intermediates that no node saved, constants that were not saved, and work done under
``no_grad`` leave no trace there.  ``record()`` fills that gap: while it is active every
op call the thread makes (every op goes through ``chainrule.ops._core.apply``) is noted
as an ``Event`` -- the op's name, its arguments (Tensors and Python scalars, as passed),
its result Tensor and whether grad mode was on.  Calls made *inside* an op (a custom
Function's forward, a JVP rule under forward mode) are not recorded: only the program's
own steps are.

``record()`` attaches an observer to the thread (``autograd.grad_mode.observe``), the
core's extension point; ops run by other threads are not recorded.
"""
from .._grad_mode import STATE, observe, unobserve

__all__ = ["record", "Event", "Recording"]


class Event:
    """One op call: ``name`` (rule-table name, e.g. ``"mul"``), ``args`` (as passed),
    ``params`` (non-tensor arguments), ``result`` (the Tensor), ``grad_enabled``.

    >>> import chainrule as torch
    >>> from chainrule import viz
    >>> x = torch.tensor([1., 2.], requires_grad=True)
    >>> with viz.record() as rec:
    ...     y = x * 3
    ...
    >>> e = rec.events[0]
    >>> e, e.name, e.grad_enabled, e.result is y
    (Event(mul), 'mul', True, True)
    """
    __slots__ = ("name", "args", "params", "result", "grad_enabled")

    def __init__(self, name, args, params, result, grad_enabled):
        self.name, self.args, self.params = name, args, params
        self.result, self.grad_enabled = result, grad_enabled

    @property
    def node(self):
        """The recorded graph node (``grad_fn``) of the result, or ``None``."""
        return self.result.grad_fn

    def __repr__(self):
        mode = "" if self.grad_enabled else ", no_grad"
        return f"Event({self.name}{mode})"


class Recording:
    """The events of one ``record()`` block, in execution order.

    >>> import chainrule as torch
    >>> from chainrule import viz
    >>> x = torch.tensor([1., 2.], requires_grad=True)
    >>> with viz.record() as rec:
    ...     y = (x * 3).exp()
    ...
    >>> [e.name for e in rec.events]
    ['mul', 'exp']
    """

    def __init__(self):
        self.events = []

    def __iter__(self):
        return iter(self.events)

    def __len__(self):
        return len(self.events)

    def producer(self, tensor):
        """The event whose result is ``tensor`` (by identity), or ``None``."""
        for ev in reversed(self.events):
            if ev.result is tensor:
                return ev
        return None

    def by_node(self):
        """``{grad_fn node: event}`` for the events that recorded a node."""
        return {ev.result._node: ev for ev in self.events if ev.result._node is not None}


class record:
    """Context manager recording every op the enclosed code runs (in this thread).

    >>> import chainrule as torch
    >>> from chainrule.viz import record
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> with record() as rec:
    ...     with torch.no_grad():
    ...         c = x * 2
    ...     y = (c * x).sum()
    >>> [(e.name, e.grad_enabled) for e in rec]
    [('mul', False), ('mul', True), ('sum', True)]
    """

    def __enter__(self):
        self.recording = Recording()
        observe(self)
        return self.recording

    def op_ran(self, op, args, params, out):
        """The observer hook: note one op call."""
        self.recording.events.append(
            Event(op.name, tuple(args), dict(params or {}), out, STATE.enabled))

    def __exit__(self, *exc):
        unobserve(self)
        return False
