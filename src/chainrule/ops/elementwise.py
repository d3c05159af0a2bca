"""Elementwise ops: arithmetic, unary math, comparisons, where/clamp, dtype casts.

Each op is one ``unary_op``/``binary_op``/``defop`` call holding its forward, VJP and JVP.
The public functions below only normalise arguments (dtype promotion, Python scalars) and
call ``apply``.
"""
import numpy as np

from .._dtypes import DEFAULTS, result_np_dtype
from .._tensor import Tensor, wrap
from ._core import NF, TF, apply, binary_op, defop, unary_op

_np = np

# --- argument normalisation -------------------------------------------------------------

_SCALARS = (int, float, bool)


def _tensorize(x, like=None):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.generic):
        return x.item()           # np.float64(2) acts like the Python number 2.0 (weak dtype)
    if isinstance(x, _SCALARS):
        return x
    from .._creation import tensor      # (a function-level import costs ~1 us: not first)
    return tensor(x)


def _broadcast_error(opname, sa, sb):
    # find the first mismatching dim from the right, as PyTorch reports it
    for i in range(1, min(len(sa), len(sb)) + 1):
        x, y = sa[-i], sb[-i]
        if x != y and x != 1 and y != 1:
            dim = max(len(sa), len(sb)) - i
            return RuntimeError(
                f"{opname}: The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                f"non-singleton dimension {dim} (shapes {list(sa)} and {list(sb)} don't "
                f"broadcast). Reshape or unsqueeze one operand so the shapes line up.")
    return RuntimeError(f"{opname}: shapes {list(sa)} and {list(sb)} don't broadcast")


def binary_args(opname, a, b, floating=False):
    """Promote two operands to PyTorch's common dtype; Tensors of that dtype pass through.

    ``floating``: integer results become the default float dtype (true division)."""
    # fast paths: same-dtype, same-shape Tensors; a float Tensor with a Python number
    ca, cb = a.__class__, b.__class__
    if ca is Tensor:
        da = a._data
        if cb is Tensor:
            db = b._data
            if da.dtype is db.dtype and da.shape == db.shape and \
                    (not floating or da.dtype.kind == "f"):
                return a, b
        elif (cb is float or cb is int and _PYINT_MIN <= b <= _PYINT_MAX) and da.dtype.kind == "f":
            return a, b
    elif (ca is float or ca is int and _PYINT_MIN <= a <= _PYINT_MAX) and cb is Tensor and \
            b._data.dtype.kind == "f":
        return a, b
    ta = a.__class__ is Tensor or isinstance(a, Tensor)
    tb = b.__class__ is Tensor or isinstance(b, Tensor)
    if not ta:
        a = _tensorize(a)
        ta = isinstance(a, Tensor)
    if not tb:
        b = _tensorize(b)
        tb = isinstance(b, Tensor)
    da = a._data if ta else a
    db = b._data if tb else b
    if ta and tb:
        sa, sb = da.shape, db.shape
        if sa != sb:
            # (np.broadcast_shapes would do, at ~10x the cost of this loop)
            for x, y in zip(sa[::-1], sb[::-1]):
                if x != y and x != 1 and y != 1:
                    raise _broadcast_error(opname, sa, sb)
        if da.dtype is db.dtype and (not floating or da.dtype.kind == "f"):
            return a, b
    dt = result_np_dtype((da, db))
    if floating and dt.kind != "f":
        dt = DEFAULTS.float.np
    if not ta and a.__class__ is int:
        a = _int_operand(opname, a, dt)
    if not tb and b.__class__ is int:
        b = _int_operand(opname, b, dt)
    if ta and da.dtype != dt:
        a = a.to(dt)
    if tb and db.dtype != dt:
        b = b.to(dt)
    return a, b


# the Python ints PyTorch takes as an operand (int64 or uint64); beyond them it raises
# OverflowError, so the fast paths below leave such ints to binary_args' check
_PYINT_MIN, _PYINT_MAX = -0x8000000000000000, 0xFFFFFFFFFFFFFFFF


def _int_operand(opname, v, dt):
    """A Python int operand as PyTorch takes it: beyond the 64-bit range it raises; in an
    integer op it wraps to the result dtype (``int8_tensor + 300`` adds 44, as PyTorch)."""
    if not -0x8000000000000000 <= v <= 0xFFFFFFFFFFFFFFFF:
        raise OverflowError(f"{opname}: int too big to convert: the Python int {v} fits "
                            f"neither int64 nor uint64. Use a float ({float(v):.4g}) or a "
                            f"smaller number.")
    if dt.kind in "iu":
        if v > 0x7FFFFFFFFFFFFFFF:
            v -= 0x10000000000000000      # (PyTorch reads it as uint64 bits, as an int64)
        info = np.iinfo(dt)
        if not info.min <= v <= info.max:
            v = int(np.array(v, dtype=np.int64).astype(dt))
    return v


def _unary(op, x):
    """Run an elementwise float op (sin, exp ...): integer tensors become the default float
    dtype first."""
    if x.__class__ is Tensor and x._data.dtype.kind == "f":
        return apply(op, (x,))
    return apply(op, (_floating(x),))


def _floating(x):
    """Integer/bool tensors become the default float dtype before float ops (like sin)."""
    if not isinstance(x, Tensor):
        x = _tensorize(x)
        if not isinstance(x, Tensor):
            from .._creation import tensor
            x = tensor(x)
    if x._data.dtype.kind != "f":
        return x.to(DEFAULTS.float.np)
    return x


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


# --- floor division, remainder, fmod: exact in each dtype, as PyTorch ------------------------
# Integers are divided in integer arithmetic (an int64 above 2**24 never goes through a
# float), and a zero divisor raises.  Floats follow PyTorch's kernels step by step (fmod
# first, then the sign fix), so large magnitudes, -0.0, inf and nan come out as in PyTorch.

def _int_divisor_check(name, a, b):
    if np.asarray(a).dtype.kind in "iub" and np.asarray(b).dtype.kind in "iub" and \
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
        from .._creation import tensor
        a = tensor(a)
    return a, b


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
    return apply(FLOOR_DIVIDE, (a, b))


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
        return apply(REMAINDER_SCALAR, (a,), {"other": b})
    return apply(REMAINDER, (a, b))


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
        return apply(FMOD_SCALAR, (a,), {"other": b})
    return apply(FMOD, (a, b))


NEG = defop("neg", np.negative, vjps=(lambda F, g, out, x: -g,),
            jvp=lambda F, t, out, x: -t[0], save_inputs=False)


def _pow_base_deriv(F, out, x, p):
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


POW_SCALAR = unary_op("pow", lambda x, p: np.power(x, p), _pow_base_deriv,
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


def _pow_base_deriv(F, out, x, base):
    # d(base**x)/dx = base**x * log(base); PyTorch makes it 0 where base == 0 and x >= 0
    if base != 0:
        return out * float(np.log(base))
    return F.where(x >= 0, 0., out * float("-inf"))


# a Python number raised to a tensor power: PyTorch's pow(Scalar, Tensor), whose node has
# the tensor as its only input
POW_SCALAR_BASE = unary_op("pow_scalar_base", lambda x, base: np.power(base, x),
                           _pow_base_deriv, save_out=True, backward_name="PowBackward2")


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
            if d.dtype.kind == "f":
                return apply(ADD, (input, other))
        elif c is Tensor and other._data.dtype is d.dtype:
            s = other._data.shape
            if s == d.shape or _fits(s, d.shape):
                return apply(ADD, (input, other))
    a, b = _with_alpha("add", input, other, alpha)
    return apply(ADD, (a, b))


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
            if d.dtype.kind == "f":
                return apply(SUB, (input, other))
        elif c is Tensor and other._data.dtype is d.dtype and d.dtype.kind != "b":
            s = other._data.shape
            if s == d.shape or _fits(s, d.shape):
                return apply(SUB, (input, other))
    if (isinstance(input, Tensor) and input._data.dtype.kind == "b") or \
            (isinstance(other, Tensor) and other._data.dtype.kind == "b"):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    a, b = _with_alpha("sub", input, other, alpha)
    if a.__class__ is not Tensor and b.__class__ is not Tensor and not isinstance(a, Tensor) \
            and not isinstance(b, Tensor):
        from .._creation import tensor
        a = tensor(a)
    return apply(SUB, (a, b))


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
        return apply(RSUB, (a,), {"c": b} if alpha == 1 else {"c": b, "alpha": alpha})
    return sub(other, input, alpha=alpha)


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
            if d.dtype.kind == "f":
                return apply(MUL, (input, other))
        elif c is Tensor and other._data.dtype is d.dtype and other._data.shape == d.shape:
            return apply(MUL, (input, other))
    a, b = binary_args("mul", input, other)
    return apply(MUL, (a, b))


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
        if d.dtype.kind == "f":
            if c is float or c is int and _PYINT_MIN <= other <= _PYINT_MAX:
                return apply(DIV, (input, other))
            if c is Tensor and other._data.dtype is d.dtype and other._data.shape == d.shape:
                return apply(DIV, (input, other))
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or "
                               f"'floor' but found {rounding_mode!r}")
        a, b = _division_args(f"div_{rounding_mode}", input, other)
        return apply(DIV_ROUNDING, (a, b), {"mode": rounding_mode})
    a, b = binary_args("div", input, other, floating=True)
    return apply(DIV, (a, b))


def true_divide(input, other):
    """``div`` without ``rounding_mode``: true division.

    >>> import chainrule as torch
    >>> torch.true_divide(torch.tensor([1, 3]), 2)
    tensor([0.5000, 1.5000])
    """
    return div(input, other)


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
        return apply(NEG, (input,))
    return apply(NEG, (input,))


negative = neg


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
        return apply(POW_SCALAR, (input,), {"p": exponent})
    a, b = binary_args("pow", input, exponent)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        from .._creation import tensor
        a = tensor(a)
    if not isinstance(a, Tensor):
        return apply(POW_SCALAR_BASE, (b,), {"base": a})
    return apply(POW, (a, b))


# --- unary math ---------------------------------------------------------------------------

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
SQRT = unary_op("sqrt", np.sqrt, lambda F, out, x: 0.5 / out, save_inputs=False, save_out=True)
ABS = unary_op("abs", np.abs, lambda F, out, x: F.sign(x))


def _sigmoid_np(x):
    # stable for large |x|: exp of a non-positive number only; 1 / (1 + e) where x >= 0,
    # e / (1 + e) elsewhere, computed in two buffers (about 1/3 less time than np.where
    # over fresh temporaries; the same bits)
    if x.ndim == 0:
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)
    d = e + 1
    out = np.divide(e, d, out=e)
    np.divide(1, d, out=d)
    np.copyto(out, d, where=x >= 0)
    return out


