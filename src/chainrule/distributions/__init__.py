"""``chainrule.distributions``: probability distributions with PyTorch's names
(``Normal``, ``Bernoulli``, ``Categorical``, ``Multinomial``): ``sample``, ``log_prob``,
``entropy``, ``mean``, ``variance``; ``Normal.rsample`` is reparameterised.

>>> import chainrule as torch
>>> from chainrule.distributions import multinomial
>>> _ = torch.manual_seed(0)
>>> counts = multinomial.Multinomial(1000, torch.ones(6) / 6).sample()
>>> counts.shape, float(counts.sum())
(torch.Size([6]), 1000.0)
"""
from . import bernoulli, categorical, multinomial, normal  # noqa: F401
from .categorical import Categorical, Multinomial  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .normal import Bernoulli, Normal  # noqa: F401

__all__ = ["Distribution", "Normal", "Bernoulli", "Categorical", "Multinomial"]
