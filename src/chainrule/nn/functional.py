"""``chainrule.nn.functional``: activations and losses as plain functions."""
from ..ops.elementwise import relu as _relu, sigmoid, tanh  # noqa: F401
from ..ops.activation import elu, gelu, leaky_relu, logsigmoid, silu, softplus  # noqa: F401
from ..ops.activation import functional_log_softmax as log_softmax  # noqa: F401
from ..ops.activation import functional_softmax as softmax  # noqa: F401
from ..ops.activation import _inplace
from ..ops.index_more import embedding, pad  # noqa: F401


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
