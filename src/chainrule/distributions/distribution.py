"""``Distribution``: the base class of ``chainrule.distributions`` (PyTorch's
``torch.distributions.Distribution``), and the helpers the distributions share.

Sampling draws from chainrule's generator (``chainrule.manual_seed``), i.e. NumPy's: the
same seed gives the same samples in chainrule, but not PyTorch's samples.
"""
import math

import numpy as np

from .._creation import _rng, tensor
from .._dtypes import get_default_dtype
from .._tensor import Size, Tensor, wrap
from .._grad_mode import no_grad

__all__ = ["Distribution"]


def as_float_tensor(value, like=None):
    """``value`` as a floating Tensor (numbers take ``like``'s dtype or the default)."""
    if isinstance(value, Tensor):
        return value if value._data.dtype.kind == "f" else value.to(_default_float())
    dtype = like.dtype if isinstance(like, Tensor) and like._data.dtype.kind == "f" else None
    return tensor(float(value), dtype=dtype or _default_float())


def _default_float():
    return get_default_dtype()


def broadcast_all(*values):
    """Tensors (and numbers) broadcast to one shape; numbers take the tensors' dtype."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    ts = [as_float_tensor(v, like) for v in values]
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in ts))
    return [t if tuple(t.shape) == shape else t.expand(*shape) for t in ts]


def eps_of(t):
    return float(np.finfo(t._data.dtype).eps)


def clamp_probs(p):
    e = eps_of(p)
    return p.clamp(min=e, max=1 - e)


def sample_shape_of(sample_shape):
    if isinstance(sample_shape, (int, np.integer)) or not hasattr(sample_shape, "__iter__"):
        raise TypeError(f"'{type(sample_shape).__name__}' object is not iterable "
                        f"(sample(): sample_shape must be a tuple/list/torch.Size of ints, "
                        f"e.g. (10,), not {type(sample_shape).__name__} (write "
                        f"sample(({sample_shape},))))")
    return tuple(int(s) for s in sample_shape)


class Distribution:
    """Base class: ``batch_shape``/``event_shape``, ``sample``/``rsample``, ``log_prob``,
    ``entropy``, ``mean``, ``variance``, ``stddev``.

    >>> import chainrule as torch
    >>> d = torch.distributions.Normal(torch.zeros(3), 1.0)
    >>> d.batch_shape, d.event_shape
    (torch.Size([3]), torch.Size([]))
    """

    has_rsample = False
    _validate_args = True
    arg_names = ()

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument and value validation on or off for all distributions."""
        if value not in (True, False):
            raise ValueError("validate_args must be True or False")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = Size(tuple(batch_shape))
        self._event_shape = Size(tuple(event_shape))
        if validate_args is not None:
            self._validate_args = validate_args

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return Size(sample_shape_of(sample_shape) + tuple(self._batch_shape) +
                    tuple(self._event_shape))

    def sample(self, sample_shape=()):
        """A sample (no gradient) of shape ``sample_shape + batch_shape + event_shape``."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(
            f"{type(self).__name__} has no reparameterised sampler (rsample); use sample(), "
            f"which gives no gradient")

    def sample_n(self, n):
        return self.sample((n,))

    def log_prob(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _invalid(self, what, t, constraint, bad):
        shape = tuple(t.shape)
        return ValueError(f"Expected {what} (Tensor of shape {shape}) of distribution "
                          f"{self!r} to satisfy the constraint {constraint}, but found "
                          f"invalid values:\n{t if bad is None else bad}")

    def _check_arg(self, name, t, ok, constraint):
        if self._validate_args and not bool(np.all(ok(t._data))):
            raise ValueError(f"Expected parameter {name} (Tensor of shape {tuple(t.shape)}) "
                             f"of distribution {self!r} to satisfy the constraint "
                             f"{constraint}, but found invalid values:\n{t.detach()}")

    def _check_value(self, value, ok, support):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        if self._validate_args and not bool(np.all(ok(value._data))):
            raise ValueError(f"Expected value argument (Tensor of shape "
                             f"{tuple(value.shape)}) to be within the support ({support}) "
                             f"of the distribution {self!r}, but found invalid values:\n"
                             f"{value.detach()}")

    def __repr__(self):
        parts = []
        for name in self.arg_names:
            v = self.__dict__.get(name)
            if v is None:
                continue
            if v.numel() == 1:
                parts.append(f"{name}: {v.item() if v.ndim == 0 else v.detach()}")
            else:
                parts.append(f"{name}: {v.size()}")
        return f"{type(self).__name__}({', '.join(parts)})"


def randn_like_shape(shape, dtype):
    return wrap(_rng(None).standard_normal(shape).astype(dtype, copy=False))


LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
