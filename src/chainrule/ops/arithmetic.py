"""Arithmetic: ``add``, ``sub``, ``rsub``, ``mul``, ``div`` / ``true_divide``, ``neg`` and
``pow`` (tensor and number bases and exponents), with ``alpha=`` and PyTorch's fast paths
for a tensor with a Python number.

Each op is one ``defop``/``binary_op`` call holding its forward, VJP and JVP.  The public
functions only normalise arguments (dtype promotion, Python scalars) and call ``apply``.
``div(..., rounding_mode=)`` uses the rounding division op of ``rounding.py``.
"""

import numpy as np

from .._dtypes import DEFAULTS, result_np_dtype
from .._tensor import Tensor, wrap
from ._core import NF, TF, binary_op, defop, unary_op, public
from ._args import F32, F64, _PYINT_MAX, _PYINT_MIN, _int_operand, binary_args
from .rounding import DIV_ROUNDING, _division_args, _floor_divide_np, _trunc_divide_np
from .._creation import tensor


# --- arithmetic ---------------------------------------------------------------------------

ADD = defop("add", np.add,
            vjps=(lambda F, g, out, a, b: g, lambda F, g, out, a, b: g),
            jvp=lambda F, t, out, a, b: t[0] if t[1] is None else (t[1] if t[0] is None else t[0] + t[1]),
            save_inputs=False, broadcasts=True)
SUB = defop("sub", np.subtract,
            vjps=(lambda F, g, out, a, b: g, lambda F, g, out, a, b: -g),
            jvp=lambda F, t, out, a, b: -t[1] if t[0] is None else (t[0] if t[1] is None else t[0] - t[1]),
            save_inputs=False, broadcasts=True)
# number - tensor: PyTorch's rsub(Tensor, Scalar), whose node has the tensor as its only input
RSUB = defop("rsub", lambda x, c, alpha=1: np.subtract(c, x if alpha == 1 else alpha * x),
             vjps=(lambda F, g, out, x, c, alpha=1: -g if alpha == 1 else g * -alpha,),
             jvp=lambda F, t, out, x, c, alpha=1: -t[0] if alpha == 1 else t[0] * -alpha,
             save_inputs=False, backward_name="RsubBackward1")
MUL = binary_op("mul", np.multiply, lambda F, out, a, b: b, lambda F, out, a, b: a,
                vjps=(lambda F, g, out, a, b: g * b, lambda F, g, out, a, b: g * a),
                reads=((1,), (0,)))
# the divisor's gradient is -g * ((a / b) / b), as in PyTorch: -g * a / (b * b) would
# overflow or underflow in b * b for huge or tiny b (0 / 0 = nan at a = 0, b = 1e-200)
DIV = defop("div", np.true_divide,
            vjps=(lambda F, g, out, a, b: g / b,
                  # PyTorch's -g * ((a / b) / b): a / (b * b) loses all precision in
                  # high derivatives when b is large (b ** 2k terms cancel)
                  lambda F, g, out, a, b: -g * ((a / b) / b)),
            reads=((1,), (0, 1)),
            jvp=lambda F, t, out, a, b: _div_jvp(t, a, b),
            broadcasts=True)


def _div_jvp(t, a, b):
    # PyTorch's forward mode, (ta - tb * (a / b)) / b: no b * b to overflow or underflow,
    # and one division by b (ta / b - tb * (a / b) / b gives inf - inf = nan at b = +-0)
    ta, tb = t
    if tb is None:
        return ta / b
    q = tb * (a / b)
    return (-q if ta is None else ta - q) / b


NEG = defop("neg", np.negative, vjps=(lambda F, g, out, x: -g,),
            jvp=lambda F, t, out, x: -t[0], save_inputs=False)


def _pow_scalar_deriv(F, out, x, p):
    # d(x**p)/dx for a Python number p
    if p == 0:
        return F.zeros_like(x)
    if p == 1:
        return F.ones_like(x)
    if p == 2:
        return 2 * x
    if p == 0.5:
        # x ** -0.5 as PyTorch computes it (rsqrt): -inf at -0, nan at -inf
        return 0.5 / F.sqrt(x)
    return p * x ** (p - 1)


POW_SCALAR = unary_op("pow", lambda x, p: np.power(x, p), _pow_scalar_deriv,
                      backward_name="PowBackward0")


def _pow_exp_deriv(F, out, a, b):
    # d(a**b)/db = a**b * log(a); PyTorch makes it 0 where a == 0 and b >= 0 (elsewhere at
    # a == 0 it is inf * -inf: -inf or inf, as in PyTorch)
    if not isinstance(a, Tensor) and not hasattr(a, "shape"):
        return out * float(np.log(a)) if a != 0 else F.zeros_like(out)
    return F.where((a == 0) & (b >= 0), 0, out * F.log(a))


def _pow_base_deriv_tensor(F, out, a, b):
    # d(a**b)/da = b * a**(b - 1); PyTorch makes it 0 where b == 0 (0 * 0**-1 would be nan)
    return F.where(b == 0, 0, b * a ** (b - 1))


