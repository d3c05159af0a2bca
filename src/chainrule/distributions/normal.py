"""``Normal(loc, scale)`` and ``Bernoulli(probs | logits)``."""
import math

import numpy as np

from .._tensor import wrap
from .._grad_mode import no_grad
from .distribution import (LOG_SQRT_2PI, Distribution, broadcast_all, clamp_probs,
                           randn_like_shape)
from .._creation import _rng
from ..nn.functional import binary_cross_entropy_with_logits

__all__ = ["Normal", "Bernoulli"]


class Normal(Distribution):
    """The normal distribution with mean ``loc`` and standard deviation ``scale``
    (broadcast together).  ``rsample`` is reparameterised (``loc + eps * scale``), so
    gradients flow to ``loc`` and ``scale``.

    >>> import chainrule as torch
    >>> d = torch.distributions.Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0]))
    >>> d.log_prob(torch.tensor([0.0, 1.0]))
    tensor([-0.9189, -1.6121])
    >>> d.entropy(), d.mean, d.variance
    (tensor([1.4189, 2.1121]), tensor([0., 1.]), tensor([1., 4.]))
    >>> _ = torch.manual_seed(0); d.sample((5,)).shape
    torch.Size([5, 2])
    """

    has_rsample = True
    arg_names = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)
        self._check_arg("loc", self.loc, np.isfinite, "Real()")
        self._check_arg("scale", self.scale, lambda s: s > 0, "GreaterThan(lower_bound=0.0)")

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        """A differentiable sample ``loc + eps * scale`` with ``eps`` standard normal."""
        shape = tuple(self._extended_shape(sample_shape))
        eps = randn_like_shape(shape, self.loc._data.dtype)
        return self.loc.expand(*shape) + eps * self.scale.expand(*shape)

    def sample(self, sample_shape=()):
        """A sample (no gradient) of shape ``sample_shape + batch_shape``."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def log_prob(self, value):
        """``-(value - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))``."""
        self._check_value(value, np.isfinite, "Real()")
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - LOG_SQRT_2PI

    def cdf(self, value):
        """``P(X <= value)``."""
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal()
                           / math.sqrt(2)).erf())

    def entropy(self):
        """``0.5 + 0.5 log(2 pi) + log(scale)``."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class Bernoulli(Distribution):
    """0/1 outcomes with success probability ``probs`` (or ``sigmoid(logits)``); give one
    of the two.

    >>> import chainrule as torch
    >>> d = torch.distributions.Bernoulli(torch.tensor([0.25, 0.5]))
    >>> d.log_prob(torch.tensor([1.0, 0.0]))
    tensor([-1.3863, -0.6931])
    >>> d.mean, d.variance
    (tensor([0.2500, 0.5000]), tensor([0.1875, 0.2500]))
    >>> _ = torch.manual_seed(0); d.sample((3,)).shape
    torch.Size([3, 2])
    """

    arg_names = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            super().__init__(self.probs.shape, (), validate_args)
            self._check_arg("probs", self.probs, lambda p: (p >= 0) & (p <= 1),
                            "Interval(lower_bound=0.0, upper_bound=1.0)")
            pc = clamp_probs(self.probs)
            self.__dict__["_logits"] = pc.log() - (-pc).log1p()
        else:
            (self.logits,) = broadcast_all(logits)
            super().__init__(self.logits.shape, (), validate_args)
            self._check_arg("logits", self.logits, lambda v: ~np.isnan(v), "Real()")
            self.__dict__["_probs"] = self.logits.sigmoid()

    def __getattr__(self, name):
        if name in ("probs", "logits"):
            return self.__dict__["_" + name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """0./1. samples of shape ``sample_shape + batch_shape`` (no gradient)."""
        shape = tuple(self._extended_shape(sample_shape))
        p = np.broadcast_to(self.probs._data, shape)
        return wrap((_rng(None).random(shape) < p).astype(self.probs._data.dtype))

    def log_prob(self, value):
        """``value * log(p) + (1 - value) * log(1 - p)``, computed from the logits."""
        self._check_value(value, lambda v: (v == 0) | (v == 1), "Boolean()")
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        """``-p log(p) - (1 - p) log(1 - p)``."""
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
