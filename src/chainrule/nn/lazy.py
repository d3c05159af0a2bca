"""Deferred initialisation: ``UninitializedParameter`` and ``LazyLinear`` (``in_features``
inferred from the first input, then the module becomes a ``Linear``, as PyTorch's)."""
import numpy as np
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, SupportsIndex

from .._dtypes import get_default_dtype
from .._dtypes import dtype
from .._tensor import Size, Tensor
from .layers import Linear
from .module import Module
from .parameter import Parameter
from .._creation import empty
from .._grad_mode import no_grad

__all__ = ["UninitializedParameter", "LazyLinear"]


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet: it holds no data, its ``shape`` cannot be
    read, and ``materialize(shape)`` turns it into an ordinary ``Parameter`` of that shape
    (a lazy module does this at its first forward).

    >>> from chainrule import nn
    >>> p = nn.UninitializedParameter()
    >>> p
    <UninitializedParameter>
    >>> p.materialize((2, 3)); type(p).__name__, p.shape
    ('Parameter', torch.Size([2, 3]))
    """

    def __init__(self, requires_grad: bool = True, device: Any = None,
                 dtype: dtype | None = None) -> None:
        super().__init__(empty(0, dtype=dtype if dtype is not None else get_default_dtype()),
                         requires_grad)

    def _fail(self, what):
        raise ValueError(f"Attempted to use an uninitialized parameter in {what}. This error "
                         f"happens when you are using a `LazyModule` or explicitly "
                         f"manipulating `torch.nn.parameter.UninitializedParameter` objects. "
                         f"When using LazyModules Call `forward` with a dummy batch to "
                         f"initialize the parameters before calling torch functions")

    @property
    def shape(self) -> Size:
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. "
                           "This error usually happens in `load_state_dict` when trying to load "
                           "an uninitialized parameter into an initialized one. Call `forward` "
                           "to initialize the parameters before accessing their attributes.")

    def numel(self) -> int:
        self._fail("numel")

    def materialize(self, shape: Sequence[int], device: Any = None,
                    dtype: dtype | None = None) -> None:
        """Give the parameter ``shape`` (uninitialised values) and make it a ``Parameter``."""
        dt = self._data.dtype if dtype is None else np.dtype(_np_dtype(dtype))
        self._data = np.empty(tuple(shape), dt)
        self.__class__ = Parameter

    def __repr__(self, *, tensor_contents: object = None) -> str:
        return "<UninitializedParameter>"

    __str__ = __repr__

    def __reduce_ex__(self, proto: SupportsIndex) -> Any:
        return (UninitializedParameter, (self._rg,))

    def __deepcopy__(self, memo: dict[int, Any]) -> "UninitializedParameter":
        if id(self) not in memo:
            memo[id(self)] = UninitializedParameter(self._rg, dtype=self.dtype)
        return memo[id(self)]


def _np_dtype(dtype):
    return empty(0, dtype=dtype)._data.dtype


class LazyLinear(Linear):
    """A ``Linear`` whose ``in_features`` is inferred from the last dimension of the first
    input; until then ``weight`` and ``bias`` are ``UninitializedParameter`` and
    ``in_features`` is 0.  At the first forward the parameters get their shapes and
    ``Linear``'s initialisation, and the module becomes a ``Linear``.

    >>> import chainrule as torch
    >>> from chainrule import nn
    >>> net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
    >>> net[0]
    LazyLinear(in_features=0, out_features=256, bias=True)
    >>> net(torch.rand(2, 20)).shape, net[0].weight.shape
    (torch.Size([2, 10]), torch.Size([256, 20]))
    >>> net[0]
    Linear(in_features=20, out_features=256, bias=True)
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: dtype | None = None) -> None:
        Module.__init__(self)
        self.in_features = 0
        self.out_features = out_features
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Linear's initialisation once the shapes are known (nothing before)."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def has_uninitialized_params(self) -> bool:
        """Whether some parameter still has no shape."""
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

    def initialize_parameters(self, input: Tensor) -> None:
        """Give ``weight`` (out_features, input.shape[-1]) and ``bias`` (out_features) their
        shapes and Linear's initialisation."""
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"LazyLinear: input must be a Tensor, got {type(input).__name__}")
        if self.has_uninitialized_params():
            if input.dim() == 0:
                raise RuntimeError("LazyLinear: the input must have at least one dimension "
                                   "(its last dimension gives in_features)")
            self.initialize_parameters(input)
        elif self.in_features == 0:                  # materialised by load_state_dict
            self.in_features = self.weight.shape[1]
        self.__class__ = self.cls_to_become
        return Linear.forward(self, input)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward
