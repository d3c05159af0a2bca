"""Special functions and two-input math: ``erf``, ``atan2``, ``hypot``, ``copysign``,
``xlogy``, ``logit``, ``sinc``, ``nan_to_num`` and ``lerp``.

Where PyTorch masks or reorders a formula for stability (``atan2`` at the origin, ``xlogy``
at ``x = 0``, ``sinc`` near 0, ``lerp``'s two branches), the VJP and the JVP do the same.

``erf``: NumPy has no ``erf`` and SciPy is not a dependency.  The forward pass maps the
standard library's ``math.erf`` over the elements (correctly rounded to within an ulp or
so in float64; float32 inputs are evaluated in float64 and rounded).  This costs about
0.1 s per million elements -- slower than a vectorised polynomial, but exact; ``erf`` is
rarely on a hot path (``gelu`` uses it, and is still dominated by the surrounding matmuls
in typical use).
"""
import math

import numpy as np

from .._backend import backend_of, index_on, is_device_array, to_host
from .._tensor import Tensor
from ._core import NF, TF, binary_op, defop, unary_op, public
from ._args import _floating, _tensorize, _unary, binary_args
from .._creation import tensor
from .copies import clone


# --- the rule table -------------------------------------------------------------------------

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf_np(x):
    if x.__class__ is not np.ndarray and is_device_array(x):
        # NumPy has no erf: the device library's (CuPy's), or computed on the host and
        # copied back where it has none
        erf = backend_of(x).erf
        if erf is not None:
            return erf(x).astype(x.dtype, copy=False)
        return index_on(x, _erf_np(to_host(x)))
    x = np.asarray(x)
    flat = x.astype(np.float64, copy=False).ravel().tolist()
    r = np.fromiter(map(math.erf, flat), dtype=np.float64, count=len(flat))
    return r.reshape(x.shape).astype(x.dtype, copy=False)


ERF = unary_op("erf", _erf_np, lambda F, out, x: _TWO_OVER_SQRT_PI * F.exp(-(x * x)))


def _atan2_recip(F, a, b):
    # 1 / (a^2 + b^2), 0 where that sum is 0 (the origin, or squares that underflow): PyTorch
    # gives gradient 0 there instead of 0 * inf = nan (its second order there is nan, as
    # here: the masked 1 / 0 is differentiated)
    d = a * a + b * b
    return F.where(d == 0, 0, 1 / d)


def _atan2_jvp(F, t, out, a, b):
    # PyTorch's (b * ta - a * tb) / (a^2 + b^2), unmasked (forward mode is not masked there)
    ta, tb = t
    num = -(a * tb) if ta is None else (b * ta if tb is None else b * ta - a * tb)
    return num / (a * a + b * b)


ATAN2 = defop("atan2", np.arctan2,
              vjps=(lambda F, g, out, a, b: g * b * _atan2_recip(F, a, b),
                    lambda F, g, out, a, b: g * -a * _atan2_recip(F, a, b)),
              jvp=_atan2_jvp, broadcasts=True)


# hypot: d/da = a / out, d/db = b / out (nan at the origin, as in PyTorch)
HYPOT = binary_op("hypot", np.hypot, lambda F, out, a, b: a / out,
                  lambda F, out, a, b: b / out, save_out=True)


def _copysign_ratio(F, out, a, *rest, **params):
    # PyTorch's copysign backward: out / a, and 0 where a == 0
    return F.where(a == 0, 0., out / a)


# copysign: the gradient flows to the magnitude only (the sign input gets 0)
COPYSIGN = binary_op("copysign", np.copysign, _copysign_ratio,
                     lambda F, out, a, b: F.zeros_like(out), save_out=True)
COPYSIGN_SCALAR = unary_op("copysign_scalar", lambda x, other: np.copysign(x, other),
                           _copysign_ratio, save_out=True, backward_name="CopysignBackward1")


def _xlogy_np(x, y):
    # x * log(y), and 0 where x == 0 unless y is nan (PyTorch's xlogy)
    with np.errstate(all="ignore"):
        r = x * np.log(y)
    return np.where((x == 0) & ~np.isnan(y), r.dtype.type(0), r).astype(r.dtype, copy=False)


def _xlogy_da(F, g, a, b):
    # PyTorch: xlogy(grad, other), masked to 0 where self == 0 and other <= 0
    return F.where((a == 0) & (b <= 0), 0., F.xlogy(g, b))


XLOGY = defop("xlogy", _xlogy_np,
              vjps=(lambda F, g, out, a, b: _xlogy_da(F, g, a, b),
                    lambda F, g, out, a, b: g * a / b),
              jvp=lambda F, t, out, a, b: _sum_tangents(
                  None if t[0] is None else _xlogy_da(F, t[0], a, b),
                  None if t[1] is None else t[1] * a / b),
              broadcasts=True)
# a Python number for ``other`` / ``input``: PyTorch's xlogy(Tensor, Scalar) and
# xlogy(Scalar, Tensor), the same rules under their node names
def _xlogy_scalar_other_da(F, g, a, b):
    # PyTorch's xlogy(Tensor, Scalar): xlogy(grad, other), masked to 0 where self == 0
    # unless other > 0 (so a nan ``other`` gives 0 there, where a tensor ``other`` gives nan)
    return F.xlogy(g, b) if float(b) > 0 else F.where(a == 0, 0., F.xlogy(g, b))


XLOGY_SCALAR_OTHER = defop(
    "xlogy_scalar_other", _xlogy_np,
    vjps=(lambda F, g, out, a, b: _xlogy_scalar_other_da(F, g, a, b), None),
    jvp=lambda F, t, out, a, b: _xlogy_scalar_other_da(F, t[0], a, b),
    broadcasts=True, backward_name="XlogyBackward2")
XLOGY_SCALAR_SELF = defop("xlogy_scalar_self", _xlogy_np, vjps=XLOGY.vjps, jvp=XLOGY.jvp,
                          broadcasts=True, backward_name="XlogyBackward1")


def _sum_tangents(x, y):
    return y if x is None else (x if y is None else x + y)


def _logit_np(x, eps=None):
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    with np.errstate(all="ignore"):
        return np.log(x / (1 - x))


def _logit_deriv(F, out, x, eps=None):
    # 1 / (x (1 - x)); outside [eps, 1 - eps] 0 (the input was clamped), and without eps
    # nan outside [0, 1] (PyTorch's logit_backward)
    if eps is None:
        return F.where((x < 0) | (x > 1), float("nan"), 1 / (x * (1 - x)))
    return F.where((x < eps) | (x > 1 - eps), 0., 1 / (x * (1 - x)))


LOGIT = unary_op("logit", _logit_np, _logit_deriv)


def _sinc_np(x):
    with np.errstate(all="ignore"):
        return np.sinc(x).astype(x.dtype, copy=False)


def _sinc_deriv(F, out, x):
    # (cos(pi x) pi x - sin(pi x)) / (pi x^2), and 0 where pi x^2 underflows to 0 (x == 0
    # and subnormal or tiny x, where it is about -pi^2 x / 3: 0 / 0 = nan before), as PyTorch
    px = math.pi * x
    d = px * x
    return F.where(d == 0, 0., (F.cos(px) * px - F.sin(px)) / d)


SINC = unary_op("sinc", _sinc_np, _sinc_deriv)


def _nan_to_num_np(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


NAN_TO_NUM = unary_op("nan_to_num", _nan_to_num_np,
                      lambda F, out, x, **p: F.where(F.isfinite(x), 1., 0.),
                      vjp=lambda F, g, out, x, **p: F.where(F.isfinite(x), g, 0.),
                      jvp=lambda F, t, out, x, **p: F.where(F.isfinite(x), t[0], 0.),
                      backward_name="NanToNumBackward0")


def _lerp_np(a, b, weight):
    # PyTorch's formula: from the nearer end, so that weight 1 gives exactly end
    w = weight
    with np.errstate(all="ignore"):
        r = np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))
    return r.astype(np.result_type(a, b), copy=False)


LERP = defop("lerp", _lerp_np,
             vjps=(lambda F, g, out, a, b, weight: g * (1 - weight),
                   lambda F, g, out, a, b, weight: g * weight),
             jvp=lambda F, t, out, a, b, weight: _lerp_tangents(F, t[0], t[1], weight),
             save_inputs=False, broadcasts=True)
LERP_TENSOR = defop("lerp_tensor", _lerp_np,
                    vjps=(lambda F, g, out, a, b, w: g * (1 - w),
                          lambda F, g, out, a, b, w: g * w,
                          lambda F, g, out, a, b, w: g * (b - a)),
                    jvp=lambda F, t, out, a, b, w: _lerp_tensor_jvp(F, t, a, b, w),
                    broadcasts=True, backward_name="LerpBackward1")


def _lerp_tangents(F, ta, tb, w):
    """PyTorch's forward mode: lerp(ta, tb, w) with lerp's own formula (from the nearer
    end), so a weight of +-inf gives +-inf, not inf - inf = nan."""
    if ta is None and tb is None:
        return None
    if tb is None:
        return ta * (1 - w)
    if ta is None:
        return tb * w
    if not hasattr(w, "shape"):
        return ta + w * (tb - ta) if abs(w) < 0.5 else tb - (tb - ta) * (1 - w)
    return F.where(F.abs(w) < 0.5, ta + w * (tb - ta), tb - (tb - ta) * (1 - w))


def _lerp_tensor_jvp(F, t, a, b, w):
    ta, tb, tw = t
    return _sum_tangents(_lerp_tangents(F, ta, tb, w), None if tw is None else tw * (b - a))


# --- public functions -----------------------------------------------------------------------

@public(inplace=True)
def erf(input):
    """Elementwise error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``.

    >>> import chainrule as torch
    >>> torch.erf(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8427])
    """
    return _unary(ERF, input)


@public("atan2", "arctan2", inplace=True)
def atan2(input, other):
    """Elementwise angle of the point ``(other, input)``: ``atan(input / other)`` in the
    right quadrant.  Broadcasts; integer tensors give the default float dtype.

    >>> import chainrule as torch
    >>> torch.atan2(torch.tensor([1.0, -1.0]), torch.tensor([-1.0, -1.0]))
    tensor([ 2.3562, -2.3562])
    """
    for i, (name, v) in enumerate((("input", input), ("other", other))):
        if not isinstance(v, Tensor):
            raise TypeError(f"atan2(): argument '{name}' (position {i + 1}) must be Tensor, "
                            f"not {type(v).__name__}. Wrap the number first, e.g. "
                            f"torch.tensor({v!r}).")
    a, b = binary_args("atan2", input, other, floating=True)
    return ATAN2.apply((a, b))


# PyTorch's C++ scalar type names, as its "not implemented for" errors print them
_SCALAR_TYPE = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool"}


def _tensor_args(name, **named):
    for i, (arg, v) in enumerate(named.items()):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {i + 1}) must be Tensor, "
                            f"not {type(v).__name__}. Wrap the number first, e.g. "
                            f"torch.tensor({v!r}).")


@public(inplace=True)
def hypot(input, other):
    """Elementwise ``sqrt(input**2 + other**2)``, without overflow for large values.
    Floating tensors only, as in PyTorch.

    >>> import chainrule as torch
    >>> torch.hypot(torch.tensor([3.0, 5.0]), torch.tensor([4.0, 12.0]))
    tensor([ 5., 13.])
    """
    _tensor_args("hypot", input=input, other=other)
    a, b = binary_args("hypot", input, other)
    if a._data.dtype.kind != "f":
        raise NotImplementedError(f"\"hypot_cpu\" not implemented for "
                                  f"'{_SCALAR_TYPE[a.dtype.name]}'. hypot needs floating "
                                  f"tensors: convert first (x.float()).")
    return HYPOT.apply((a, b))


@public(inplace=True)
def copysign(input, other):
    """Elementwise magnitude of ``input`` with the sign of ``other`` (``-0.0`` counts as
    negative).  Integers give the default float dtype.  The gradient flows to ``input``
    only.

    >>> import chainrule as torch
    >>> torch.copysign(torch.tensor([1.0, -2.0, 3.0]), torch.tensor([-1.0, 1.0, -0.0]))
    tensor([-1.,  2., -3.])
    """
    _tensor_args("copysign", input=input)
    a, b = binary_args("copysign", input, other, floating=True)
    if not isinstance(b, Tensor):
        return COPYSIGN_SCALAR.apply((a,), {"other": float(b)})
    return COPYSIGN.apply((a, b))


