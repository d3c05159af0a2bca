"""Normalisation layers (``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``, ``GroupNorm``)
and channel dropout (``Dropout2d``), with PyTorch's parameters, buffers, defaults and
``state_dict`` keys."""
import numbers
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._backend import zeros_as
from .._creation import _uniform_on, empty, ones, tensor, zeros
from .._dtypes import dtype
from .._tensor import Tensor, bump_version, wrap
from ..ops.norm import batch_norm, group_norm, layer_norm
from . import init
from .module import Module
from .parameter import Parameter
from ._losses import dropout

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Dropout2d",
           "dropout2d"]


def _affine_params(module, affine, shape, bias, dtype, device):
    """``weight`` (and ``bias`` unless ``bias=False``) of ``shape`` when ``affine``, else
    both registered as None -- the normalisation layers' learnable elementwise affine."""
    if affine:
        module.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            module.bias = Parameter(empty(*shape, dtype=dtype, device=device))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module):
    """Weight 1, bias 0 (where they exist)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    _expected = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: dtype | None = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_params(self, affine, (num_features,), bias, dtype, device)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            for buf, value in ((self.running_mean, 0), (self.running_var, 1),
                               (self.num_batches_tracked, 0)):
                buf._data[...] = value
                bump_version(buf)       # (zero_()/fill_() in PyTorch)

    def reset_parameters(self) -> None:
        """Reset the running statistics; weight 1 and bias 0."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor input, got "
                            f"{type(input).__name__}")
        if input.ndim not in self._expected:
            want = " or ".join(f"{d}D" for d in self._expected)
            raise ValueError(f"expected {want} input (got {input.ndim}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            nbt = self.num_batches_tracked
            nbt._data += 1
            bump_version(nbt)           # (add_(1) in PyTorch)
            factor = 1.0 / float(nbt._data) if self.momentum is None else self.momentum
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if keep else None,
                          self.running_var if keep else None, self.weight, self.bias,
                          use_batch, factor, self.eps)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per channel, with learnable
    ``weight``/``bias`` (``affine``) and running statistics (``track_running_stats``)
    used in ``eval()`` mode.  ``momentum=None`` keeps a cumulative average.

    >>> import chainrule as torch
    >>> bn = torch.nn.BatchNorm1d(2)
    >>> bn(torch.tensor([[1.0, 2.0], [3.0, 6.0]]))
    tensor([[-1.0000, -1.0000],
            [ 1.0000,  1.0000]], grad_fn=<NativeBatchNormBackward0>)
    >>> bn.running_mean, list(bn.state_dict())
    (tensor([0.2000, 0.4000]), ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'])
    """

    _expected = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs per channel (see ``BatchNorm1d``).

    >>> import chainrule as torch
    >>> bn = torch.nn.BatchNorm2d(3).eval()          # running stats: mean 0, var 1
    >>> bn(torch.ones(1, 3, 2, 2)).shape
    torch.Size([1, 3, 2, 2])
    """

    _expected = (4,)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims of each sample, then
    ``* weight + bias`` elementwise (``elementwise_affine``; ``bias=False`` drops it).

    >>> import chainrule as torch
    >>> ln = torch.nn.LayerNorm(2)
    >>> ln(torch.tensor([[1.0, 3.0]]))
    tensor([[-1.0000,  1.0000]], grad_fn=<NativeLayerNormBackward0>)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: dtype | None = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_params(self, elementwise_affine, self.normalized_shape, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise each of ``num_groups`` groups of channels of each sample of an
    (N, C, *) input, then ``* weight + bias`` per channel (``affine``).

    >>> import chainrule as torch
    >>> gn = torch.nn.GroupNorm(2, 4)
    >>> gn(torch.tensor([[1.0, 3.0, 5.0, 5.0]]))
    tensor([[-1.0000,  1.0000,  0.0000,  0.0000]], grad_fn=<NativeGroupNormBackward0>)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: dtype | None = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_params(self, affine, (num_channels,), bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


# --- channel dropout ----------------------------------------------------------------------

_DROPOUT2D_DEPRECATED = (
    "dropout2d: Received a {}-D input to dropout2d, which is deprecated and will result in "
    "an error in a future release. To retain the behavior and silence this warning, please "
    "use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
    "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
    "(i.e. 3D or 4D inputs).")
_DROPOUT2D_3D = (
    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
    "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
    "dim. This behavior will change in a future release to interpret the input as one "
    "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
    "dropout behavior, please switch to using dropout1d instead.")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels: each (sample, channel) plane of an (N, C, H, W) input is
    dropped with probability ``p``, the others scaled by ``1 / (1 - p)`` (only when
    ``training``).  A 3-D input is taken as (N, C, L), as PyTorch does (with its warning).

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> _ = torch.manual_seed(0)
    >>> y = F.dropout2d(torch.ones(2, 3, 4, 4), p=0.5)
    >>> planes = y.reshape(6, 16)
    >>> bool(((planes == 0).all(1) | (planes == 2).all(1)).all())
    True
    """
    if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout2d(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    nd = input.ndim
    if nd not in (3, 4):
        warnings.warn(_DROPOUT2D_DEPRECATED.format(nd), UserWarning, stacklevel=2)
    elif nd == 3:
        warnings.warn(_DROPOUT2D_3D, UserWarning, stacklevel=2)
    if not training or p == 0:
        return input
    if nd < 2:
        return dropout(input, p, training, inplace)
    dt = input._data.dtype if input._data.dtype.kind == "f" else np.dtype(np.float32)
    shape = tuple(input.shape[:2]) + (1,) * (nd - 2)
    if p == 1:
        mask = zeros_as(input._data, shape, dt)
    else:
        keep = _uniform_on(input._data, shape) >= p          # (on input's device)
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
    if inplace:
        return input.mul_(wrap(mask))
    return input * wrap(mask)


class Dropout2d(Module):
    """In training mode zero whole channels of an (N, C, H, W) input with probability
    ``p`` (scaling the rest by ``1/(1-p)``); in eval mode the identity.

    >>> import chainrule as torch
    >>> torch.nn.Dropout2d(0.5).eval()(torch.ones(1, 2, 1, 1)).flatten()
    tensor([1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training, self.inplace)

    if TYPE_CHECKING:                 # calling the layer is calling forward
        __call__ = forward

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
