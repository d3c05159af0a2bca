"""``Categorical(probs | logits)`` over ``K`` classes and ``Multinomial(total_count,
probs | logits)``: counts of ``total_count`` categorical draws."""
import math

import numpy as np

from .._tensor import Size, wrap
from .distribution import Distribution, as_float_tensor, clamp_probs
from .._creation import _rng, arange, full
from ..nn.functional import softplus

__all__ = ["Categorical", "Multinomial"]

_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _lgamma_np(a):
    return np.asarray(_lgamma(np.asarray(a, np.float64)), np.float64)


def _draw(probs, n):
    """``n`` class indices per row of ``probs`` (..., K): an int64 array (n, ...)."""
    cdf = np.cumsum(probs, -1)
    cdf = cdf / cdf[..., -1:]
    u = _rng(None).random((n,) + probs.shape[:-1])
    idx = (cdf[None] <= u[..., None]).sum(-1)
    return np.minimum(idx, probs.shape[-1] - 1).astype(np.int64)


class Categorical(Distribution):
    """One of ``K`` classes, with probabilities ``probs`` (normalised along the last dim)
    or ``softmax(logits)``; the last dim indexes the classes, the rest is the batch.

    >>> import chainrule as torch
    >>> d = torch.distributions.Categorical(torch.tensor([0.25, 0.25, 0.5]))
    >>> d.log_prob(torch.tensor([0, 2]))
    tensor([-1.3863, -0.6931])
    >>> d.entropy()
    tensor(1.0397)
    >>> _ = torch.manual_seed(0); d.sample((4,)).dtype
    torch.int64
    """

    arg_names = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name = "probs" if probs is not None else "logits"
        param = as_float_tensor(probs if probs is not None else logits)
        if param.ndim < 1:
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = param / param.sum(-1, keepdim=True)
        else:
            self.logits = param - param.logsumexp(-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], (), validate_args)
        if probs is not None:
            self._check_arg("probs", self.probs,
                            lambda p: (p >= 0).all() and
                            np.allclose(p.sum(-1), 1, atol=1e-6), "Simplex()")
            self.__dict__["_logits"] = clamp_probs(self.probs).log()
        else:
            self._check_arg("logits", self.logits, lambda v: ~np.isnan(v), "IndependentConstraint(Real(), 1)")
            self.__dict__["_probs"] = self.logits.softmax(-1)

    def __getattr__(self, name):
        if name in ("probs", "logits"):
            return self.__dict__["_" + name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        """Undefined for classes: NaN of the batch shape, as PyTorch."""
        return full(tuple(self._extended_shape()), math.nan, dtype=self.probs.dtype)

    @property
    def variance(self):
        """Undefined for classes: NaN of the batch shape, as PyTorch."""
        return self.mean

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        """Class indices (int64) of shape ``sample_shape + batch_shape``."""
        shape = tuple(self._extended_shape(sample_shape))
        n = int(np.prod(shape[:len(shape) - len(self._batch_shape)], dtype=np.int64))
        draws = _draw(self.probs._data, n)
        return wrap(draws.reshape(shape))

    def log_prob(self, value):
        """``log(probs[value])`` (``value`` holds class indices, broadcast with the
        batch)."""
        K = self._num_events
        self._check_value(value, lambda v: (v == np.floor(v)) & (v >= 0) & (v <= K - 1),
                          f"IntegerInterval(lower_bound=0, upper_bound={K - 1})")
        v = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(v.shape), tuple(self.logits.shape))
        v = v.expand(*shape)[..., :1]
        return self.logits.expand(*shape).gather(-1, v).squeeze(-1)

    def entropy(self):
        """``-sum(p * log p)`` over the classes (0 * log 0 counted as 0)."""
        lo = float(np.finfo(self.logits._data.dtype).min)
        return -(self.logits.clamp(min=lo) * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        """All classes ``0 .. K-1``, shaped ``(K,) + batch_shape`` (or ``(K, 1, ...)``)."""
        values = arange(self._num_events).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values


class Multinomial(Distribution):
    """Counts per class of ``total_count`` independent draws from
    ``Categorical(probs | logits)``; samples are float vectors of length ``K``.

    >>> import chainrule as torch
    >>> fair_probs = torch.ones([6]) / 6
    >>> _ = torch.manual_seed(0)
    >>> torch.distributions.Multinomial(1, fair_probs).sample().sum()
    tensor(1.)
    >>> torch.distributions.Multinomial(10, fair_probs).sample((3,)).sum(1)
    tensor([10., 10., 10.])
    """

    arg_names = ("probs", "logits")

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, (int, np.integer)):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits,
                                        validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """Count vectors (float, summing to ``total_count``) of shape
        ``sample_shape + batch_shape + (K,)``."""
        ss = tuple(Size(tuple(sample_shape)))
        K = self._categorical._num_events
        p = self.probs._data
        batch = tuple(self._batch_shape)
        m = int(np.prod(ss, dtype=np.int64))
        draws = _draw(p, self.total_count * m)          # (n * m, *batch)
        draws = draws.reshape((self.total_count, m) + batch)
        counts = (draws[..., None] == np.arange(K)).sum(0)   # (m, *batch, K)
        return wrap(counts.reshape(ss + batch + (K,)).astype(p.dtype))

    def log_prob(self, value):
        """``log(n!) - sum(log(x_i!)) + sum(x_i log p_i)`` for a count vector ``x``."""
        n = self.total_count
        self._check_value(value, lambda v: (v >= 0).all() and (v == np.floor(v)).all() and
                          (v.sum(-1) == n).all(), "Multinomial()")
        logits = self.logits
        shape = np.broadcast_shapes(tuple(logits.shape), tuple(value.shape))
        logits, value = logits.expand(*shape), value.expand(*shape).to(logits.dtype)
        zero = (value._data == 0) & (logits._data == -np.inf)
        if zero.any():
            logits = logits.masked_fill(wrap(zero), 0.0)
        v = value._data.astype(np.float64)
        const = _lgamma_np(v.sum(-1) + 1) - _lgamma_np(v + 1).sum(-1)
        return (logits * value).sum(-1) + wrap(const.astype(logits._data.dtype))

    def entropy(self):
        """Entropy of the counts (a sum over the binomial marginals, as PyTorch)."""
        n = self.total_count
        p = self.probs
        dt = p._data.dtype
        k = np.arange(n + 1, dtype=dt).reshape((-1,) + (1,) * p.ndim)
        pc = clamp_probs(p)
        logits = pc.log() - (-pc).log1p()
        lbinom = (math.lgamma(n + 1) - _lgamma_np(k + 1) - _lgamma_np(n - k + 1)).astype(dt)
        binom_logp = wrap(k) * logits - n * softplus(logits) + wrap(lbinom)
        weights = wrap(_lgamma_np(k + 1).astype(dt))
        dims = [0, -1] if p.ndim else [0]
        return (n * self._categorical.entropy() - math.lgamma(n + 1) +
                (weights * binom_logp.exp()).sum(dims))

    def __repr__(self):
        return "Multinomial()"
