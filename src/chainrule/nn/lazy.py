"""Deferred initialisation: ``UninitializedParameter``/``UninitializedBuffer`` and the lazy
layers ``LazyLinear``, ``LazyConv1d/2d``, ``LazyConvTranspose1d/2d`` and
``LazyBatchNorm1d/2d``: the input size (``in_features``, ``in_channels``, ``num_features``)
is inferred from the first input, the parameters get their shapes and the layer's own
initialisation, and the module becomes the plain layer (``cls_to_become``), as PyTorch's."""
import numpy as np
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, SupportsIndex

from .._dtypes import get_default_dtype
from .._dtypes import dtype
from .._tensor import _init_from, Size, Tensor
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .layers import Linear
from .normalization import BatchNorm1d, BatchNorm2d, _BatchNorm
from .module import Module
from .parameter import Parameter
from .._creation import empty, tensor
from .._grad_mode import no_grad

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyLinear", "LazyConv1d",
           "LazyConv2d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyBatchNorm1d",
           "LazyBatchNorm2d"]


class _NoData(np.ndarray):
    """The empty array an uninitialised tensor holds: any NumPy computation with it (every
    op reads its inputs through NumPy) raises PyTorch's ValueError."""

    _kind = "UninitializedParameter"

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _refuse(getattr(ufunc, "__name__", str(ufunc)), self._kind)

    def __array_function__(self, func, types, args, kwargs):
        _refuse(getattr(func, "__name__", str(func)), self._kind)


class _NoBufferData(_NoData):
    _kind = "UninitializedBuffer"


def _no_data(dtype, cls=_NoData):
    return np.empty(0, dtype).view(cls)


def _refuse(what, kind="UninitializedParameter"):
    raise ValueError(f"Attempted to use an uninitialized parameter in {what}. This error "
                     f"happens when you are using a `LazyModule` or explicitly "
                     f"manipulating `torch.nn.parameter.{kind}` objects (a lazy layer's "
                     f"parameters and buffers get their shapes at its first forward). "
                     f"When using LazyModules Call `forward` with a dummy batch to "
                     f"initialize the parameters before calling torch functions")


class _Uninitialized:
    """What an uninitialised parameter and buffer share: no shape until ``materialize``."""
    __slots__ = ()
    _uninitialized = True          # (read by Module.state_dict/_apply: kept as they are)
    _becomes: type = Tensor

    def _fail(self, what):
        _refuse(what, type(self).__name__)

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
        """Give the tensor ``shape`` (uninitialised values) and make it an ordinary one."""
        dt = self._data.dtype if dtype is None else np.dtype(_np_dtype(dtype))
        self._data = np.empty(tuple(shape), dt)
        self.__class__ = self._becomes

    def __repr__(self, *, tensor_contents: object = None) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__


class UninitializedParameter(_Uninitialized, Parameter):
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
        self._data = _no_data(self._data.dtype)

    def __reduce_ex__(self, proto: SupportsIndex) -> Any:
        return (UninitializedParameter, (self._rg,))

    def __deepcopy__(self, memo: dict[int, Any]) -> "UninitializedParameter":
        if id(self) not in memo:
            memo[id(self)] = UninitializedParameter(self._rg, dtype=self.dtype)
        return memo[id(self)]


