"""``Bernoulli`` (PyTorch's ``torch.distributions.bernoulli`` module path)."""
from .normal import Bernoulli  # noqa: F401

__all__ = ["Bernoulli"]
