"""Activations and normalisers: ``sigmoid``, ``relu``, ``softplus``, ``gelu``, ``silu``,
``leaky_relu``, ``elu``, ``logsigmoid``, ``softmax``, ``log_softmax`` and ``logsumexp``.

Numerical stability, as in PyTorch:
  * ``softplus`` returns ``x`` where ``beta * x > threshold`` and otherwise evaluates
    ``log1p(exp(-|z|)) + max(z, 0)``, which never overflows;
  * ``logsigmoid(x) = min(x, 0) - log1p(exp(-|x|))``;
  * ``softmax``/``log_softmax``/``logsumexp`` subtract the maximum before exponentiating
    (``logsumexp`` ignores infinite maxima, so all ``-inf`` gives ``-inf``);
  * ``elu`` exponentiates ``min(x, 0)`` only, so large inputs give no ``inf * 0``.

``softmax``'s and ``log_softmax``'s VJPs are written in terms of the output alone (``y``):
``y * (g - sum(g * y))`` and ``g - exp(y) * sum(g)``.

Kinks follow PyTorch: ``leaky_relu``'s derivative at 0 is ``negative_slope`` and ``elu``'s is
``alpha`` (the left branch is taken at 0).
"""
import math
import warnings

import numpy as np

from .._backend import as_array
from .._tensor import Tensor, _dim
from ._core import NF, TF, defop, unary_op, public
from ._args import _floating, _tensorize, _unary
from .reduce import kept_shape, norm_dims
from .special import _erf_np
from ._numpy_names import numpy_names


_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K_TANH = math.sqrt(2.0 / math.pi)
_C_TANH = 0.044715

_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool"}


def _float_only(opname, kernel, x):
    """PyTorch's activations have no integer kernels: raise its NotImplementedError."""
    x = _tensorize(x)
    if not isinstance(x, Tensor):
        return _floating(x)
    if x._data.dtype.kind != "f":
        name = _TORCH_NAMES.get(x._data.dtype.name, x._data.dtype.name)
        raise NotImplementedError(
            f"{opname}: \"{kernel}\" not implemented for '{name}' (the input is {x.dtype}). "
            f"Convert to a floating dtype first, e.g. x.float().")
    return x


# --- sigmoid and relu --------------------------------------------------------------------

def _sigmoid_np(x):
    # PyTorch's formula, 1 / (1 + exp(-x)), in one buffer (four passes, no mask): exp(-x)
    # overflows to inf for very negative x, and 1 / inf is the 0 PyTorch gives there
    if x.ndim == 0:
        with np.errstate(over="ignore"):
            return as_array(1 / (1 + np.exp(-x))).astype(x.dtype, copy=False)
    e = np.negative(x)
    with np.errstate(over="ignore"):
        np.exp(e, out=e)
    e += 1
    return np.divide(1, e, out=e)


def _sigmoid_backward_np(g, out):
    # PyTorch's sigmoid_backward, (g * (1 - out)) * out, with one temporary
    if out.ndim == 0 or g.dtype != out.dtype or g.shape != out.shape:
        return g * (1 - out) * out              # 0-d, or mixed dtypes/shapes
    d = np.subtract(1, out)
    np.multiply(g, d, out=d)
    np.multiply(d, out, out=d)
    return d


SIGMOID = unary_op("sigmoid", _sigmoid_np, lambda F, out, x: out * (1 - out),
                   save_inputs=False, save_out=True,
                   vjp=lambda F, g, out, x: F.sigmoid_backward(g, out))
RELU = unary_op("relu", lambda x: np.maximum(x, 0), lambda F, out, x: out > 0,
                save_inputs=False, save_out=True, vjp=lambda F, g, out, x: F.relu_backward(g, out),
                jvp=lambda F, t, out, x: F.relu_backward(t[0], out))


_SAME_WIDTH_INT = {2: np.int16, 4: np.int32, 8: np.int64}