UninitializedParameter._becomes = Parameter


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not known yet (a lazy module's running statistics):
    ``materialize(shape)`` turns it into an ordinary tensor of that shape.

    >>> from chainrule import nn
    >>> b = nn.UninitializedBuffer()
    >>> b
    <UninitializedBuffer>
    >>> b.materialize((3,)); type(b).__name__, b.shape
    ('Tensor', torch.Size([3]))
    """

    def __init__(self, requires_grad: bool = False, device: Any = None,
                 dtype: dtype | None = None) -> None:
        _init_from(self, _no_data(empty(0, dtype=dtype if dtype is not None
                                        else get_default_dtype())._data.dtype, _NoBufferData), None)
        if requires_grad:
            self._rg = True

    def __reduce_ex__(self, proto: SupportsIndex) -> Any:
        return (UninitializedBuffer, (self._rg,))

    def __deepcopy__(self, memo: dict[int, Any]) -> "UninitializedBuffer":
        if id(self) not in memo:
            memo[id(self)] = UninitializedBuffer(self._rg, dtype=self.dtype)
        return memo[id(self)]


def _np_dtype(dtype):
    return empty(0, dtype=dtype)._data.dtype


class _LazyMixin:
    """The lazy layers' common part: until the first forward some parameters (buffers) are
    uninitialised; the first forward gives them their shapes from the input
    (``initialize_parameters``), then the module becomes ``cls_to_become`` and runs its
    forward.  ``reset_parameters`` does nothing while the shapes are unknown."""

    cls_to_become: type = type(None)

    def has_uninitialized_params(self) -> bool:
        """Whether some parameter or buffer still has no shape."""
        return any(isinstance(t, _Uninitialized)
                   for store in (self._parameters, self._buffers) for t in store.values())

    def forward(self, input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got "
                            f"{type(input).__name__}")
        if self.has_uninitialized_params():
            self.initialize_parameters(input)
            if self.has_uninitialized_params():
                raise RuntimeError(f"module {type(self).__name__} has not been fully "
                                   f"initialized")
        self._loaded()
        self.__class__ = self.cls_to_become
        return self.forward(input, *args, **kwargs)

    def _loaded(self):
        """What a lazy layer whose parameters came from ``load_state_dict`` sets before it
        becomes the plain layer (nothing but for ``LazyLinear``, as in PyTorch)."""


class LazyLinear(_LazyMixin, Linear):
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

    def initialize_parameters(self, input: Tensor) -> None:
        """Give ``weight`` (out_features, input.shape[-1]) and ``bias`` (out_features) their
        shapes and Linear's initialisation."""
        if self.has_uninitialized_params():
            if input.dim() == 0:
                raise RuntimeError("LazyLinear: the input must have at least one dimension "
                                   "(its last dimension gives in_features)")
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()

    def _loaded(self):
        if self.in_features == 0:                   # materialised by load_state_dict
            self.in_features = self.weight.shape[1]


# --- convolutions -------------------------------------------------------------------------

class _LazyConvMixin(_LazyMixin):
    """``in_channels`` from the first input's channel dimension (dim 1, or 0 unbatched)."""

    def _lazy_init(self, out_channels, bias, dtype):
        # the plain layer was built with in_channels = out_channels = 0 and no bias
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self) -> None:
        """The convolution's initialisation once the shapes are known (nothing before)."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """Give ``weight`` and ``bias`` their shapes from the input's channel count and the
        convolution's initialisation."""
        if not self.has_uninitialized_params():
            return
        nd = self._nd
        if input.dim() not in (nd + 1, nd + 2):
            raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input "
                               f"to {type(self).__name__}, but got input of size: "
                               f"{input.shape}")
        self.in_channels = input.shape[1] if input.dim() == nd + 2 else input.shape[0]
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        with no_grad():
            if self._transposed:
                shape = (self.in_channels, self.out_channels // self.groups)
            else:
                shape = (self.out_channels, self.in_channels // self.groups)
            self.weight.materialize(shape + tuple(self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


class LazyConv1d(_LazyConvMixin, Conv1d):
    """A ``Conv1d`` whose ``in_channels`` is inferred from the first input; it becomes a
    ``Conv1d`` at the first forward.

    >>> import chainrule as torch
    >>> conv = torch.nn.LazyConv1d(4, 3)
    >>> conv
    LazyConv1d(0, 4, kernel_size=(3,), stride=(1,))
    >>> conv(torch.ones(2, 5, 10)).shape, conv
    (torch.Size([2, 4, 8]), Conv1d(5, 4, kernel_size=(3,), stride=(1,)))
    """

    cls_to_become = Conv1d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] | str = 0,
                 dilation: int | tuple[int, ...] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None,
                 dtype: dtype | None = None) -> None:
        Conv1d.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False,
                        padding_mode, device=device, dtype=dtype)
        self._lazy_init(out_channels, bias, dtype)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = Conv1d.forward


class LazyConv2d(_LazyConvMixin, Conv2d):
    """A ``Conv2d`` whose ``in_channels`` is inferred from the first input (the book's
    deferred initialisation); it becomes a ``Conv2d`` at the first forward.

    >>> import chainrule as torch
    >>> conv = torch.nn.LazyConv2d(6, kernel_size=5, padding=2)
    >>> conv
    LazyConv2d(0, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
    >>> conv(torch.ones(4, 1, 28, 28)).shape, conv.weight.shape
    (torch.Size([4, 6, 28, 28]), torch.Size([6, 1, 5, 5]))
    >>> type(conv).__name__
    'Conv2d'
    """

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] | str = 0,
                 dilation: int | tuple[int, ...] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None,
                 dtype: dtype | None = None) -> None:
        Conv2d.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False,
                        padding_mode, device=device, dtype=dtype)
        self._lazy_init(out_channels, bias, dtype)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = Conv2d.forward


