"""Forward-mode AD, as ``torch.autograd.forward_ad``.

Inside ``dual_level()``, ``make_dual(primal, tangent)`` gives a tensor that carries a
tangent; every op propagates it through its JVP rule, and ``unpack_dual`` reads it back.
Levels nest (each ``dual_level`` opens a new one), which ``chainrule.func.jacfwd`` uses.

Levels belong to the thread that opened them: each thread has its own stack of levels
(``STATE`` is per thread), so threads doing forward AD at the same time do not see or
close each other's levels.  (PyTorch has one process-wide level and refuses to open a
second one while it is open, in any thread.)  Level ids are unique across threads, so a
dual tensor made in one thread carries no tangent at another thread's level.

>>> import chainrule as torch
>>> import chainrule.autograd.forward_ad as fwAD
>>> with fwAD.dual_level():
...     x = fwAD.make_dual(torch.tensor([1., 2.]), torch.tensor([1., 0.]))
...     fwAD.unpack_dual(x * x).tangent
tensor([2., 0.])
"""
import itertools
import threading
from typing import Literal, NamedTuple

from .._tensor import Tensor
from .._grad_mode import STATE
from ..ops.shape import VIEW

__all__ = ["dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor", "enter_dual_level",
           "exit_dual_level"]

class UnpackedDualTensor(NamedTuple):
    """``unpack_dual``'s result: the primal and its tangent (None where it has none)."""
    primal: "Tensor"
    tangent: "Tensor | None"

# level ids: never reused (so tangents of closed levels stay dead) and unique across
# threads; each thread's open levels are STATE.fw_levels / STATE.fw_open
_ids = itertools.count(1)
_ids_lock = threading.Lock()


def enter_dual_level() -> int:
    """Open a new forward-AD level and return its id.

    >>> import chainrule as torch
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> lvl = fwAD.enter_dual_level()
    >>> fwAD.unpack_dual(fwAD.make_dual(torch.tensor(1.), torch.tensor(5.))).tangent
    tensor(5.)
    >>> fwAD.exit_dual_level(level=lvl)
    """
    with _ids_lock:
        level = next(_ids)
    st = STATE
    st.fw_levels.append(level)
    st.fw_open.add(level)
    st.fw_level = len(st.fw_levels)
    return level


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the innermost level; its tangents are dropped.

    >>> import chainrule as torch
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> lvl = fwAD.enter_dual_level()
    >>> x = fwAD.make_dual(torch.tensor(1.), torch.tensor(5.))
    >>> fwAD.exit_dual_level(level=lvl)
    >>> fwAD.unpack_dual(x).tangent is None
    True
    """
    st = STATE
    levels = st.fw_levels
    if not levels:
        raise RuntimeError("exit_dual_level: no forward AD level is open in this thread "
                           "(levels belong to the thread that opened them)")
    lv = levels[-1]
    if level is not None and level != lv:
        raise RuntimeError(f"exit_dual_level: trying to exit level {level} but the innermost "
                           f"open level of this thread is {lv}")
    levels.pop()
    st.fw_open.discard(lv)
    st.fw_level = len(levels)


class dual_level:
    """Context manager that opens a forward-AD level (see the module docstring).

    >>> import chainrule as torch
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     y = fwAD.make_dual(torch.tensor(2.), torch.tensor(1.)) ** 2
    ...     fwAD.unpack_dual(y).tangent
    ...
    tensor(4.)
    """

    def __enter__(self) -> int:
        self.level = enter_dual_level()
        return self.level

    def __exit__(self, *exc: object) -> Literal[False]:
        exit_dual_level(level=self.level)
        return False


def _current(level):
    levels = STATE.fw_levels
    if level is None:
        if not levels:
            raise RuntimeError("Trying to create a dual Tensor for forward AD but no level "
                               "exists, make sure to enter_dual_level() first (e.g. `with "
                               "forward_ad.dual_level():` around the computation; levels "
                               "are per thread).")
        return levels[-1]
    if level not in STATE.fw_open:
        raise RuntimeError(f"Invalid level given: forward AD level {level} is not open in "
                           f"this thread (open levels: {list(levels)}).")
    return level


def make_dual(tensor: "Tensor", tangent: "Tensor", *, level: int | None = None) -> "Tensor":
    """A view of ``tensor`` carrying ``tangent`` at the current level (same shape).

    >>> import chainrule as torch
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(torch.tensor([1., 2.]), torch.tensor([1., 0.]))
    ...     fwAD.unpack_dual(torch.sin(x)).tangent
    ...
    tensor([0.5403, -0.0000])
    """
    level = _current(level)
    if not isinstance(tangent, Tensor) or not isinstance(tensor, Tensor):
        raise TypeError(f"make_dual expects Tensors for both primal and tangent, got "
                        f"{type(tensor).__name__} and {type(tangent).__name__}")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(f"make_dual: Trying to set a forward gradient that has a different "
                           f"size than that of the original Tensor, this is not supported. "
                           f"Tensor is of size {list(tensor._data.shape)} while the given "
                           f"forward gradient is of size {list(tangent._data.shape)}.")
    if tensor._data.dtype.kind != "f":
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if tangent._data.dtype.kind != "f":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tensor._fw and tensor._fw.get(level) is not None:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {level} is not supported. Unpack it "
                           f"first (unpack_dual(t).primal) to replace its tangent.")
    s = tensor._data.shape
    prev = STATE.fw_limit
    STATE.fw_limit = level       # the view must not pick up this level's old tangent
    try:
        dual = VIEW.apply((tensor,), {"shape": s, "src": s})
    finally:
        STATE.fw_limit = prev
    if tangent._data.dtype != tensor._data.dtype:
        tangent = tangent.to(tensor.dtype)
    if dual._fw is None:
        dual._fw = {}
    else:
        dual._fw = dict(dual._fw)
    dual._fw[level] = tangent
    return dual


def unpack_dual(tensor: "Tensor", *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of a dual tensor; the tangent is ``None`` if it has none.

    >>> import chainrule as torch
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     p, t = fwAD.unpack_dual(fwAD.make_dual(torch.tensor(3.), torch.tensor(1.)) * 2)
    ...     p, t
    ...
    (tensor(6.), tensor(2.))
    >>> fwAD.unpack_dual(torch.tensor(1.)).tangent is None
    True
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual(): argument 'dual' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    level = _current(level) if STATE.fw_levels or level is not None else None
    tangent = tensor._fw.get(level) if tensor._fw and level is not None else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    s = tensor._data.shape
    prev = STATE.fw_limit
    STATE.fw_limit = level
    try:
        primal = VIEW.apply((tensor,), {"shape": s, "src": s})
    finally:
        STATE.fw_limit = prev
    return UnpackedDualTensor(primal, tangent)