def _relu_backward_np(g, out):
    """PyTorch's threshold_backward: ``g`` where ``out > 0`` fails to hold as ``out <= 0``,
    else +0 -- so a NaN output passes ``g``, and an inactive unit gives +0 even for a
    negative, inf or NaN ``g`` (``g * mask`` would give -0 or NaN there).  Branch-free:
    the bits of ``g`` AND a mask of all ones (``out <= 0`` false) or all zeros."""
    it = _SAME_WIDTH_INT.get(g.dtype.itemsize)
    if (g.dtype.kind != "f" or it is None or g.shape != out.shape or g.ndim == 0
            or g.__class__ is not np.ndarray):     # (on a device: two kernels, not four)
        return np.where(out <= 0, g.dtype.type(0), g)
    bits = np.add(out <= 0, -1, dtype=it)       # False -> -1 (all ones), True -> 0
    np.bitwise_and(bits, g.view(it), out=bits)
    return bits.view(g.dtype)


def _sigmoid_backward_jvp(F, t, out, g, y):
    tg, ty = t
    d = 0 if tg is None else F.sigmoid_backward(tg, y)
    return d if ty is None else d + g * ty * (-2 * y + 1)


def _threshold_backward_jvp(F, t, out, g, y):
    return None if t[0] is None else F.relu_backward(t[0], y)


# the backwards of sigmoid and relu are ops of their own (PyTorch's sigmoid_backward and
# threshold_backward): each formula is written once, in its NumPy kernel, and a derivative of
# a derivative records SigmoidBackwardBackward0 / ThresholdBackwardBackward0
SIGMOID_BACKWARD = defop("sigmoid_backward", _sigmoid_backward_np,
                         (lambda F, gg, out, g, y: F.sigmoid_backward(gg, y),
                          lambda F, gg, out, g, y: gg * g * (-2 * y + 1)),
                         _sigmoid_backward_jvp, broadcasts=True,
                         backward_name="SigmoidBackwardBackward0")
THRESHOLD_BACKWARD = defop("threshold_backward", _relu_backward_np,
                           (lambda F, gg, out, g, y: F.relu_backward(gg, y),
                            lambda F, gg, out, g, y: F.zeros_like(gg)),
                           _threshold_backward_jvp, broadcasts=True,
                           backward_name="ThresholdBackwardBackward0")


def sigmoid_backward(grad_output, output):
    """``grad_output * (1 - output) * output``: the VJP of ``sigmoid`` from its output
    (PyTorch's ``torch.ops.aten.sigmoid_backward``).

    >>> import chainrule as torch
    >>> from chainrule.ops.activation import sigmoid_backward
    >>> sigmoid_backward(torch.tensor([1., 2.]), torch.tensor([0.5, 0.25]))
    tensor([0.2500, 0.3750])
    """
    return SIGMOID_BACKWARD.apply((grad_output, output))


def relu_backward(grad_output, output):
    """``grad_output`` where ``output > 0``, else 0: the VJP of ``relu`` from its output
    (PyTorch's ``torch.ops.aten.threshold_backward(grad_output, output, 0)``).

    >>> import chainrule as torch
    >>> from chainrule.ops.activation import relu_backward
    >>> relu_backward(torch.tensor([1., 2.]), torch.tensor([0.5, 0.]))
    tensor([1., 0.])
    """
    return THRESHOLD_BACKWARD.apply((grad_output, output))


@public(inplace=True)
def sigmoid(input):
    """Elementwise logistic sigmoid ``1 / (1 + exp(-x))`` (0 where ``exp(-x)`` overflows,
    as in PyTorch).

    >>> import chainrule as torch
    >>> torch.sigmoid(torch.tensor([0.0]))
    tensor([0.5000])
    """
    return _unary(SIGMOID, input)


@public(inplace=True)
def relu(input):
    """Elementwise ``max(x, 0)``; the gradient at 0 is 0, as in PyTorch.

    >>> import chainrule as torch
    >>> torch.relu(torch.tensor([-1., 0., 2.]))
    tensor([0., 0., 2.])
    """
    if input.__class__ is Tensor:
        return RELU.apply((input,))
    return RELU.apply((_tensorize(input),))


