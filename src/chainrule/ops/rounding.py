"""Rounding and integer division: ``floor``, ``ceil``, ``trunc``, ``round``, ``frac``,
``floor_divide`` (``//``), ``remainder`` (``%``), ``fmod`` and the rounding division behind
``div(..., rounding_mode=)``.

Rounding has a zero gradient (``frac`` = ``x - trunc(x)`` has gradient one).  Integer
division is exact in each dtype, as in PyTorch.
"""

import numpy as np

from .._backend import dtype_of
from .._dtypes import result_np_dtype
from .._tensor import Tensor
from ._core import NF, TF, defop, unary_op, public
from ._args import _as_tensor, _floating, _tensorize, binary_args
from .._creation import tensor


def _zero(F, out, x, **p):
    return F.zeros_like(out)


def _round_np(x, decimals=0):
    # half to even (np.rint), as PyTorch does; with decimals, PyTorch's exact recipe
    # rint(x * 10^d) / 10^d (or rint(x / 10^-d) * 10^-d), in the input's precision
    if not decimals:
        return np.round(x)
    scale = x.dtype.type(10.0 ** abs(decimals))
    return np.rint(x * scale) / scale if decimals > 0 else np.rint(x / scale) * scale


# --- floor division, remainder, fmod: exact in each dtype, as PyTorch ------------------------
# Integers are divided in integer arithmetic (an int64 above 2**24 never goes through a
# float), and a zero divisor raises.  Floats follow PyTorch's kernels step by step (fmod
# first, then the sign fix), so large magnitudes, -0.0, inf and nan come out as in PyTorch.

def _int_divisor_check(name, a, b):
    if dtype_of(a).kind in "iub" and dtype_of(b).kind in "iub" and \
            not np.all(b):
        raise RuntimeError(f"ZeroDivisionError ({name}: integer division by zero; the divisor "
                           f"has a 0. Mask the zeros out first, or divide in floating point "
                           f"with x.double())")


def _floor_divide_np(a, b):
    _int_divisor_check("floor_divide", a, b)
    with np.errstate(all="ignore"):
        if np.result_type(a, b).kind != "f":
            return np.floor_divide(a, b)        # (INT_MIN // -1 wraps, as in PyTorch)
        mod = np.fmod(a, b)
        q = (a - mod) / b
        q = np.where((mod != 0) & ((b < 0) != (mod < 0)), q - 1, q)
        fq = np.floor(q)
        fq = np.where(q - fq > 0.5, fq + 1, fq)
        r = np.where(q != 0, fq, np.copysign(np.zeros_like(q), a / b))
        return np.where(b == 0, a / b, r).astype(q.dtype, copy=False)


def _trunc_divide_np(a, b):
    _int_divisor_check("div_trunc", a, b)
    with np.errstate(all="ignore"):
        if np.result_type(a, b).kind != "f":
            q = np.floor_divide(a, b)
            # floor and trunc differ where the signs differ and the division is inexact
            fix = (np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0))
            return np.where(fix, q + 1, q).astype(q.dtype, copy=False)
        return np.trunc(np.true_divide(a, b))


def _remainder_np(a, b):
    _int_divisor_check("remainder", a, b)
    with np.errstate(all="ignore"):
        if np.result_type(a, b).kind != "f":
            return np.remainder(a, b)           # sign of the divisor, exact
        mod = np.fmod(a, b)
        return np.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)


def _fmod_np(a, b):
    _int_divisor_check("fmod", a, b)
    with np.errstate(all="ignore"):
        return np.fmod(a, b)


def _not_implemented(name):
    def vjp(F, g, out, *xs, **p):
        raise RuntimeError(f"derivative for aten::{name} is not implemented. {name} has no "
                           f"gradient in PyTorch; compute it under torch.no_grad() or from "
                           f"detached inputs (x.detach()).")
    return vjp


def _zero_grad(F, g, out, *xs, **p):
    return F.zeros_like(g)


