"""``chainrule.nn.functional``: activations and losses as plain functions."""
from .._tensor import Tensor as _Tensor
from ..ops.activation import relu as _relu, sigmoid  # noqa: F401
from ..ops.unary import tanh  # noqa: F401
from ..ops.activation import elu, gelu, leaky_relu, logsigmoid, silu, softplus  # noqa: F401
from ..ops.activation import functional_log_softmax as log_softmax  # noqa: F401
from ..ops.activation import functional_softmax as softmax  # noqa: F401
from ..ops.activation import _inplace
from ..ops.index import embedding  # noqa: F401
from ..ops.pad import pad  # noqa: F401
from ._linear import linear  # noqa: F401
from ..ops.blocks import fold, unfold  # noqa: F401
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: F401
from ..ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d,  # noqa: F401
                        adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, avg_pool2d,
                        max_pool1d, max_pool2d)


def relu(input, inplace=False):
    """``max(x, 0)`` elementwise (gradient 0 at 0, as in PyTorch); ``inplace=True``
    overwrites ``input``.

    >>> import chainrule as torch
    >>> torch.nn.functional.relu(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return _inplace("relu_", _relu, input) if inplace else _relu(input)


from ._losses import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                      cross_entropy, dropout, l1_loss, mse_loss, nll_loss)
from ..ops.norm import batch_norm, group_norm, layer_norm  # noqa: F401
from .normalization import dropout2d  # noqa: F401
from ._helpers import one_hot  # noqa: F401
from .attention import scaled_dot_product_attention  # noqa: F401,E402