# --- elementwise activations ---------------------------------------------------------------

def _softplus_np(x, beta, threshold):
    z = x * beta
    with np.errstate(over="ignore"):
        soft = (np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0)) / beta
    return np.where(z > threshold, x, soft).astype(x.dtype, copy=False)


def _softplus_vjp(F, g, out, x, beta, threshold):
    z = x * beta
    return F.where(z > threshold, g, g * F.sigmoid(z))


SOFTPLUS = defop("softplus", _softplus_np, vjps=(_softplus_vjp,),
                 jvp=lambda F, t, out, x, beta, threshold: _softplus_vjp(F, t[0], out, x, beta,
                                                                          threshold))


def _logsigmoid_np(x):
    return (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)


LOGSIGMOID = unary_op("logsigmoid", _logsigmoid_np, lambda F, out, x: F.sigmoid(-x),
                      backward_name="LogSigmoidBackward0")


def _gelu_np(x, approximate):
    if approximate == "tanh":
        t = np.tanh(_K_TANH * (x + _C_TANH * x * x * x))
        return 0.5 * x * (1 + t)
    return x * (0.5 * (1 + _erf_np(x * _INV_SQRT2)))


def _gelu_deriv(F, out, x, approximate):
    if approximate == "tanh":
        x2 = x * x
        t = F.tanh(_K_TANH * (x + _C_TANH * x2 * x))
        return 0.5 * (1 + t) + (0.5 * _K_TANH) * x * (1 - t * t) * (1 + (3 * _C_TANH) * x2)
    cdf = 0.5 * (1 + F.erf(x * _INV_SQRT2))
    return cdf + _INV_SQRT_2PI * x * F.exp(-0.5 * (x * x))


GELU = unary_op("gelu", _gelu_np, _gelu_deriv)


def _silu_deriv(F, out, x):
    s = F.sigmoid(x)
    return s * (1 + x * (1 - s))


SILU = unary_op("silu", lambda x: x * _sigmoid_np(x), _silu_deriv)

LEAKY_RELU = defop(
    "leaky_relu", lambda x, slope: np.where(x > 0, x, x * slope),
    vjps=(lambda F, g, out, x, slope: F.where(x > 0, g, g * slope),),
    jvp=lambda F, t, out, x, slope: F.where(x > 0, t[0], t[0] * slope),
    backward_name="LeakyReluBackward0")


def _elu_np(x, alpha):
    # expm1 of x where x <= 0 (-0 stays -0, as in PyTorch; np.minimum(-0., 0) is +0) and of 0
    # elsewhere (no overflow)
    return np.where(x > 0, x, alpha * np.expm1(np.where(x > 0, 0, x))).astype(x.dtype,
                                                                            copy=False)


def _elu_scale(F, x, alpha):
    # derivative on the left branch; exp of min(x, 0) only, so no overflow
    return alpha * F.exp(F.where(x > 0, 0, x))