SIGMOID = unary_op("sigmoid", _sigmoid_np, lambda F, out, x: out * (1 - out),
                   save_inputs=False, save_out=True)
RELU = unary_op("relu", lambda x: np.maximum(x, 0), lambda F, out, x: out > 0,
                save_inputs=False, save_out=True, vjp=lambda F, g, out, x: F.relu_backward(g, out),
                jvp=lambda F, t, out, x: F.relu_backward(t[0], out))
# zero-gradient elementwise ops: their derivative is 0 almost everywhere
def _sign_np(x):
    # PyTorch's sign is (0 < x) - (x < 0): 0 for nan (np.sign gives nan); bool stays bool
    if x.dtype.kind == "b":
        return np.array(x, copy=True)
    s = np.sign(x)
    if x.dtype.kind == "f":
        s = np.where(np.isnan(x), x.dtype.type(0), s)
    return s


SIGN = unary_op("sign", _sign_np, lambda F, out, x: F.zeros_like(out), save_inputs=False,
                save_out=True)
FLOOR = unary_op("floor", np.floor, lambda F, out, x: F.zeros_like(out), save_inputs=False,
                 save_out=True)
CEIL = unary_op("ceil", np.ceil, lambda F, out, x: F.zeros_like(out), save_inputs=False,
                save_out=True)