POW = binary_op("pow_tensor", np.power, _pow_base_deriv_tensor,
                _pow_exp_deriv, save_out=True, backward_name="PowBackward1")


def _pow_scalar_base_deriv(F, out, x, base):
    # d(base**x)/dx = base**x * log(base); PyTorch makes it 0 where base == 0 and x >= 0
    if base != 0:
        return out * float(np.log(base))
    return F.where(x >= 0, 0., out * float("-inf"))


# a Python number raised to a tensor power: PyTorch's pow(Scalar, Tensor), whose node has
# the tensor as its only input
POW_SCALAR_BASE = unary_op("pow_scalar_base", lambda x, base: np.power(base, x),
                           _pow_scalar_base_deriv, save_out=True, backward_name="PowBackward2")


def _check_float_alpha(name, a, b):
    """PyTorch refuses a float ``alpha`` when the result would be integral."""
    def integral(x):
        if isinstance(x, Tensor):
            return x._data.dtype.kind in "iub"
        return isinstance(x, (int, np.integer, np.bool_))
    if integral(a) and integral(b):
        raise RuntimeError(f"{name}: For integral input tensors, argument alpha must not be a "
                           f"floating point number. Pass an integer alpha, or convert the "
                           f"tensors to a floating dtype first (x.float()).")


def _fits(s, ds):
    """Whether shape ``s`` broadcasts to shape ``ds`` (a bias row ``(n,)`` or a kept
    column ``(m, 1)`` against ``(m, n)``): the add/sub fast paths take those, with no
    dtype promotion to do."""
    k = len(ds) - len(s)
    if k < 0:
        return False
    for n in s:
        if n != 1 and n != ds[k]:
            return False
        k += 1
    return True


def _with_alpha(name, input, other, alpha):
    """The operands of ``input + alpha * other`` (add/sub): promoted to PyTorch's result
    dtype first, then ``other`` scaled in that dtype (``alpha`` applies after promotion, as
    in PyTorch).  A Python number stays one (weak in type promotion)."""
    if alpha.__class__ is float:
        _check_float_alpha(name, input, other)
    a, b = binary_args(name, input, other)
    if alpha == 1 and alpha.__class__ is not bool:
        return a, b
    dt = result_np_dtype(tuple(x._data if isinstance(x, Tensor) else x for x in (a, b)))
    if dt.kind == "b":
        # a bool result: alpha counts as a bool too (0 drops other, anything else keeps it)
        return (a, b) if alpha else (a, wrap(np.zeros(np.shape(b._data if isinstance(
            b, Tensor) else b), np.bool_)))
    if alpha.__class__ is bool:
        raise RuntimeError(f"{name}: Boolean alpha only supported for Boolean results. "
                           f"Pass alpha as a number (alpha={int(alpha)}).")
    if alpha.__class__ is int:
        alpha = _int_operand(name, alpha, np.dtype(np.int64))
    if isinstance(b, (int, float)):
        return a, b * alpha
    return a, mul(b, alpha)


@public(inplace=True)
def add(input, other, *, alpha=1):
    """``input + alpha * other`` with broadcasting.

    >>> import chainrule as torch
    >>> torch.add(torch.tensor([1., 2.]), 1)
    tensor([2., 3.])
    """
    if input.__class__ is Tensor and alpha == 1 and alpha.__class__ is int:
        # fast path (no call to binary_args): float tensor + Python number, or two
        # tensors of one dtype and shape -- the operands need no promotion
        d = input._data
        c = other.__class__
        if c is float or c is int and _PYINT_MIN <= other <= _PYINT_MAX:
            if (dt := d.dtype) is F64 or dt is F32 or dt.kind == "f":
                return ADD.apply((input, other))
        elif c is Tensor and other._data.dtype is d.dtype:
            s = other._data.shape
            if s == d.shape or _fits(s, d.shape):
                return ADD.apply((input, other))
    a, b = _with_alpha("add", input, other, alpha)
    return ADD.apply((a, b))


@public("sub", "subtract", inplace=True)
def sub(input, other, *, alpha=1):
    """``input - alpha * other`` with broadcasting.

    >>> import chainrule as torch
    >>> torch.sub(torch.tensor([5., 7.]), torch.tensor([1., 2.]), alpha=2)
    tensor([3., 3.])
    """
    if input.__class__ is Tensor and alpha == 1 and alpha.__class__ is int:  # as add
        d = input._data
        c = other.__class__
        if c is float or c is int and _PYINT_MIN <= other <= _PYINT_MAX:
            if (dt := d.dtype) is F64 or dt is F32 or dt.kind == "f":
                return SUB.apply((input, other))
        elif c is Tensor and other._data.dtype is d.dtype and d.dtype.kind != "b":
            s = other._data.shape
            if s == d.shape or _fits(s, d.shape):
                return SUB.apply((input, other))
    if (isinstance(input, Tensor) and input._data.dtype.kind == "b") or \
            (isinstance(other, Tensor) and other._data.dtype.kind == "b"):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    a, b = _with_alpha("sub", input, other, alpha)
    if a.__class__ is not Tensor and b.__class__ is not Tensor and not isinstance(a, Tensor) \
            and not isinstance(b, Tensor):
        a = tensor(a)
    return SUB.apply((a, b))