# div(a, b, rounding_mode='floor'|'trunc'): zero gradient for both inputs (DivBackward2)
DIV_ROUNDING = defop(
    "div_rounding",
    lambda a, b, mode: (_floor_divide_np if mode == "floor" else _trunc_divide_np)(a, b),
    vjps=(_zero_grad, _zero_grad), jvp=lambda F, t, out, a, b, mode: F.zeros_like(out),
    save_inputs=False, broadcasts=True, backward_name="DivBackward2")
# a // b: PyTorch has no derivative (backward raises, forward mode is not implemented)
FLOOR_DIVIDE = defop("floor_divide", _floor_divide_np,
                     vjps=(_not_implemented("floor_divide"), _not_implemented("floor_divide")),
                     save_inputs=False, broadcasts=True, backward_name="NotImplemented")
# remainder(a, b) = a - b * floor(a / b): d/da = 1, d/db = -floor(a / b)
REMAINDER = defop("remainder", _remainder_np,
                  vjps=(lambda F, g, out, a, b: g,
                        lambda F, g, out, a, b: -g * F.div_floor(a, b)),
                  jvp=lambda F, t, out, a, b: _mod_jvp(F, t, a, b, F.div_floor),
                  broadcasts=True, reads=((), (0, 1)), backward_name="RemainderBackward1")
REMAINDER_SCALAR = unary_op("remainder_scalar", lambda x, other: _remainder_np(x, other),
                            None, save_inputs=False, vjp=lambda F, g, out, x, other: g,
                            jvp=lambda F, t, out, x, other: t[0],
                            backward_name="RemainderBackward0")
# fmod(a, b) = a - b * trunc(a / b): d/da = 1, d/db = -trunc(a / b)
FMOD = defop("fmod", _fmod_np,
             vjps=(lambda F, g, out, a, b: g,
                   lambda F, g, out, a, b: -g * F.div_trunc(a, b)),
             jvp=lambda F, t, out, a, b: _mod_jvp(F, t, a, b, F.div_trunc),
             broadcasts=True, reads=((), (0, 1)), backward_name="FmodBackward1")
FMOD_SCALAR = unary_op("fmod_scalar", lambda x, other: _fmod_np(x, other), None,
                       save_inputs=False, vjp=lambda F, g, out, x, other: g,
                       jvp=lambda F, t, out, x, other: t[0], backward_name="FmodBackward0")


def _mod_jvp(F, t, a, b, quotient):
    ta, tb = t
    r = ta
    if tb is not None:
        r2 = -tb * quotient(a, b)
        r = r2 if r is None else r + r2
    return r


def _division_args(name, a, b):
    """Promote the operands of an integer-capable division (``//``, ``%``, ``fmod``, ``div``
    with ``rounding_mode``); bool results raise, as in PyTorch."""
    a, b = binary_args(name, a, b)
    dt = result_np_dtype(tuple(x._data if isinstance(x, Tensor) else x for x in (a, b)))
    if dt.kind == "b":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'. Convert the "
                                  f"bool tensors first, e.g. x.long().")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = tensor(a)
    return a, b


@public(inplace=True)
def floor_divide(input, other):
    """Elementwise ``floor(input / other)`` (``input // other``); integers are divided
    exactly in integer arithmetic, and an integer division by zero raises.  PyTorch gives
    this op no derivative: backward through it raises.

    >>> import chainrule as torch
    >>> torch.floor_divide(torch.tensor([7, -7, 16777217]), 2)
    tensor([      3,      -4, 8388608])
    >>> torch.tensor([7.5, -7.5]) // 2
    tensor([ 3., -4.])
    """
    a, b = _division_args("floor_divide", input, other)
    return FLOOR_DIVIDE.apply((a, b))


@public(inplace=True)
def remainder(input, other):
    """Elementwise ``input - other * floor(input / other)`` (``input % other``): the result
    has the sign of ``other``.  Integers stay integers and are exact.

    >>> import chainrule as torch
    >>> torch.remainder(torch.tensor([-7, 7]), 3)
    tensor([2, 1])
    >>> torch.tensor([1e9]) % 7
    tensor([6.])
    """
    a, b = _division_args("remainder", input, other)
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        return REMAINDER_SCALAR.apply((a,), {"other": b})
    return REMAINDER.apply((a, b))


