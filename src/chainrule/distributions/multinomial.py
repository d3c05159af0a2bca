"""``Multinomial`` (PyTorch's ``torch.distributions.multinomial`` module path)."""
from .categorical import Multinomial  # noqa: F401

__all__ = ["Multinomial"]