ELU = defop("elu", _elu_np,
            vjps=(lambda F, g, out, x, alpha: F.where(x > 0, g, g * _elu_scale(F, x, alpha)),),
            jvp=lambda F, t, out, x, alpha: F.where(x > 0, t[0], t[0] * _elu_scale(F, x, alpha)))


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``
    (stable for any input).

    >>> import chainrule as torch
    >>> torch.nn.functional.softplus(torch.tensor([-1000.0, 0.0, 1000.0]))
    tensor([0.0000e+00, 6.9315e-01, 1.0000e+03])
    """
    x = _float_only("softplus", "softplus_cpu", input)
    return SOFTPLUS.apply((x,), {"beta": beta, "threshold": threshold})


def logsigmoid(input):
    """``log(sigmoid(x))``, stable for large ``|x|``.

    >>> import chainrule as torch
    >>> torch.nn.functional.logsigmoid(torch.tensor([-100.0, 0.0]))
    tensor([-100.0000,   -0.6931])
    """
    return LOGSIGMOID.apply((_float_only("logsigmoid", "log_sigmoid_cpu", input),))


def gelu(input, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate="tanh"`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    >>> import chainrule as torch
    >>> torch.nn.functional.gelu(torch.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.0000,  0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got "
                           f"{approximate!r}.")
    x = _float_only("gelu", "GeluKernelImpl", input)
    return GELU.apply((x,), {"approximate": approximate})


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (also called swish).

    >>> import chainrule as torch
    >>> torch.nn.functional.silu(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7311])
    """
    if inplace:
        return _inplace("silu_", silu, input)
    return SILU.apply((_float_only("silu", "silu_cpu", input),))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (derivative at 0:
    ``negative_slope``, as in PyTorch).

    >>> import chainrule as torch
    >>> torch.nn.functional.leaky_relu(torch.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2000,  3.0000])
    """
    if inplace:
        return _inplace("leaky_relu_", leaky_relu, input, negative_slope)
    x = _float_only("leaky_relu", "leaky_relu_cpu", input)
    return LEAKY_RELU.apply((x,), {"slope": negative_slope})


def elu(input, alpha=1.0, inplace=False):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (derivative at 0: ``alpha``).

    >>> import chainrule as torch
    >>> torch.nn.functional.elu(torch.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    if inplace:
        return _inplace("elu_", elu, input, alpha)
    x = _float_only("elu", "elu_cpu", input)
    return ELU.apply((x,), {"alpha": alpha})


def _inplace(name, fn, input, *args):
    """``fn(input, *args)`` written into ``input`` (the shared in-place machinery, which
    ``_methods`` binds onto Tensor as ``_apply_inplace``: the graph sees a copy of the old
    value, so the backward pass still has it)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input._apply_inplace(name, fn, *args)


# --- softmax family ------------------------------------------------------------------------

def _softmax_np(x, dim):
    if not x.size:
        return x.copy()                 # (np.max has no identity for an empty slice)
    m = np.max(x, axis=dim, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax_np(x, dim):
    if not x.size:
        return x.copy()
    m = np.max(x, axis=dim, keepdims=True)
    s = x - m
    return s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))


def _softmax_vjp(F, g, out, x, dim):
    return out * (g - F.sum(g * out, dim, True))


def _log_softmax_vjp(F, g, out, x, dim):
    return g - F.exp(out) * F.sum(g, dim, True)


SOFTMAX = defop("softmax", _softmax_np, vjps=(_softmax_vjp,),
                jvp=lambda F, t, out, x, dim: _softmax_vjp(F, t[0], out, x, dim),
                save_inputs=False, save_out=True)
LOG_SOFTMAX = defop("log_softmax", _log_softmax_np, vjps=(_log_softmax_vjp,),
                    jvp=lambda F, t, out, x, dim: t[0] - F.sum(F.exp(out) * t[0], dim, True),
                    save_inputs=False, save_out=True, backward_name="LogSoftmaxBackward0")