@public(inplace=True)
def fmod(input, other):
    """Elementwise C-style remainder ``input - other * trunc(input / other)``: the result
    has the sign of ``input``.  Integers stay integers and are exact.

    >>> import chainrule as torch
    >>> torch.fmod(torch.tensor([-7, 7]), 3)
    tensor([-1,  1])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}. Wrap the number first, e.g. "
                        f"torch.tensor({input!r}).")
    a, b = _division_args("fmod", input, other)
    if not isinstance(b, Tensor):
        return FMOD_SCALAR.apply((a,), {"other": b})
    return FMOD.apply((a, b))


# --- floor, ceil, trunc, round, frac: zero gradient (frac: one) ----------------------------

FLOOR = unary_op("floor", np.floor, lambda F, out, x: F.zeros_like(out), save_inputs=False,
                 save_out=True)
CEIL = unary_op("ceil", np.ceil, lambda F, out, x: F.zeros_like(out), save_inputs=False,
                save_out=True)
TRUNC = unary_op("trunc", np.trunc, lambda F, out, x: F.zeros_like(out), save_inputs=False,
                 save_out=True)


ROUND = unary_op("round", _round_np, _zero, save_inputs=False, save_out=True)
ROUND_DECIMALS = unary_op("round_decimals", _round_np, _zero, save_inputs=False,
                          save_out=True, backward_name="RoundBackward1")


@public(inplace=True)
def floor(input):
    """Round down; zero gradient.

    >>> import chainrule as torch
    >>> torch.floor(torch.tensor([-1.5, 1.5]))
    tensor([-2.,  1.])
    """
    return FLOOR.apply((_tensorize(input),))


@public(inplace=True)
def ceil(input):
    """Round up; zero gradient.

    >>> import chainrule as torch
    >>> torch.ceil(torch.tensor([-1.5, 1.5]))
    tensor([-1.,  2.])
    """
    return CEIL.apply((_tensorize(input),))


@public(inplace=True)
def trunc(input):
    """Round toward zero; zero gradient.

    >>> import chainrule as torch
    >>> torch.trunc(torch.tensor([-1.5, 1.5]))
    tensor([-1.,  1.])
    """
    return TRUNC.apply((_tensorize(input),))


@public(inplace=True)
def round(input, *, decimals=0):
    """Round to the nearest integer (halves to even, as in PyTorch), or to ``decimals``
    decimal places.  The gradient is zero.  Integer tensors are returned unchanged.

    >>> import chainrule as torch
    >>> torch.round(torch.tensor([0.5, 1.5, 2.7]))
    tensor([0., 2., 3.])
    """
    x = _tensorize(input)
    if not isinstance(x, Tensor):
        x = _floating(x)
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be int, not "
                        f"{type(decimals).__name__}")
    if decimals:
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"round_decimals: \"round\" with decimals={decimals} is only "
                               f"implemented for floating tensors, got {x.dtype}. Convert "
                               f"first, e.g. x.double().round(decimals={decimals}).")
        return ROUND_DECIMALS.apply((x,), {"decimals": decimals})
    return ROUND.apply((x,))


@public(inplace=True)
def frac(input):
    """The fractional part ``input - trunc(input)`` (sign of ``input``); gradient one.

    >>> import chainrule as torch
    >>> torch.frac(torch.tensor([-1.5, 2.25]))
    tensor([-0.5000,  0.2500])
    """
    x = _as_tensor(input)
    if x._data.dtype.kind not in "fc":
        raise NotImplementedError(f"frac: expected a floating point tensor, got dtype "
                                  f"{x.dtype}; convert it with .double() or .float() first")
    return x - trunc(x)             # (Tensor.__sub__: arithmetic.py's sub)


# --- rule namespaces ---------------------------------------------------------------------

NF.floor = np.floor
TF.floor = floor