class LazyConvTranspose1d(_LazyConvMixin, ConvTranspose1d):
    """A ``ConvTranspose1d`` whose ``in_channels`` is inferred from the first input.

    >>> import chainrule as torch
    >>> up = torch.nn.LazyConvTranspose1d(2, 2, stride=2)
    >>> up(torch.ones(1, 4, 5)).shape, up.weight.shape
    (torch.Size([1, 2, 10]), torch.Size([4, 2, 2]))
    """

    cls_to_become = ConvTranspose1d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] = 0,
                 output_padding: int | tuple[int, ...] = 0, groups: int = 1,
                 bias: bool = True, dilation: int | tuple[int, ...] = 1,
                 padding_mode: str = "zeros", device: Any = None,
                 dtype: dtype | None = None) -> None:
        ConvTranspose1d.__init__(self, 0, 0, kernel_size, stride, padding, output_padding,
                                 groups, False, dilation, padding_mode, device, dtype)
        self._lazy_init(out_channels, bias, dtype)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = ConvTranspose1d.forward


class LazyConvTranspose2d(_LazyConvMixin, ConvTranspose2d):
    """A ``ConvTranspose2d`` whose ``in_channels`` is inferred from the first input.

    >>> import chainrule as torch
    >>> up = torch.nn.LazyConvTranspose2d(2, 3, stride=2, padding=1, output_padding=1)
    >>> up(torch.ones(1, 4, 5, 5)).shape, up.weight.shape
    (torch.Size([1, 2, 10, 10]), torch.Size([4, 2, 3, 3]))
    """

    cls_to_become = ConvTranspose2d

    def __init__(self, out_channels: int, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] = 0,
                 output_padding: int | tuple[int, ...] = 0, groups: int = 1,
                 bias: bool = True, dilation: int | tuple[int, ...] = 1,
                 padding_mode: str = "zeros", device: Any = None,
                 dtype: dtype | None = None) -> None:
        ConvTranspose2d.__init__(self, 0, 0, kernel_size, stride, padding, output_padding,
                                 groups, False, dilation, padding_mode, device, dtype)
        self._lazy_init(out_channels, bias, dtype)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = ConvTranspose2d.forward


# --- batch normalisation ------------------------------------------------------------------

class _LazyBatchNorm(_LazyMixin, _BatchNorm):
    """``num_features`` from the first input's dimension 1."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None,
                 dtype: dtype | None = None, *, bias: bool = True) -> None:
        # built with num_features 0 and nothing to learn or track, then given the
        # uninitialised parameters and buffers (same state_dict order as the plain layer)
        _BatchNorm.__init__(self, 0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.register_buffer("running_mean", UninitializedBuffer(dtype=dtype))
            self.register_buffer("running_var", UninitializedBuffer(dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0))

    def reset_parameters(self) -> None:
        """BatchNorm's reset once the shapes are known (nothing before)."""
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """Give the weight, bias and running statistics the input's channel count."""
        if not self.has_uninitialized_params():
            return
        if input.dim() < 2:
            raise IndexError(f"tuple index out of range ({type(self).__name__} infers "
                             f"num_features from dimension 1 of its input, which is "
                             f"{input.dim()}-D of shape {list(input.shape)}; pass (N, C, *))")
        self.num_features = input.shape[1]
        with no_grad():
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if t is not None:
                    t.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """A ``BatchNorm1d`` whose ``num_features`` is inferred from the first input.

    >>> import chainrule as torch
    >>> bn = torch.nn.LazyBatchNorm1d()
    >>> bn
    LazyBatchNorm1d(0, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> bn(torch.tensor([[1.0, 2.0], [3.0, 6.0]])).shape, bn.running_mean
    (torch.Size([2, 2]), tensor([0.2000, 0.4000]))
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """A ``BatchNorm2d`` whose ``num_features`` is inferred from the first input (the
    book's ``nn.LazyBatchNorm2d()``); it becomes a ``BatchNorm2d`` at the first forward.

    >>> import chainrule as torch
    >>> bn = torch.nn.LazyBatchNorm2d()
    >>> bn(torch.ones(2, 3, 4, 4)).shape, bn.weight.shape
    (torch.Size([2, 3, 4, 4]), torch.Size([3]))
    >>> bn
    BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    cls_to_become = BatchNorm2d
