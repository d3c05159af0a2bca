"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``,
``Unfold`` and ``Fold`` (PyTorch's attributes, repr, state_dict keys and initialisation)."""
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._creation import empty
from .._dtypes import dtype
from .._tensor import Tensor
from ..ops import blocks as B, conv as C
from ..ops.pad import pad as _pad
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Unfold", "Fold"]

_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    _nd = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, ...], stride: int | tuple[int, ...] = 1,
                 padding: int | tuple[int, ...] | str = 0,
                 dilation: int | tuple[int, ...] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros",
                 output_padding: int | tuple[int, ...] = 0, device: Any = None,
                 dtype: dtype | None = None) -> None:
        super().__init__()
        nd = self._nd
        name = type(self).__name__
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _MODES:
            raise ValueError(f"padding_mode must be one of {list(_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = B.ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = B.ntuple(stride, nd, "stride", name)
        self.dilation = B.ntuple(dilation, nd, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
            pads = C._conv_pads(padding, self.kernel_size, self.dilation, self.stride, name)
        else:
            self.padding = B.ntuple(padding, nd, "padding", name)
            pads = tuple((p, p) for p in self.padding)
        # F.pad's order: last dimension first, (left, right) each
        self._reversed_padding_repeated_twice = [v for lo_hi in reversed(pads) for v in lo_hi]
        self.transposed = self._transposed
        self.output_padding = B.ntuple(output_padding, nd, "output_padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
        # with fan_in = weight.size(1) * prod(kernel_size); the bias from the same bound
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv_forward(self, input, weight, bias):
        fn = C.conv1d if self._nd == 1 else C.conv2d
        if self.padding_mode != "zeros":
            return fn(_pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode),
                      weight, bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward


class Conv1d(_ConvNd):
    """1-D convolution layer: ``weight`` (out_channels, in_channels / groups, k) and
    ``bias`` (out_channels), both from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as in PyTorch.

    >>> import chainrule as torch
    >>> conv = torch.nn.Conv1d(2, 4, 3, padding='same')
    >>> conv
    Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same)
    >>> conv(torch.ones(8, 2, 10)).shape
    torch.Size([8, 4, 10])
    """
    _nd = 1


class Conv2d(_ConvNd):
    """2-D convolution layer: ``weight`` (out_channels, in_channels / groups, kH, kW) and
    ``bias`` (out_channels), both from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as in PyTorch;
    ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'.

    >>> import chainrule as torch
    >>> conv = torch.nn.Conv2d(1, 6, kernel_size=5, padding=2)
    >>> conv
    Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
    >>> conv(torch.ones(4, 1, 28, 28)).shape
    torch.Size([4, 6, 28, 28])
    """
    _nd = 2


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, ...], stride: int | tuple[int, ...] = 1,
                 padding: int | tuple[int, ...] = 0,
                 output_padding: int | tuple[int, ...] = 0, groups: int = 1,
                 bias: bool = True, dilation: int | tuple[int, ...] = 1,
                 padding_mode: str = "zeros", device: Any = None,
                 dtype: dtype | None = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, "
                             f"not {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        nd = self._nd
        size = list(output_size)[-nd:]
        spatial = input.shape[-nd:]
        op = []
        for i in range(nd):
            smallest = ((spatial[i] - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            if not smallest <= size[i] < smallest + self.stride[i]:
                raise ValueError(f"requested an output size of {size}, but valid sizes range "
                                 f"from {smallest} to {smallest + self.stride[i] - 1} (for "
                                 f"an input of {list(spatial)})")
            op.append(size[i] - smallest)
        return tuple(op)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        fn = C.conv_transpose1d if self._nd == 1 else C.conv_transpose2d
        return fn(input, self.weight, self.bias, self.stride, self.padding,
                  self._output_padding(input, output_size), self.groups, self.dilation)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution layer: ``weight`` (in_channels, out_channels / groups,
    k); ``forward(input, output_size=None)``.

    >>> import chainrule as torch
    >>> up = torch.nn.ConvTranspose1d(4, 2, 2, stride=2)
    >>> up(torch.ones(1, 4, 5)).shape
    torch.Size([1, 2, 10])
    """
    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution layer: ``weight`` (in_channels, out_channels / groups,
    kH, kW); ``forward(input, output_size=None)`` picks ``output_padding`` from a
    requested size.

    >>> import chainrule as torch
    >>> up = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    >>> up(torch.ones(1, 4, 5, 5)).shape
    torch.Size([1, 2, 10, 10])
    """
    _nd = 2


class Unfold(Module):
    """Sliding blocks as columns (``nn.functional.unfold``).

    >>> import chainrule as torch
    >>> torch.nn.Unfold(kernel_size=2)(torch.ones(1, 3, 4, 4)).shape
    torch.Size([1, 12, 9])
    """

    def __init__(self, kernel_size: int | tuple[int, ...],
                 dilation: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] = 0,
                 stride: int | tuple[int, ...] = 1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return B.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns of sliding blocks summed back into an image (``nn.functional.fold``).

    >>> import chainrule as torch
    >>> torch.nn.Fold((4, 4), 2)(torch.ones(1, 12, 9)).shape
    torch.Size([1, 3, 4, 4])
    """

    def __init__(self, output_size: int | tuple[int, ...], kernel_size: int | tuple[int, ...],
                 dilation: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] = 0,
                 stride: int | tuple[int, ...] = 1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return B.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