TRUNC = unary_op("trunc", np.trunc, lambda F, out, x: F.zeros_like(out), save_inputs=False,
                 save_out=True)


def exp(input):
    """Elementwise ``e ** input``.

    >>> import chainrule as torch
    >>> torch.exp(torch.tensor([0., 1.]))
    tensor([1.0000, 2.7183])
    """
    return _unary(EXP, input)


def log(input):
    """Elementwise natural logarithm.

    >>> import chainrule as torch
    >>> torch.log(torch.tensor([1., 4.]))
    tensor([0.0000, 1.3863])
    """
    return _unary(LOG, input)


def sin(input):
    """Elementwise sine.

    >>> import chainrule as torch
    >>> torch.sin(torch.tensor([0., 1.5708]))
    tensor([0., 1.])
    """
    return _unary(SIN, input)


def cos(input):
    """Elementwise cosine.

    >>> import chainrule as torch
    >>> torch.cos(torch.tensor([0., 3.1416]))
    tensor([ 1., -1.])
    """
    return _unary(COS, input)


def tanh(input):
    """Elementwise hyperbolic tangent.

    >>> import chainrule as torch
    >>> torch.tanh(torch.tensor([-1., 0., 1.]))
    tensor([-0.7616,  0.0000,  0.7616])
    """
    return _unary(TANH, input)


