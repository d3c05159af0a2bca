"""Comparisons and the ops that choose by comparing: ``eq``/``ne``/``lt``/``le``/``gt``/``ge``,
logical and bitwise ops, ``isnan``/``isinf``/``isfinite``, ``isclose``/``allclose``/``equal``
(no gradient), and ``maximum``, ``minimum``, ``where`` and ``clamp`` (the gradient goes to
the chosen input; ties split it, as in PyTorch).
"""

import numpy as np

from .._dtypes import DEFAULTS, result_np_dtype
from .._tensor import Tensor, wrap
from ._core import NF, TF, defop, public
from ._args import _tensorize, binary_args
from .._creation import tensor


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


@public()
def maximum(input, other):
    """Elementwise maximum of two tensors (gradient split evenly at ties).

    >>> import chainrule as torch
    >>> torch.maximum(torch.tensor([1., 5.]), torch.tensor([3., 2.]))
    tensor([3., 5.])
    """
    a, b = binary_args("maximum", input, other)
    _require_tensors("maximum", a, b)
    return MAXIMUM.apply((a, b))


@public()
def minimum(input, other):
    """Elementwise minimum of two tensors (gradient split evenly at ties).

    >>> import chainrule as torch
    >>> torch.minimum(torch.tensor([1., 5.]), torch.tensor([3., 2.]))
    tensor([1., 2.])
    """
    a, b = binary_args("minimum", input, other)
    _require_tensors("minimum", a, b)
    return MINIMUM.apply((a, b))


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


def _where_method(self, condition, other):
    """``torch.where(condition, self, other)``.

    >>> import chainrule as torch
    >>> torch.tensor([1., 2.]).where(torch.tensor([True, False]), torch.tensor(0.))
    tensor([1., 0.])
    """
    return where(condition, self, other)


@public(method=_where_method)
def where(condition, input=None, other=None):
    """Elementwise ``input if condition else other`` (broadcasting); the gradient flows to
    the chosen branch only.  ``where(condition)`` returns the indices of true elements.

    >>> import chainrule as torch
    >>> x = torch.tensor([-1., 2.])
    >>> torch.where(x > 0, x, 0.)
    tensor([0., 2.])
    """
    if input is None and other is None:
        if not isinstance(condition, Tensor):
            condition = tensor(condition)
        return condition.nonzero(as_tuple=True)     # (Tensor.nonzero: index.py)
    if not isinstance(condition, Tensor):
        condition = tensor(condition)
    if condition._data.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype}. Compare first (e.g. x > 0).")
    a, b = binary_args("where", input, other)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = tensor(a)
    return WHERE.apply((condition, a, b))


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


@public("clamp", "clip", inplace=True)
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
        if min is None or max is None or (isinstance(min, Tensor) and isinstance(max, Tensor)):
            return _clamp_tensor(input, min, max)
        # one Tensor bound and one number: PyTorch reads a 0-d tensor that needs no
        # gradient as a number (the number overload), and refuses any other tensor
        min, max = _as_number("clamp", min, max), _as_number("clamp", max, min)
    x = _tensorize(input)
    if x._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        x = x.to(DEFAULTS.float.np)
    return CLAMP.apply((x,), {"lo": min, "hi": max})


def _as_number(name, v, other):
    if not isinstance(v, Tensor):
        return v
    if v._data.ndim == 0 and not v._rg:
        return v._data.item()
    raise TypeError(
        f"{name}() received an invalid combination of arguments - got (Tensor, a Tensor bound "
        f"of shape {list(v._data.shape)}{' that requires grad' if v._rg else ''} and a "
        f"{type(other).__name__} bound), but expected one of:\n"
        f" * (Tensor input, Tensor min = None, Tensor max = None)\n"
        f" * (Tensor input, Number min = None, Number max = None)\n"
        f"Pass both bounds as tensors (e.g. torch.tensor({other!r})) or both as numbers.")


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
    return CLAMP_TENSOR.apply((x, lo, hi), {"has_lo": min is not None,
                                             "has_hi": max is not None})


def _full_like(t, v):
    return wrap(np.full_like(t._data, v))




