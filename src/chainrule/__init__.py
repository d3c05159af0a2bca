"""chainrule: automatic differentiation on NumPy with PyTorch's API.

>>> import chainrule as torch
>>> x = torch.arange(4.0, requires_grad=True)
>>> y = 2 * torch.dot(x, x)
>>> y
tensor(28., grad_fn=<MulBackward0>)
>>> y.backward()
>>> x.grad
tensor([ 0.,  4.,  8., 12.])
"""
__version__ = "0.1.0"

import sys as _sys
import warnings as _warnings

# PyTorch gives log(0) = -inf, 0 / 0 = nan, exp(1000) = inf silently; NumPy warns.  Its
# floating-point warnings are ignored when they come from chainrule's own code, as in
# PyTorch -- a user's own NumPy calls still warn, and a filter the user adds later (such
# as "error") comes first and wins
_warnings.filterwarnings("ignore", r"(divide by zero|invalid value|overflow|underflow) "
                         r"encountered", RuntimeWarning, r"chainrule(\.|$)")

from ._dtypes import (bool, double, dtype, float, float16, float32, float64,  # noqa: A004
                      get_default_dtype, half, int, int8, int16, int32, int64, long,
                      promote_types, set_default_dtype, short, uint8)
from ._device import device, get_default_device, set_default_device
from ._tensor import Size, Tensor, is_tensor
Tensor.__module__ = "chainrule"       # type(x) prints <class 'chainrule.Tensor'>, as torch.Tensor
from . import ops as _ops
from . import _methods  # noqa: F401  (attaches Tensor methods)
from ._creation import (Generator, arange, as_tensor, asarray, bernoulli, default_generator,
                        empty, empty_like, eye, from_numpy, full, full_like, initial_seed,
                        linspace, logspace, manual_seed, multinomial, normal, ones, ones_like,
                        rand, rand_like, randint, randint_like, randn, randn_like, randperm,
                        seed, tensor, zeros, zeros_like)
from ._printing import set_printoptions
# the ops' functions, under the names their op modules declare (``ops._core.public``)
globals().update((name, p.fn) for p in _ops.PUBLIC if p.function for name in p.names)
from ._legacy import (BoolTensor, ByteTensor, CharTensor, DoubleTensor,  # noqa: F401
                      FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor)
from . import return_types
from . import linalg  # noqa: E402  (chainrule.linalg)
from . import autograd
from .autograd import Function as _Function, gradcheck as _gradcheck  # noqa: F401,E402
# (binds the lazily loaded autograd names now that Tensor exists)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

from . import _numpy_api  # noqa: E402  (NumPy's protocols on Tensor)
_numpy_api.install(_sys.modules[__name__])

# loaded on first use, to keep ``import chainrule`` fast: chainrule.nn, chainrule.func,
# chainrule.optim, chainrule.utils.data, save/load, chainrule.viz (graph drawings), explain,
# chainrule.cuda and chainrule.backends
_LAZY = {"nn": (".nn", None), "func": (".func", None), "optim": (".optim", None),
         "utils": (".utils", None), "distributions": (".distributions", None),
         "cuda": (".cuda", None), "backends": (".backends", None),
         "load": (".serialization", "load"), "save": (".serialization", "save"),
         "viz": (".viz", None), "explain": (".viz", "explain"),
         "compile": ("._compile", "compile")}


def __getattr__(name):
    spec = _LAZY.get(name)
    if spec is None:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    import importlib
    mod = importlib.import_module(spec[0], __name__)
    value = mod if spec[1] is None else getattr(mod, spec[1])
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def numel(input):
    """Number of elements of ``input``.

    >>> import chainrule as torch
    >>> torch.numel(torch.zeros(2, 3))
    6
    """
    return input.numel()


def is_floating_point(input):
    """True if ``input`` has a floating dtype.

    >>> import chainrule as torch
    >>> torch.is_floating_point(torch.tensor([1.0])), torch.is_floating_point(torch.tensor([1]))
    (True, False)
    """
    return input.is_floating_point()


def get_num_threads():
    """Always 1: chainrule runs on one thread (NumPy may use more inside its kernels).

    >>> import chainrule as torch
    >>> torch.get_num_threads()
    1
    """
    return 1


def set_num_threads(n):
    """Accepted for PyTorch compatibility and ignored (see ``get_num_threads``).

    >>> import chainrule as torch
    >>> torch.set_num_threads(4); torch.get_num_threads()
    1
    """
    pass