def _logsumexp_np(x, dims, keepdim):
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=dims, keepdims=keepdim))
    m = np.max(x, axis=dims, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
    return r if keepdim else np.squeeze(r, axis=dims)


def _lse_weights(F, out, x, dims, keepdim):
    # d logsumexp / dx = exp(x - out) (softmax of x), out brought back to x's rank
    if not keepdim:
        out = F.reshape(out, kept_shape(x.shape, dims))
    return F.exp(x - out)


def _logsumexp_vjp(F, g, out, x, dims, keepdim):
    if not keepdim:
        g = F.reshape(g, kept_shape(x.shape, dims))
    return g * _lse_weights(F, out, x, dims, keepdim)


LOGSUMEXP = defop("logsumexp", _logsumexp_np, vjps=(_logsumexp_vjp,),
                  jvp=lambda F, t, out, x, dims, keepdim:
                  F.sum(t[0] * _lse_weights(F, out, x, dims, keepdim), dims, keepdim),
                  save_out=True)


def _softmax_args(opname, kernel, input, dim, dtype):
    x = _tensorize(input)
    if not isinstance(x, Tensor):
        x = _floating(x)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        name = _TORCH_NAMES.get(x._data.dtype.name, x._data.dtype.name)
        raise NotImplementedError(
            f"{opname}: \"{kernel}\" not implemented for '{name}' (the input is {x.dtype}). "
            f"Pass dtype=torch.float32 or convert the input with x.float().")
    if isinstance(dim, (tuple, list)) or dim is None:
        raise TypeError(f"{opname}(): argument 'dim' must be int, not "
                        f"{type(dim).__name__}. Name the dimension to normalise over, e.g. "
                        f"{opname}(x, dim=-1).")
    d = _dim(int(dim), x._data.ndim, opname)
    return x, (d if x._data.ndim else None)


@public()
@numpy_names
def softmax(input, dim, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim`` (computed stably, after subtracting the
    maximum).  ``dtype`` casts the input first.

    >>> import chainrule as torch
    >>> torch.softmax(torch.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([0.0900, 0.2447, 0.6652])
    """
    x, d = _softmax_args("softmax", "softmax_lastdim_kernel_impl", input, dim, dtype)
    return SOFTMAX.apply((x,), {"dim": d})


@public()
@numpy_names
def log_softmax(input, dim, dtype=None):
    """``x - logsumexp(x)`` along ``dim`` (stable for large inputs).

    >>> import chainrule as torch
    >>> torch.log_softmax(torch.tensor([0.0, 1000.0]), dim=0)
    tensor([-1000.,     0.])
    """
    x, d = _softmax_args("log_softmax", "log_softmax_lastdim_kernel_impl", input, dim, dtype)
    return LOG_SOFTMAX.apply((x,), {"dim": d})


@public()
@numpy_names
def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim`` (int or tuple), computed stably.  Integer tensors
    give the default float dtype.

    >>> import chainrule as torch
    >>> torch.logsumexp(torch.tensor([100.0, 100.0]), dim=0)
    tensor(100.6931)
    """
    x = _floating(input)
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be int or tuple of ints, not "
                        "NoneType. Pass the dims to reduce, e.g. dim=tuple(range(x.dim())) "
                        "for all of them.")
    dims = norm_dims("logsumexp", dim, x._data.ndim)
    return LOGSUMEXP.apply((x,), {"dims": dims, "keepdim": bool(keepdim)})


def _implicit_softmax_dim(ndim, name):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def functional_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``torch.nn.functional.softmax``: like ``softmax``; ``dim=None`` picks PyTorch's
    deprecated implicit dim (0 for 0-, 1- and 3-d inputs, else 1) with a warning.

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.softmax(torch.tensor([1., 2., 3.]), dim=0)
    tensor([0.0900, 0.2447, 0.6652])
    """
    if dim is None:
        dim = _implicit_softmax_dim(input.dim(), "softmax")
    return softmax(input, dim, dtype=dtype)


def functional_log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``torch.nn.functional.log_softmax`` (``dim=None``: implicit dim with a warning).

    >>> import chainrule as torch
    >>> import chainrule.nn.functional as F
    >>> F.log_softmax(torch.tensor([1., 2., 3.]), dim=0)
    tensor([-2.4076, -1.4076, -0.4076])
    """
    if dim is None:
        dim = _implicit_softmax_dim(input.dim(), "log_softmax")
    return log_softmax(input, dim, dtype=dtype)


# --- rule namespaces -------------------------------------------------------------------------

NF.softmax = lambda x, dim: _softmax_np(x, dim)
TF.softmax = lambda x, dim: SOFTMAX.apply((x,), {"dim": dim})
NF.sigmoid = _sigmoid_np
NF.sigmoid_backward = _sigmoid_backward_np
NF.relu_backward = _relu_backward_np
TF.sigmoid = sigmoid
TF.sigmoid_backward = sigmoid_backward
TF.relu_backward = relu_backward