# clamp with one bound, under PyTorch's own names: a number bound (ClampMinBackward0 /
# ClampMaxBackward0, the rules of clamp) or a tensor bound (ClampMinBackward1 /
# ClampMaxBackward1: the gradient goes to the input where it is inside the bound, ties
# included, and to the bound where the bound is taken; nan gives neither.  In forward
# mode a nan takes the bound's tangent, as in PyTorch)
CLAMP_MIN = defop("clamp_min", lambda x, lo: _clamp_fwd(x, lo, None),
                  vjps=(lambda F, g, out, x, lo: F.where(x >= lo, g, 0),),
                  jvp=lambda F, t, out, x, lo: F.where(x >= lo, t[0], 0),
                  backward_name="ClampMinBackward0")
CLAMP_MAX = defop("clamp_max", lambda x, hi: _clamp_fwd(x, None, hi),
                  vjps=(lambda F, g, out, x, hi: F.where(x <= hi, g, 0),),
                  jvp=lambda F, t, out, x, hi: F.where(x <= hi, t[0], 0),
                  backward_name="ClampMaxBackward0")


def _zero_if_none(v):
    return 0 if v is None else v


CLAMP_MIN_TENSOR = defop(
    "clamp_min_tensor", np.maximum,
    vjps=(lambda F, g, out, x, lo: F.where(x >= lo, g, 0),
          lambda F, g, out, x, lo: F.where(x < lo, g, 0)),
    jvp=lambda F, t, out, x, lo: F.where(x >= lo, _zero_if_none(t[0]), _zero_if_none(t[1])),
    broadcasts=True, backward_name="ClampMinBackward1")
CLAMP_MAX_TENSOR = defop(
    "clamp_max_tensor", np.minimum,
    vjps=(lambda F, g, out, x, hi: F.where(x <= hi, g, 0),
          lambda F, g, out, x, hi: F.where(x > hi, g, 0)),
    jvp=lambda F, t, out, x, hi: F.where(x <= hi, _zero_if_none(t[0]), _zero_if_none(t[1])),
    broadcasts=True, backward_name="ClampMaxBackward1")


def _clamp_one(name, input, bound, number_op, tensor_op, key):
    if bound is None:
        arg = "min" if key == "lo" else "max"
        raise TypeError(f"{name}(): argument '{arg}' must be a number or a Tensor, not None; "
                        f"use clamp() for an optional bound")
    x = _tensorize(input)
    if isinstance(bound, Tensor):
        dt = result_np_dtype((x._data, bound._data))
        x, b = (t if t._data.dtype == dt else t.to(dt) for t in (x, bound))
        return tensor_op.apply((x, b))
    if x._data.dtype.kind != "f" and isinstance(bound, float):
        x = x.to(DEFAULTS.float.np)
    return number_op.apply((x,), {key: bound})


@public(inplace=True)
def clamp_min(input, min):
    """``clamp(input, min=min)`` under PyTorch's name: every element at least ``min`` (a
    number or a tensor broadcast against ``input``).

    >>> import chainrule as torch
    >>> torch.clamp_min(torch.tensor([-2., 0.5, 3.]), 0)
    tensor([0.0000, 0.5000, 3.0000])
    """
    return _clamp_one("clamp_min", input, min, CLAMP_MIN, CLAMP_MIN_TENSOR, "lo")


@public(inplace=True)
def clamp_max(input, max):
    """``clamp(input, max=max)`` under PyTorch's name: every element at most ``max`` (a
    number or a tensor broadcast against ``input``).

    >>> import chainrule as torch
    >>> torch.clamp_max(torch.tensor([-2., 0.5, 3.]), 1)
    tensor([-2.0000,  0.5000,  1.0000])
    """
    return _clamp_one("clamp_max", input, max, CLAMP_MAX, CLAMP_MAX_TENSOR, "hi")


# --- comparisons and logical ops: no gradient ----------------------------------------------

def _cmp(name, fn):
    op = defop(name, fn)

    def compare(input, other):
        a, b = binary_args(name, input, other)
        if not isinstance(a, Tensor):
            a, b = wrap(np.asarray(a)), b
        return op.apply((a, b))
    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}`` comparison; returns a bool tensor."
    return compare


