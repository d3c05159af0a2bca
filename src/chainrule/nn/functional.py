"""``chainrule.nn.functional``: activations and losses as plain functions."""
from ..ops.elementwise import relu, sigmoid, tanh  # noqa: F401