def sqrt(input):
    """Elementwise square root.

    >>> import chainrule as torch
    >>> torch.sqrt(torch.tensor([4., 2.]))
    tensor([2.0000, 1.4142])
    """
    return _unary(SQRT, input)


def sigmoid(input):
    """Elementwise logistic sigmoid ``1 / (1 + exp(-x))``, stable for large ``|x|``.

    >>> import chainrule as torch
    >>> torch.sigmoid(torch.tensor([0.0]))
    tensor([0.5000])
    """
    return _unary(SIGMOID, input)


def relu(input):
    """Elementwise ``max(x, 0)``; the gradient at 0 is 0, as in PyTorch.

    >>> import chainrule as torch
    >>> torch.relu(torch.tensor([-1., 0., 2.]))
    tensor([0., 0., 2.])
    """
    if input.__class__ is Tensor:
        return apply(RELU, (input,))
    return apply(RELU, (_tensorize(input),))


def abs(input):
    """Elementwise absolute value; the gradient at 0 is 0.

    >>> import chainrule as torch
    >>> torch.abs(torch.tensor([-1.5, 0., 2.]))
    tensor([1.5000, 0.0000, 2.0000])
    """
    return apply(ABS, (_tensorize(input),))


def sign(input):
    """Elementwise sign (-1, 0 or 1); zero gradient.

    >>> import chainrule as torch
    >>> torch.sign(torch.tensor([-2., 0., 3.]))
    tensor([-1.,  0.,  1.])
    """
    return apply(SIGN, (_tensorize(input),))


def floor(input):
    """Round down; zero gradient.

    >>> import chainrule as torch
    >>> torch.floor(torch.tensor([-1.5, 1.5]))
    tensor([-2.,  1.])
    """
    return apply(FLOOR, (_tensorize(input),))


def ceil(input):
    """Round up; zero gradient.

    >>> import chainrule as torch
    >>> torch.ceil(torch.tensor([-1.5, 1.5]))
    tensor([-1.,  2.])
    """
    return apply(CEIL, (_tensorize(input),))


def trunc(input):
    """Round toward zero; zero gradient.

    >>> import chainrule as torch
    >>> torch.trunc(torch.tensor([-1.5, 1.5]))
    tensor([-1.,  1.])
    """
    return apply(TRUNC, (_tensorize(input),))


# --- maximum / minimum / where / clamp ------------------------------------------------------

def _tie_split(F, g, lose, tie):
    # gradient of maximum/minimum: all to the winner, split evenly at ties; an input that
    # does not lose gets it, so where either is nan (no order) both get g, as in PyTorch
    return F.where(lose, 0, F.where(tie, g * 0.5, g))


MAXIMUM = defop("maximum", np.maximum,
                vjps=(lambda F, g, out, a, b: _tie_split(F, g, a < b, a == b),
                      lambda F, g, out, a, b: _tie_split(F, g, b < a, a == b)),
                jvp=lambda F, t, out, a, b: _tie_jvp(F, t, a > b, a == b),
                broadcasts=True)
MINIMUM = defop("minimum", np.minimum,
                vjps=(lambda F, g, out, a, b: _tie_split(F, g, a > b, a == b),
                      lambda F, g, out, a, b: _tie_split(F, g, b > a, a == b)),
                jvp=lambda F, t, out, a, b: _tie_jvp(F, t, a < b, a == b),
                broadcasts=True)


def _tie_jvp(F, t, a_wins, tie):
    ta, tb = t
    ta = 0 if ta is None else ta
    tb = 0 if tb is None else tb
    return F.where(a_wins, ta, F.where(tie, (ta + tb) * 0.5, tb))


def maximum(input, other):
    """Elementwise maximum of two tensors (gradient split evenly at ties).

    >>> import chainrule as torch
    >>> torch.maximum(torch.tensor([1., 5.]), torch.tensor([3., 2.]))
    tensor([3., 5.])
    """
    a, b = binary_args("maximum", input, other)
    _require_tensors("maximum", a, b)
    return apply(MAXIMUM, (a, b))