@public(inplace=True)
def xlogy(input, other):
    """Elementwise ``input * log(other)``, and 0 where ``input == 0`` (even where
    ``other`` is 0; nan where ``other`` is nan).  Integers give the default float dtype.

    >>> import chainrule as torch
    >>> torch.xlogy(torch.tensor([0.0, 2.0]), torch.tensor([0.0, 3.0]))
    tensor([0.0000, 2.1972])
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        _tensor_args("xlogy", input=input)
    a, b = binary_args("xlogy", input, other, floating=True)
    op = XLOGY
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        # a Python number becomes a 0-d tensor of the result dtype (no gradient)
        op = XLOGY_SCALAR_OTHER if isinstance(a, Tensor) else XLOGY_SCALAR_SELF
        dt = (a if isinstance(a, Tensor) else b).dtype
        a = a if isinstance(a, Tensor) else tensor(a, dtype=dt)
        b = b if isinstance(b, Tensor) else tensor(b, dtype=dt)
    return op.apply((a, b))


@public(inplace=True)
def logit(input, eps=None):
    """Elementwise ``log(p / (1 - p))``, the inverse of ``sigmoid``.  With ``eps``, the
    input is first clamped to ``[eps, 1 - eps]`` (and the gradient is 0 outside it).

    >>> import chainrule as torch
    >>> torch.logit(torch.tensor([0.25, 0.5]))
    tensor([-1.0986,  0.0000])
    >>> torch.logit(torch.tensor([0.0, 1.0]), eps=0.25)
    tensor([-1.0986,  1.0986])
    """
    x = _floating(input)
    if eps is None:
        return LOGIT.apply((x,))
    return LOGIT.apply((x,), {"eps": float(eps)})


@public(inplace=True)
def sinc(input):
    """Elementwise normalised sinc ``sin(pi x) / (pi x)``, 1 at 0.

    >>> import chainrule as torch
    >>> torch.sinc(torch.tensor([0.0, 0.5, -1.5]))
    tensor([ 1.0000,  0.6366, -0.2122])
    """
    return _unary(SINC, input)


@public(inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """``input`` with nan, +inf and -inf replaced (by 0, the dtype's largest and its
    smallest finite value unless given).  The gradient is 0 at the replaced elements.
    Integer tensors are returned as a copy.

    >>> import chainrule as torch
    >>> torch.nan_to_num(torch.tensor([float('nan'), 1.0, float('inf')]), posinf=9.0)
    tensor([0., 1., 9.])
    """
    x = _tensorize(input)
    if not isinstance(x, Tensor):
        x = _floating(x)
    if x._data.dtype.kind != "f":
        return clone(x)
    params = {"nan": 0.0 if nan is None else float(nan)}
    if posinf is not None:
        params["posinf"] = float(posinf)
    if neginf is not None:
        params["neginf"] = float(neginf)
    return NAN_TO_NUM.apply((x,), params)


@public(inplace=True)
def lerp(input, end, weight):
    """Linear interpolation ``input + weight * (end - input)``; ``weight`` is a number or a
    tensor (all three broadcast).  Floating tensors of one dtype only, as in PyTorch.

    >>> import chainrule as torch
    >>> torch.lerp(torch.tensor([0.0, 10.0]), torch.tensor([1.0, 20.0]), 0.25)
    tensor([ 0.2500, 12.5000])
    """
    _tensor_args("lerp", input=input, end=end)
    a, b = input, end
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"lerp: expected dtype {a.dtype.name} for `end` but got dtype "
                           f"{b.dtype.name}. Convert end first (end.to(input.dtype)).")
    if a._data.dtype.kind != "f":
        raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for "
                                  f"'{_SCALAR_TYPE[a.dtype.name]}'. lerp needs floating "
                                  f"tensors: convert first (x.float()).")
    binary_args("lerp", a, b)                   # (the shapes must broadcast)
    if isinstance(weight, Tensor):
        if weight._data.dtype != a._data.dtype:
            if weight._data.ndim:
                raise RuntimeError(f"lerp: expected dtype {a.dtype.name} for `weight` but "
                                   f"got dtype {weight.dtype.name}. Convert the weight first "
                                   f"(weight.to(input.dtype)).")
            weight = weight.to(a.dtype)
        binary_args("lerp", a, weight)
        binary_args("lerp", b, weight)
        return LERP_TENSOR.apply((a, b, weight))
    return LERP.apply((a, b), {"weight": float(weight)})


# --- rule namespaces ---------------------------------------------------------------------

NF.erf, NF.xlogy = _erf_np, _xlogy_np
TF.erf, TF.xlogy = erf, xlogy