@public(method=False)
def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (subtraction with the operands swapped; ``number - x``
    runs this).

    >>> import chainrule as torch
    >>> torch.rsub(torch.tensor([1., 2.]), 5)
    tensor([4., 3.])
    >>> 1 - torch.tensor([0.25], requires_grad=True)
    tensor([0.7500], grad_fn=<RsubBackward1>)
    """
    c = other.__class__
    if isinstance(input, Tensor) and (c is float or c is int) and \
            input._data.dtype.kind != "b" and alpha.__class__ in (int, float):
        if alpha.__class__ is float:
            _check_float_alpha("rsub", input, other)
        b, a = binary_args("sub", other, input)     # (int tensor, float number: float)
        return RSUB.apply((a,), {"c": b} if alpha == 1 else {"c": b, "alpha": alpha})
    return sub(other, input, alpha=alpha)


@public("mul", "multiply", inplace=True)
def mul(input, other):
    """Elementwise product with broadcasting.

    >>> import chainrule as torch
    >>> torch.mul(torch.tensor([1., 2.]), torch.tensor([3., 4.]))
    tensor([3., 8.])
    """
    if input.__class__ is Tensor:                           # fast path, as in add
        d = input._data
        c = other.__class__
        if c is float or c is int and _PYINT_MIN <= other <= _PYINT_MAX:
            if (dt := d.dtype) is F64 or dt is F32 or dt.kind == "f":
                return MUL.apply((input, other))
        elif c is Tensor and other._data.dtype is d.dtype and other._data.shape == d.shape:
            return MUL.apply((input, other))
    a, b = binary_args("mul", input, other)
    return MUL.apply((a, b))


@public("div", "divide", inplace=True)
def div(input, other, *, rounding_mode=None):
    """Elementwise true division (integers give the default float dtype).

    ``rounding_mode="floor"``/``"trunc"`` give rounded results with zero gradient.

    >>> import chainrule as torch
    >>> torch.div(torch.tensor([7, -7]), 2)
    tensor([ 3.5000, -3.5000])
    >>> torch.div(torch.tensor([7., -7.]), 2, rounding_mode='floor')
    tensor([ 3., -4.])
    """
    if input.__class__ is Tensor and rounding_mode is None:  # fast path, as in add
        d = input._data
        c = other.__class__
        if (dt := d.dtype) is F64 or dt is F32 or dt.kind == "f":
            if c is float or c is int and _PYINT_MIN <= other <= _PYINT_MAX:
                return DIV.apply((input, other))
            if c is Tensor and other._data.dtype is d.dtype and other._data.shape == d.shape:
                return DIV.apply((input, other))
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or "
                               f"'floor' but found {rounding_mode!r}")
        a, b = _division_args(f"div_{rounding_mode}", input, other)
        return DIV_ROUNDING.apply((a, b), {"mode": rounding_mode})
    a, b = binary_args("div", input, other, floating=True)
    return DIV.apply((a, b))


@public()
def true_divide(input, other):
    """``div`` without ``rounding_mode``: true division.

    >>> import chainrule as torch
    >>> torch.true_divide(torch.tensor([1, 3]), 2)
    tensor([0.5000, 1.5000])
    """
    return div(input, other)


@public("neg", "negative", inplace=True)
def neg(input):
    """``-input``.

    >>> import chainrule as torch
    >>> torch.neg(torch.tensor([1., -2.]))
    tensor([-1.,  2.])
    """
    if isinstance(input, Tensor) and input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    if input.__class__ is Tensor:
        return NEG.apply((input,))
    return NEG.apply((input,))


@public(inplace=True)
def pow(input, exponent):
    """``input ** exponent`` (either may be a Tensor or a Python number).

    >>> import chainrule as torch
    >>> torch.pow(torch.tensor([1., 2., 3.]), 2)
    tensor([1., 4., 9.])
    """
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool) \
            and isinstance(input, Tensor):
        if isinstance(exponent, float) and input._data.dtype.kind != "f":
            input = input.to(DEFAULTS.float.np)
        elif input._data.dtype.kind != "f" and exponent < 0:
            raise RuntimeError("pow: Integers to negative integer powers are not allowed. "
                               "Convert the base to float first (x.float() ** -1).")
        return POW_SCALAR.apply((input,), {"p": exponent})
    a, b = binary_args("pow", input, exponent)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = tensor(a)
    if not isinstance(a, Tensor):
        return POW_SCALAR_BASE.apply((b,), {"base": a})
    return POW.apply((a, b))


# --- rule namespaces ---------------------------------------------------------------------

NF.div_floor, NF.div_trunc = _floor_divide_np, _trunc_divide_np
TF.div_floor = lambda a, b: div(a, b, rounding_mode="floor")
TF.div_trunc = lambda a, b: div(a, b, rounding_mode="trunc")
