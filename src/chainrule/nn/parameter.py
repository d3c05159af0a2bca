"""``Parameter``: a tensor that a ``Module`` registers as one of its trainable weights."""
import copy
from typing import Any, SupportsIndex

from .._tensor import _init_from, Tensor, vbox, wrap
from .._creation import empty

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered by ``Module`` attribute
    assignment.  ``Parameter(t)`` shares ``t``'s memory but is always a leaf, even when
    ``t`` was computed by recorded ops.

    >>> import chainrule as torch
    >>> from chainrule import nn
    >>> nn.Parameter(torch.ones(2) * 2)
    Parameter containing:
    tensor([2., 2.], requires_grad=True)
    >>> w = torch.ones(2, requires_grad=True) * 3
    >>> nn.Parameter(w).is_leaf
    True
    """
    # no __slots__: a Parameter gets a __dict__, so optimisers and users may tag it

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}; "
                            f"wrap numbers first, e.g. nn.Parameter(torch.tensor(...))")
        _init_from(self, data._data, None)
        self._vc = vbox(data)         # like detach(): same memory, same counter
        if requires_grad:
            if data._data.dtype.kind not in "fc":
                raise RuntimeError(
                    f"Only Tensors of floating point and complex dtype can require gradients "
                    f"(Parameter got {data.dtype}). Convert first, e.g. "
                    f"nn.Parameter(t.float()), or pass requires_grad=False.")
            self._rg = True

    def __repr__(self, *, tensor_contents: object = None) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo: dict[int, Any]) -> "Parameter":
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(wrap(self._data.copy()), self._rg)
        if self._grad is not None:
            result._grad = wrap(self._grad._data.copy())
        # user attributes only: hooks, views and the leaf's grad node stay with ``self``
        mine = {k: v for k, v in self.__dict__.items() if k not in _TENSOR_INTERNALS}
        result.__dict__.update(copy.deepcopy(mine, memo))
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto: SupportsIndex) -> Any:
        return (_rebuild_parameter, (self._data.copy(), self._rg))


_TENSOR_INTERNALS = frozenset(("_accum", "_hooks", "_base", "_retains", "_views"))


def _rebuild_parameter(data, requires_grad):
    return Parameter(wrap(data), requires_grad)
