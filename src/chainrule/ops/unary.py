"""Elementwise math of one tensor: exponentials and logarithms (``exp``, ``log``,
``expm1``, ``log1p``, ``exp2``, ``log2``, ``log10``), roots and powers (``sqrt``, ``rsqrt``,
``square``, ``reciprocal``), trigonometric and hyperbolic functions and their inverses,
``abs`` and ``sign``.

Each op is one ``unary_op`` line: the forward NumPy function and the local derivative
``f'(x)`` written with ``F`` functions and operators, so the same formula serves the fast
NumPy backward pass, ``create_graph=True`` (higher order) and forward mode.  Integer inputs
become the default float dtype first, as in PyTorch (``square``, ``abs`` and ``sign`` keep
integer dtypes, like PyTorch).
"""

import math

import numpy as np

from .._backend import copy_array
from .._tensor import Tensor
from ._core import NF, TF, defop, unary_op, public
from ._args import _floating, _tensorize, _unary

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


# --- the rule table --------------------------------------------------------------------------

EXP = unary_op("exp", np.exp, lambda F, out, x: out, save_inputs=False, save_out=True,
               vjp=lambda F, g, out, x: g * out)
LOG = unary_op("log", np.log, lambda F, out, x: 1 / x, vjp=lambda F, g, out, x: g / x)
SIN = unary_op("sin", np.sin, lambda F, out, x: F.cos(x),
               vjp=lambda F, g, out, x: g * F.cos(x))
COS = unary_op("cos", np.cos, lambda F, out, x: -F.sin(x))
TANH = unary_op("tanh", np.tanh, lambda F, out, x: 1 - out * out, save_inputs=False,
                save_out=True, vjp=lambda F, g, out, x: F.tanh_backward(g, out))


def _tanh_backward_np(g, out):
    # g * (1 - out * out) with one temporary instead of three; out= given positionally
    # (the keyword form costs more than a temporary on small arrays)
    d = out * out
    if d.__class__ is not np.ndarray or g.dtype != d.dtype or g.shape != d.shape:
        return g * (1 - d)                  # 0-d (NumPy scalars) or mixed dtypes/shapes
    np.subtract(1, d, d)
    np.multiply(g, d, d)
    return d
def _tanh_backward_jvp(F, t, out, g, y):
    tg, ty = t
    d = 0 if tg is None else F.tanh_backward(tg, y)
    return d if ty is None else d + g * (-2 * y * ty)


# tanh's backward is an op of its own (PyTorch's tanh_backward): the formula is written once,
# in its NumPy kernel, and a derivative of a derivative records TanhBackwardBackward0
TANH_BACKWARD = defop("tanh_backward", _tanh_backward_np,
                      (lambda F, gg, out, g, y: F.tanh_backward(gg, y),
                       lambda F, gg, out, g, y: gg * (-2 * y * g)),
                      _tanh_backward_jvp, broadcasts=True, backward_name="TanhBackwardBackward0")


def tanh_backward(grad_output, output):
    """``grad_output * (1 - output ** 2)``: the VJP of ``tanh`` from its output (PyTorch's
    ``torch.ops.aten.tanh_backward``).

    >>> import chainrule as torch
    >>> from chainrule.ops.unary import tanh_backward
    >>> tanh_backward(torch.tensor([1., 2.]), torch.tensor([0.5, 0.]))
    tensor([0.7500, 2.0000])
    """
    return TANH_BACKWARD.apply((grad_output, output))


SQRT = unary_op("sqrt", np.sqrt, lambda F, out, x: 0.5 / out, save_inputs=False, save_out=True)
ABS = unary_op("abs", np.abs, lambda F, out, x: F.sign(x))


# sign: zero gradient (its derivative is 0 almost everywhere)
def _sign_np(x):
    # PyTorch's sign is (0 < x) - (x < 0): 0 for nan (np.sign gives nan); bool stays bool
    if x.dtype.kind == "b":
        return copy_array(x)
    s = np.sign(x)
    if x.dtype.kind == "f":
        s = np.where(np.isnan(x), x.dtype.type(0), s)
    return s


SIGN = unary_op("sign", _sign_np, lambda F, out, x: F.zeros_like(out), save_inputs=False,
                save_out=True)


def _log10_np(x):
    # NumPy's float32 log10 is an ulp off at exact powers of ten (log10(100) != 2); going
    # through float64 gives the correctly rounded float32 result, as PyTorch prints it
    if x.dtype == np.float32 or x.dtype == np.float16:
        return np.log10(x.astype(np.float64)).astype(x.dtype)
    return np.log10(x)


def _rsqrt_np(x):
    return 1 / np.sqrt(x)


TAN = unary_op("tan", np.tan, lambda F, out, x: 1 + out * out, save_inputs=False,
               save_out=True)
