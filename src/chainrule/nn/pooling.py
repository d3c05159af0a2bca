"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``,
``AdaptiveMaxPool1d/2d`` (PyTorch's attributes and repr; no parameters)."""
from typing import TYPE_CHECKING, Any

from .._tensor import Tensor
from ..ops import pool as P
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] | None = None,
                 padding: int | tuple[int, ...] = 0, dilation: int | tuple[int, ...] = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        fn = P.max_pool1d if self._nd == 1 else P.max_pool2d
        return fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                  ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max pooling over (N, C, L) or (C, L) (``nn.functional.max_pool1d``).

    >>> import chainrule as torch
    >>> torch.nn.MaxPool1d(2)(torch.tensor([[1., 3., 2., 0.]]))
    tensor([[3., 2.]])
    """
    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max pooling over (N, C, H, W) or (C, H, W) (``nn.functional.max_pool2d``).

    >>> import chainrule as torch
    >>> torch.nn.MaxPool2d(2)
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> torch.nn.MaxPool2d(2)(torch.ones(1, 4, 4)).shape
    torch.Size([1, 2, 2])
    """
    _nd = 2


class AvgPool1d(Module):
    """Average pooling over (N, C, L) or (C, L) (``nn.functional.avg_pool1d``).

    >>> import chainrule as torch
    >>> torch.nn.AvgPool1d(2)(torch.tensor([[1., 3., 2., 0.]]))
    tensor([[2., 1.]])
    """

    def __init__(self, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] | None = None,
                 padding: int | tuple[int, ...] = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = P.ntuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = P.ntuple(stride if stride is not None else kernel_size, 1, "stride",
                               "AvgPool1d")
        self.padding = P.ntuple(padding, 1, "padding", "AvgPool1d")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return P.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Average pooling over (N, C, H, W) or (C, H, W) (``nn.functional.avg_pool2d``).

    >>> import chainrule as torch
    >>> torch.nn.AvgPool2d(2, 2)
    AvgPool2d(kernel_size=2, stride=2, padding=0)
    >>> torch.nn.AvgPool2d(2)(torch.ones(1, 4, 4))
    tensor([[[1., 1.],
             [1., 1.]]])
    """

    def __init__(self, kernel_size: int | tuple[int, ...],
                 stride: int | tuple[int, ...] | None = None,
                 padding: int | tuple[int, ...] = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return P.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveNd(Module):
    def __init__(self, output_size: int | tuple[int | None, ...],
                 return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        if self._max:
            self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        if self._max:
            fn = P.adaptive_max_pool1d if self._nd == 1 else P.adaptive_max_pool2d
            return fn(input, self.output_size, self.return_indices)
        fn = P.adaptive_avg_pool1d if self._nd == 1 else P.adaptive_avg_pool2d
        return fn(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveNd):
    """Average pooling to a fixed length (``nn.functional.adaptive_avg_pool1d``).

    >>> import chainrule as torch
    >>> torch.nn.AdaptiveAvgPool1d(1)(torch.tensor([[1., 2., 3.]]))
    tensor([[2.]])
    """
    _nd, _max = 1, False

    def __init__(self, output_size: int | tuple[int | None, ...]) -> None:
        super().__init__(output_size)


class AdaptiveAvgPool2d(_AdaptiveNd):
    """Average pooling to a fixed size (``nn.functional.adaptive_avg_pool2d``).

    >>> import chainrule as torch
    >>> torch.nn.AdaptiveAvgPool2d((1, 1))(torch.ones(2, 3, 7, 7)).shape
    torch.Size([2, 3, 1, 1])
    """
    _nd, _max = 2, False

    def __init__(self, output_size: int | tuple[int | None, ...]) -> None:
        super().__init__(output_size)


class AdaptiveMaxPool1d(_AdaptiveNd):
    """Max pooling to a fixed length (``nn.functional.adaptive_max_pool1d``).

    >>> import chainrule as torch
    >>> torch.nn.AdaptiveMaxPool1d(1)(torch.tensor([[1., 3., 2.]]))
    tensor([[3.]])
    """
    _nd, _max = 1, True


class AdaptiveMaxPool2d(_AdaptiveNd):
    """Max pooling to a fixed size (``nn.functional.adaptive_max_pool2d``).

    >>> import chainrule as torch
    >>> torch.nn.AdaptiveMaxPool2d(1)(torch.ones(2, 3, 7, 7)).shape
    torch.Size([2, 3, 1, 1])
    """
    _nd, _max = 2, True