def minimum(input, other):
    """Elementwise minimum of two tensors (gradient split evenly at ties).

    >>> import chainrule as torch
    >>> torch.minimum(torch.tensor([1., 5.]), torch.tensor([3., 2.]))
    tensor([1., 2.])
    """
    a, b = binary_args("minimum", input, other)
    _require_tensors("minimum", a, b)
    return apply(MINIMUM, (a, b))


def _require_tensors(name, a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}(): argument 'other' must be Tensor, not "
                        f"{type(b if isinstance(a, Tensor) else a).__name__}. "
                        f"Use torch.clamp for a Python number bound.")


def _where_fwd(c, a, b):
    return np.where(c, a, b)


WHERE = defop("where", _where_fwd,
              vjps=(None,
                    lambda F, g, out, c, a, b: F.where(c, g, 0),
                    lambda F, g, out, c, a, b: F.where(c, 0, g)),
              jvp=lambda F, t, out, c, a, b: F.where(c, 0 if t[1] is None else t[1],
                                                     0 if t[2] is None else t[2]),
              broadcasts=True, reads=((), (0,), (0,)))   # PyTorch saves only the condition


def where(condition, input=None, other=None):
    """Elementwise ``input if condition else other`` (broadcasting); the gradient flows to
    the chosen branch only.  ``where(condition)`` returns the indices of true elements.

    >>> import chainrule as torch
    >>> x = torch.tensor([-1., 2.])
    >>> torch.where(x > 0, x, 0.)
    tensor([0., 2.])
    """
    from .._creation import tensor
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        condition = tensor(condition)
    if condition._data.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype}. Compare first (e.g. x > 0).")
    a, b = binary_args("where", input, other)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = tensor(a)
    return apply(WHERE, (condition, a, b))


def _clamp_fwd(x, lo, hi):
    # PyTorch keeps x at a tie with a bound (clamp(-0., min=0.) is -0.); a nan bound gives nan
    if lo is not None:
        x = np.where(x < lo, lo, x) if lo == lo else np.maximum(x, lo)
    if hi is not None:
        x = np.where(x > hi, hi, x) if hi == hi else np.minimum(x, hi)
    return x


def _clamp_mask(F, x, lo, hi):
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return (x >= lo) & (x <= hi)


CLAMP = defop("clamp", _clamp_fwd,
              vjps=(lambda F, g, out, x, lo, hi: F.where(_clamp_mask(F, x, lo, hi), g, 0),),
              jvp=lambda F, t, out, x, lo, hi: F.where(_clamp_mask(F, x, lo, hi), t[0], 0),
              backward_name="ClampBackward1")