ASIN = unary_op("asin", np.arcsin, lambda F, out, x: 1 / F.sqrt(1 - x * x))
ACOS = unary_op("acos", np.arccos, lambda F, out, x: -1 / F.sqrt(1 - x * x))
ATAN = unary_op("atan", np.arctan, lambda F, out, x: 1 / (1 + x * x))
SINH = unary_op("sinh", np.sinh, lambda F, out, x: F.cosh(x))
COSH = unary_op("cosh", np.cosh, lambda F, out, x: F.sinh(x))
ASINH = unary_op("asinh", np.arcsinh, lambda F, out, x: 1 / F.sqrt(x * x + 1))
ATANH = unary_op("atanh", np.arctanh, lambda F, out, x: 1 / (1 - x * x))
LOG1P = unary_op("log1p", np.log1p, lambda F, out, x: 1 / (x + 1), backward_name="Log1PBackward0")
EXPM1 = unary_op("expm1", np.expm1, lambda F, out, x: out + 1, save_inputs=False, save_out=True)
LOG2 = unary_op("log2", np.log2, lambda F, out, x: 1 / (x * _LN2))
LOG10 = unary_op("log10", _log10_np, lambda F, out, x: 1 / (x * _LN10))
EXP2 = unary_op("exp2", np.exp2, lambda F, out, x: out * _LN2, save_inputs=False,
                save_out=True)
RSQRT = unary_op("rsqrt", _rsqrt_np, lambda F, out, x: -0.5 * (out * out * out),
                 save_inputs=False, save_out=True)
SQUARE = unary_op("square", np.square, lambda F, out, x: 2 * x, backward_name="PowBackward0")
RECIPROCAL = unary_op("reciprocal", np.reciprocal, lambda F, out, x: -(out * out),
                      save_inputs=False, save_out=True)


# --- public functions ----------------------------------------------------------------------

@public(inplace=True)
def exp(input):
    """Elementwise ``e ** input``.

    >>> import chainrule as torch
    >>> torch.exp(torch.tensor([0., 1.]))
    tensor([1.0000, 2.7183])
    """
    return _unary(EXP, input)


@public(inplace=True)
def log(input):
    """Elementwise natural logarithm.

    >>> import chainrule as torch
    >>> torch.log(torch.tensor([1., 4.]))
    tensor([0.0000, 1.3863])
    """
    return _unary(LOG, input)


@public(inplace=True)
def sin(input):
    """Elementwise sine.

    >>> import chainrule as torch
    >>> torch.sin(torch.tensor([0., 1.5708]))
    tensor([0., 1.])
    """
    return _unary(SIN, input)


@public(inplace=True)
def cos(input):
    """Elementwise cosine.

    >>> import chainrule as torch
    >>> torch.cos(torch.tensor([0., 3.1416]))
    tensor([ 1., -1.])
    """
    return _unary(COS, input)


@public(inplace=True)
def tanh(input):
    """Elementwise hyperbolic tangent.

    >>> import chainrule as torch
    >>> torch.tanh(torch.tensor([-1., 0., 1.]))
    tensor([-0.7616,  0.0000,  0.7616])
    """
    return _unary(TANH, input)


@public(inplace=True)
def sqrt(input):
    """Elementwise square root.

    >>> import chainrule as torch
    >>> torch.sqrt(torch.tensor([4., 2.]))
    tensor([2.0000, 1.4142])
    """
    return _unary(SQRT, input)


@public(inplace=True)
def abs(input):
    """Elementwise absolute value; the gradient at 0 is 0.

    >>> import chainrule as torch
    >>> torch.abs(torch.tensor([-1.5, 0., 2.]))
    tensor([1.5000, 0.0000, 2.0000])
    """
    return ABS.apply((_tensorize(input),))


@public(inplace=True)
def sign(input):
    """Elementwise sign (-1, 0 or 1); zero gradient.

    >>> import chainrule as torch
    >>> torch.sign(torch.tensor([-2., 0., 3.]))
    tensor([-1.,  0.,  1.])
    """
    return SIGN.apply((_tensorize(input),))


@public(inplace=True)
def tan(input):
    """Elementwise tangent.

    >>> import chainrule as torch
    >>> torch.tan(torch.tensor([0.0, 0.5]))
    tensor([0.0000, 0.5463])
    """
    return _unary(TAN, input)


@public("asin", "arcsin", inplace=True)
def asin(input):
    """Elementwise inverse sine (``nan`` outside ``[-1, 1]``).

    >>> import chainrule as torch
    >>> torch.asin(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 1.5708])
    """
    return _unary(ASIN, input)


@public("acos", "arccos", inplace=True)
def acos(input):
    """Elementwise inverse cosine.

    >>> import chainrule as torch
    >>> torch.acos(torch.tensor([1.0, 0.0]))
    tensor([0.0000, 1.5708])
    """
    return _unary(ACOS, input)