eq = public("eq")(_cmp("eq", np.equal))
ne = public("ne", "not_equal")(_cmp("ne", np.not_equal))
lt = public("lt", "less")(_cmp("lt", np.less))
le = public("le", "less_equal")(_cmp("le", np.less_equal))
gt = public("gt", "greater")(_cmp("gt", np.greater))
ge = public("ge", "greater_equal")(_cmp("ge", np.greater_equal))
logical_and = public("logical_and")(_cmp("logical_and", np.logical_and))
logical_or = public("logical_or")(_cmp("logical_or", np.logical_or))
logical_xor = public("logical_xor")(_cmp("logical_xor", np.logical_xor))


def _bitwise(name, fn):
    op = defop(name, fn)

    def bitwise(input, other):
        a, b = binary_args(name, input, other)
        kinds = {x._data.dtype.kind for x in (a, b) if isinstance(x, Tensor)}
        if "f" in kinds:
            raise TypeError(f"{name}: bitwise ops need integer or bool tensors, got a floating "
                            f"tensor. Compare first (x > 0) to get a bool tensor.")
        return op.apply((a, b))
    return bitwise


bitwise_and = public("bitwise_and")(_bitwise("bitwise_and", np.bitwise_and))
bitwise_or = public("bitwise_or")(_bitwise("bitwise_or", np.bitwise_or))
bitwise_xor = public("bitwise_xor")(_bitwise("bitwise_xor", np.bitwise_xor))


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


@public()
def logical_not(input):
    """Elementwise logical NOT (non-zero is true); returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.logical_not(torch.tensor([0, 1, 2]))
    tensor([ True, False, False])
    """
    return LOGICAL_NOT.apply((_tensorize(input),))


@public()
def bitwise_not(input):
    """Elementwise bitwise NOT (``~x``) of an integer or bool tensor.

    >>> import chainrule as torch
    >>> torch.bitwise_not(torch.tensor([0, 5])), ~torch.tensor([True, False])
    (tensor([-1, -6]), tensor([False,  True]))
    """
    if input._data.dtype.kind == "f":
        raise TypeError("~ (bitwise_not) is only supported for integer and bool tensors")
    return BITWISE_NOT.apply((input,))


@public()
def isnan(input):
    """Elementwise test for NaN; returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.isnan(torch.tensor([1., float('nan')]))
    tensor([False,  True])
    """
    return wrap(np.isnan(input._data))


@public()
def isinf(input):
    """Elementwise test for +/-infinity; returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.isinf(torch.tensor([1., float('inf'), -float('inf')]))
    tensor([False,  True,  True])
    """
    return wrap(np.isinf(input._data))


@public()
def isfinite(input):
    """Elementwise test for a finite value (not NaN or infinite); returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.isfinite(torch.tensor([1., float('inf'), float('nan')]))
    tensor([ True, False, False])
    """
    return wrap(np.isfinite(input._data))


def _two_tensors(name, input, other):
    """PyTorch's TypeError for the ops that take two Tensors and nothing else."""
    for pos, arg, value in ((1, "input", input), (2, "other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                            f"{type(value).__name__}")


@public()
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if all elements are close (``|a - b| <= atol + rtol * |b|``).

    >>> import chainrule as torch
    >>> torch.allclose(torch.tensor([1., 2.]), torch.tensor([1., 2.000001]))
    True
    """
    _two_tensors("allclose", input, other)
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


@public()
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|``; returns a bool tensor.

    >>> import chainrule as torch
    >>> torch.isclose(torch.tensor([1., 2.]), torch.tensor([1., 2.1]))
    tensor([ True, False])
    """
    _two_tensors("isclose", input, other)
    return wrap(np.isclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


@public()
def equal(input, other):
    """True if both tensors have the same shape and elements.

    >>> import chainrule as torch
    >>> torch.equal(torch.tensor([1, 2]), torch.tensor([1, 2]))
    True
    >>> torch.equal(torch.tensor([1]), torch.tensor([1, 1]))
    False
    """
    _two_tensors("equal", input, other)
    return input._data.shape == other._data.shape and bool(np.all(input._data == other._data))


def _tf_where(c, a, b):
    return where(c, a, b)


# --- rule namespaces ---------------------------------------------------------------------

NF.where, NF.maximum, NF.minimum = np.where, np.maximum, np.minimum
NF.ge = np.greater_equal
NF.isfinite = np.isfinite
TF.maximum, TF.minimum = maximum, minimum
TF.ge = ge
TF.where = _tf_where
TF.isfinite = isfinite