def clamp(input, min=None, max=None):
    """Clamp every element into ``[min, max]``; the gradient is passed where the input was
    inside the range (boundaries included) and is 0 elsewhere.

    >>> import chainrule as torch
    >>> torch.clamp(torch.tensor([-2., 0.5, 3.]), min=0, max=1)
    tensor([0.0000, 0.5000, 1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(input, min, max)
    x = _tensorize(input)
    if x._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        x = x.to(DEFAULTS.float.np)
    return apply(CLAMP, (x,), {"lo": min, "hi": max})


def _clamp_tensor_fwd(x, lo, hi, has_lo, has_hi):
    return np.minimum(np.maximum(x, lo), hi)


def _clamp_masks(x, lo, hi, has_lo, has_hi):
    """PyTorch's clamp_backward_min_max: the input gets the gradient where it lies inside
    [lo, hi] (both ends included, so ties go to the input; nan gets none), ``lo`` where the
    input is below it (and lo < hi), ``hi`` where the input is above it or hi < lo (the
    result is hi then)."""
    if not has_lo:
        return x <= hi, None, x > hi
    if not has_hi:
        return x >= lo, x < lo, None
    return (x >= lo) & (x <= hi), (x < lo) & (lo < hi), (x > hi) | (hi < lo)


def _clamp_tensor_vjp(F, g, out, x, lo, hi, has_lo, has_hi):
    m = _clamp_masks(x, lo, hi, has_lo, has_hi)
    return [None if k is None else F.where(k, g, 0) for k in m]


def _clamp_tensor_jvp(F, t, out, x, lo, hi, has_lo, has_hi):
    # PyTorch's forward mode: one bound picks it at ties and nan (x > lo, x < hi fail);
    # two bounds take x's tangent unless x < lo (lo's) or max(x, lo) > hi or lo > hi (hi's)
    tx, tlo, thi = (0 if v is None else v for v in t)
    if not has_lo:
        return F.where(x < hi, tx, thi)
    if not has_hi:
        return F.where(x > lo, tx, tlo)
    return F.where((F.maximum(x, lo) > hi) | (lo > hi), thi, F.where(x < lo, tlo, tx))


# clamp with tensor bounds; a missing bound is a constant +-inf tensor (has_lo / has_hi
# False), so one op covers clamp(x, min=t), clamp(x, max=t) and clamp(x, t1, t2)
CLAMP_TENSOR = defop("clamp_tensor", _clamp_tensor_fwd, vjps=_clamp_tensor_vjp,
                     jvp=_clamp_tensor_jvp, broadcasts=True, backward_name="ClampBackward0")


def _clamp_tensor(input, min, max):
    x = _tensorize(input)
    bounds = []
    for v, fill in ((min, -np.inf), (max, np.inf)):
        if v is None:
            bounds.append(wrap(np.full((), fill, dtype=x._data.dtype)))
        else:
            bounds.append(v if isinstance(v, Tensor) else _full_like(x, v))
    dt = result_np_dtype(tuple(b._data for b in [x] + bounds))
    x, lo, hi = (t if t._data.dtype == dt else t.to(dt) for t in [x] + bounds)
    return apply(CLAMP_TENSOR, (x, lo, hi), {"has_lo": min is not None,
                                             "has_hi": max is not None})


def _full_like(t, v):
    return wrap(np.full_like(t._data, v))


clip = clamp

# --- whole-tensor overwrites (zero_, fill_, copy_): PyTorch's node names ---------------------
# the old value gets a zero gradient; copy_'s source gets the gradient (summed back to its
# shape by the engine, as the source broadcasts)

ZERO = defop("zero", lambda x: np.zeros_like(x), vjps=(lambda F, g, out, x: F.zeros_like(g),),
             jvp=lambda F, t, out, x: F.zeros_like(t[0]), save_inputs=False,
             backward_name="ZeroBackward0")
FILL = defop("fill", lambda x, value: np.full_like(x, value),
             vjps=(lambda F, g, out, x, value: F.zeros_like(g),),
             jvp=lambda F, t, out, x, value: F.zeros_like(t[0]), save_inputs=False,
             backward_name="FillBackward2")
COPY = defop("copy", lambda x, src: np.array(np.broadcast_to(src, x.shape)),
             vjps=(lambda F, g, out, x, src: F.zeros_like(g), lambda F, g, out, x, src: g),
             jvp=lambda F, t, out, x, src: F.zeros_like(out) if t[1] is None else t[1],
             save_inputs=False, broadcasts=True, backward_name="CopyBackwards")


# --- dtype cast -----------------------------------------------------------------------------

CAST = defop("to", lambda x, dtype, src: x.astype(dtype),
             vjps=(lambda F, g, out, x, dtype, src: F.cast(g, src),),
             jvp=lambda F, t, out, x, dtype, src: F.cast(t[0], dtype),
             save_inputs=False, backward_name="ToCopyBackward0")


def cast(x, np_dtype):
    """``x`` converted to NumPy dtype ``np_dtype`` (recorded; the gradient is cast back)."""
    src = x._data.dtype
    if src == np_dtype:
        return x
    if np_dtype.kind != "f":
        return wrap(x._data.astype(np_dtype))   # integer/bool results carry no gradient
    if src.kind != "f":
        out = wrap(x._data.astype(np_dtype))
        return out
    return apply(CAST, (x,), {"dtype": np_dtype, "src": src})


# --- comparisons and logical ops: no gradient ----------------------------------------------

def _cmp(name, fn):
    op = defop(name, fn)

    def compare(input, other):
        a, b = binary_args(name, input, other)
        if not isinstance(a, Tensor):
            a, b = wrap(np.asarray(a)), b
        return apply(op, (a, b))
    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}`` comparison; returns a bool tensor."
    return compare


eq = _cmp("eq", np.equal)
ne = _cmp("ne", np.not_equal)
lt = _cmp("lt", np.less)
le = _cmp("le", np.less_equal)
gt = _cmp("gt", np.greater)
ge = _cmp("ge", np.greater_equal)
logical_and = _cmp("logical_and", np.logical_and)
logical_or = _cmp("logical_or", np.logical_or)
logical_xor = _cmp("logical_xor", np.logical_xor)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _bitwise(name, fn):
    op = defop(name, fn)

    def bitwise(input, other):
        a, b = binary_args(name, input, other)
        kinds = {x._data.dtype.kind for x in (a, b) if isinstance(x, Tensor)}
        if "f" in kinds:
            raise TypeError(f"{name}: bitwise ops need integer or bool tensors, got a floating "
                            f"tensor. Compare first (x > 0) to get a bool tensor.")
        return apply(op, (a, b))
    return bitwise


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


# docstring examples of the comparison, logical and bitwise ops made above
eq.__doc__ += """

    >>> import chainrule as torch
    >>> torch.eq(torch.tensor([1, 2, 3]), 2)
    tensor([False,  True, False])
    """
ne.__doc__ += """

    >>> import chainrule as torch
    >>> torch.ne(torch.tensor([1, 2, 3]), 2)
    tensor([ True, False,  True])
    """
lt.__doc__ += """

    >>> import chainrule as torch
    >>> torch.lt(torch.tensor([1, 2, 3]), 2)
    tensor([ True, False, False])
    """
le.__doc__ += """

    >>> import chainrule as torch
    >>> torch.le(torch.tensor([1, 2, 3]), 2)
    tensor([ True,  True, False])
    """
gt.__doc__ += """

    >>> import chainrule as torch
    >>> torch.gt(torch.tensor([1, 2, 3]), 2)
    tensor([False, False,  True])
    """
ge.__doc__ += """

    >>> import chainrule as torch
    >>> torch.ge(torch.tensor([1, 2, 3]), 2)
    tensor([False,  True,  True])
    """
logical_and.__doc__ += """

    >>> import chainrule as torch
    >>> torch.logical_and(torch.tensor([True, True, False]), torch.tensor([True, False, False]))
    tensor([ True, False, False])
    """
logical_or.__doc__ += """

    >>> import chainrule as torch
    >>> torch.logical_or(torch.tensor([True, True, False]), torch.tensor([True, False, False]))
    tensor([ True,  True, False])
    """
logical_xor.__doc__ += """

    >>> import chainrule as torch
    >>> torch.logical_xor(torch.tensor([True, True, False]), torch.tensor([True, False, False]))
    tensor([False,  True, False])
    """
bitwise_and.__doc__ = """Elementwise bitwise AND of integer or bool tensors (no gradient).

    >>> import chainrule as torch
    >>> torch.bitwise_and(torch.tensor([12, 10]), torch.tensor([10, 6]))
    tensor([8, 2])
    """
bitwise_or.__doc__ = """Elementwise bitwise OR of integer or bool tensors (no gradient).

    >>> import chainrule as torch
    >>> torch.bitwise_or(torch.tensor([12, 10]), torch.tensor([10, 6]))
    tensor([14, 14])
    """
bitwise_xor.__doc__ = """Elementwise bitwise XOR of integer or bool tensors (no gradient).

    >>> import chainrule as torch
    >>> torch.bitwise_xor(torch.tensor([12, 10]), torch.tensor([10, 6]))
    tensor([ 6, 12])
    """

LOGICAL_NOT = defop("logical_not", np.logical_not)
BITWISE_NOT = defop("bitwise_not", np.invert)


def logical_not(input):
    """Elementwise logical NOT (non-zero is true); returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.logical_not(torch.tensor([0, 1, 2]))
    tensor([ True, False, False])
    """
    return apply(LOGICAL_NOT, (_tensorize(input),))


def bitwise_not(input):
    """Elementwise bitwise NOT (``~x``) of an integer or bool tensor.

    >>> import chainrule as torch
    >>> torch.bitwise_not(torch.tensor([0, 5])), ~torch.tensor([True, False])
    (tensor([-1, -6]), tensor([False,  True]))
    """
    if input._data.dtype.kind == "f":
        raise TypeError("~ (bitwise_not) is only supported for integer and bool tensors")
    return apply(BITWISE_NOT, (input,))


def isnan(input):
    """Elementwise test for NaN; returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.isnan(torch.tensor([1., float('nan')]))
    tensor([False,  True])
    """
    return wrap(np.isnan(input._data))


def isinf(input):
    """Elementwise test for +/-infinity; returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.isinf(torch.tensor([1., float('inf'), -float('inf')]))
    tensor([False,  True,  True])
    """
    return wrap(np.isinf(input._data))


def isfinite(input):
    """Elementwise test for a finite value (not NaN or infinite); returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.isfinite(torch.tensor([1., float('inf'), float('nan')]))
    tensor([ True, False, False])
    """
    return wrap(np.isfinite(input._data))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if all elements are close (``|a - b| <= atol + rtol * |b|``).

    >>> import chainrule as torch
    >>> torch.allclose(torch.tensor([1., 2.]), torch.tensor([1., 2.000001]))
    True
    """
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|``; returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.isclose(torch.tensor([1., 2.]), torch.tensor([1., 2.1]))
    tensor([ True, False])
    """
    return wrap(np.isclose(input._data, getattr(other, "_data", other), rtol=rtol, atol=atol,
                           equal_nan=equal_nan))


def equal(input, other):
    """True if both tensors have the same shape and elements.

    >>> import chainrule as torch
    >>> torch.equal(torch.tensor([1, 2]), torch.tensor([1, 2]))
    True
    >>> torch.equal(torch.tensor([1]), torch.tensor([1, 1]))
    False
    """
    return input._data.shape == other._data.shape and bool(np.all(input._data == other._data))


# --- the rule namespaces --------------------------------------------------------------------

NF.exp, NF.log, NF.sin, NF.cos, NF.tanh, NF.sqrt, NF.sign = (
    np.exp, np.log, np.sin, np.cos, np.tanh, np.sqrt, _sign_np)
NF.abs, NF.where, NF.maximum, NF.minimum = np.abs, np.where, np.maximum, np.minimum
NF.sigmoid = _sigmoid_np
NF.tanh_backward = _tanh_backward_np
_SAME_WIDTH_INT = {2: np.int16, 4: np.int32, 8: np.int64}


def _relu_backward_np(g, out):
    """PyTorch's threshold_backward: ``g`` where ``out > 0`` fails to hold as ``out <= 0``,
    else +0 -- so a NaN output passes ``g``, and an inactive unit gives +0 even for a
    negative, inf or NaN ``g`` (``g * mask`` would give -0 or NaN there).  Branch-free:
    the bits of ``g`` AND a mask of all ones (``out <= 0`` false) or all zeros."""
    it = _SAME_WIDTH_INT.get(g.dtype.itemsize)
    if g.dtype.kind != "f" or it is None or g.shape != out.shape or g.ndim == 0:
        return np.where(out <= 0, np.zeros((), g.dtype), g)
    bits = np.add(out <= 0, -1, dtype=it)       # False -> -1 (all ones), True -> 0
    np.bitwise_and(bits, g.view(it), out=bits)
    return bits.view(g.dtype)


NF.relu_backward = _relu_backward_np
NF.zeros_like, NF.ones_like = np.zeros_like, np.ones_like


def _tf_like(fn):
    def like(x):
        from .. import _creation
        return getattr(_creation, fn)(x) if isinstance(x, Tensor) else wrap(getattr(np, fn)(x))
    return like


TF.zeros_like, TF.ones_like = _tf_like("zeros_like"), _tf_like("ones_like")
NF.cast = lambda a, d: a.astype(d, copy=False)
NF.ge = np.greater_equal
NF.floor = np.floor
NF.div_floor, NF.div_trunc = _floor_divide_np, _trunc_divide_np

TF.exp, TF.log, TF.sin, TF.cos, TF.tanh, TF.sqrt, TF.sign = exp, log, sin, cos, tanh, sqrt, sign
TF.abs, TF.maximum, TF.minimum, TF.sigmoid = abs, maximum, minimum, sigmoid
TF.floor = floor
TF.div_floor = lambda a, b: div(a, b, rounding_mode="floor")
TF.div_trunc = lambda a, b: div(a, b, rounding_mode="trunc")
TF.tanh_backward = lambda g, out: g * (1 - out * out)
TF.relu_backward = lambda g, out: _tf_where(out <= 0, 0., g)     # (as _relu_backward_np)
TF.ge = ge


def _tf_where(c, a, b):
    return where(c, a, b)


TF.where = _tf_where
TF.cast = cast