@public("atan", "arctan", inplace=True)
def atan(input):
    """Elementwise inverse tangent.

    >>> import chainrule as torch
    >>> torch.atan(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7854])
    """
    return _unary(ATAN, input)


@public(inplace=True)
def sinh(input):
    """Elementwise hyperbolic sine.

    >>> import chainrule as torch
    >>> torch.sinh(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 1.1752])
    """
    return _unary(SINH, input)


@public(inplace=True)
def cosh(input):
    """Elementwise hyperbolic cosine.

    >>> import chainrule as torch
    >>> torch.cosh(torch.tensor([0.0, 1.0]))
    tensor([1.0000, 1.5431])
    """
    return _unary(COSH, input)


@public("asinh", "arcsinh", inplace=True)
def asinh(input):
    """Elementwise inverse hyperbolic sine.

    >>> import chainrule as torch
    >>> torch.asinh(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8814])
    """
    return _unary(ASINH, input)


@public("atanh", "arctanh", inplace=True)
def atanh(input):
    """Elementwise inverse hyperbolic tangent (``inf`` at ``±1``).

    >>> import chainrule as torch
    >>> torch.atanh(torch.tensor([0.0, 0.5]))
    tensor([0.0000, 0.5493])
    """
    return _unary(ATANH, input)


@public(inplace=True)
def log1p(input):
    """Elementwise ``log(1 + input)``, accurate for small inputs.

    >>> import chainrule as torch
    >>> torch.log1p(torch.tensor([0.0, 1e-10], dtype=torch.float64))
    tensor([0.0000e+00, 1.0000e-10], dtype=torch.float64)
    """
    return LOG1P.apply((_floating(input),))


@public(inplace=True)
def expm1(input):
    """Elementwise ``exp(input) - 1``, accurate for small inputs.

    >>> import chainrule as torch
    >>> torch.expm1(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 1.7183])
    """
    return EXPM1.apply((_floating(input),))


@public(inplace=True)
def log2(input):
    """Elementwise base-2 logarithm.

    >>> import chainrule as torch
    >>> torch.log2(torch.tensor([1.0, 8.0]))
    tensor([0., 3.])
    """
    return LOG2.apply((_floating(input),))


@public(inplace=True)
def log10(input):
    """Elementwise base-10 logarithm.

    >>> import chainrule as torch
    >>> torch.log10(torch.tensor([1.0, 100.0]))
    tensor([0., 2.])
    """
    return LOG10.apply((_floating(input),))


@public(inplace=True)
def exp2(input):
    """Elementwise ``2 ** input``.

    >>> import chainrule as torch
    >>> torch.exp2(torch.tensor([0.0, 3.0]))
    tensor([1., 8.])
    """
    return EXP2.apply((_floating(input),))


@public(inplace=True)
def rsqrt(input):
    """Elementwise ``1 / sqrt(input)``.

    >>> import chainrule as torch
    >>> torch.rsqrt(torch.tensor([4.0, 16.0]))
    tensor([0.5000, 0.2500])
    """
    return _unary(RSQRT, input)


@public(inplace=True)
def square(input):
    """Elementwise ``input ** 2`` (integer tensors stay integer, like PyTorch).

    >>> import chainrule as torch
    >>> torch.square(torch.tensor([-2.0, 3.0]))
    tensor([4., 9.])
    """
    x = _tensorize(input)
    if not isinstance(x, Tensor):
        x = _floating(x)
    if x._data.dtype == np.bool_:
        x = x.to(np.dtype(np.int64))
    return SQUARE.apply((x,))


@public(inplace=True)
def reciprocal(input):
    """Elementwise ``1 / input``.

    >>> import chainrule as torch
    >>> torch.reciprocal(torch.tensor([2.0, -4.0]))
    tensor([ 0.5000, -0.2500])
    """
    return _unary(RECIPROCAL, input)


# --- rule namespaces ---------------------------------------------------------------------

NF.exp, NF.log, NF.sin, NF.cos, NF.tanh, NF.sqrt, NF.sign = (
    np.exp, np.log, np.sin, np.cos, np.tanh, np.sqrt, _sign_np)
NF.abs = np.abs
NF.tanh_backward = _tanh_backward_np
NF.sinh, NF.cosh, NF.log1p, NF.expm1 = np.sinh, np.cosh, np.log1p, np.expm1
TF.exp, TF.log, TF.sin, TF.cos, TF.tanh, TF.sqrt, TF.sign = exp, log, sin, cos, tanh, sqrt, sign
TF.abs = abs
TF.tanh_backward = tanh_backward
TF.sinh, TF.cosh, TF.log1p, TF.expm1 = sinh, cosh, log1p, expm1
