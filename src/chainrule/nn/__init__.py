"""``chainrule.nn``: layers, losses and parameters (PyTorch's names)."""
from . import functional  # noqa: F401
