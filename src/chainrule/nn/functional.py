"""``chainrule.nn.functional``: activations and losses as plain functions."""
from ..ops.elementwise import relu, sigmoid, tanh  # noqa: F401
from ._losses import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                      cross_entropy, dropout, l1_loss, mse_loss, nll_loss)
