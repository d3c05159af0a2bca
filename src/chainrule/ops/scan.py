"""Products and scans: ``prod`` (all elements or along a dim), ``cumsum`` and ``cumprod``.

Zeros are handled exactly, like PyTorch:
  * ``prod``: without zeros the gradient is ``g * out / x``.  With zeros it is ``g`` times
    the product of all *other* elements, computed as (exclusive cumulative product from the
    left) * (exclusive cumulative product from the right) -- no division, so a single zero
    gets the product of the rest and everything else 0, two zeros give all 0.
  * ``cumprod``: without zeros ``reverse_cumsum(g * out) / x``.  With zeros, take each
    slice's first zero ``z``: positions before it use the same formula (their ``x`` is not
    0); position ``z`` gets ``reverse_cumsum(g * cumprod(x'))`` where ``x'`` is ``x`` with
    ``x_z`` set to 1; positions after it get ``x_z`` times the same gradient computed for
    ``x'`` -- 0 in value, but with the right derivative in ``x_z``.  The last part repeats
    once per further zero (only when a graph of the backward pass is built; in the plain
    backward pass it is 0 and skipped), so everything stays ``O(n)`` per zero.  The JVP
    uses the mirror-image decomposition with forward scans.
Both are written with ``F`` ops (``cumprod``, ``cumsum``, ``cat``, ``where``, slicing), so
second derivatives are exact at zeros too.
"""
import numpy as np

from .._backend import copy_array, like_device
from .._tensor import Tensor, _dim, wrap
from ._core import NF, TF, defop, public
from ._args import _floating, _tensorize
from .reduce import kept_shape
from ._numpy_names import numpy_names

# --- helpers usable in both rule namespaces ------------------------------------------------


def _sl(d, s):
    """An index selecting ``s`` along dim ``d`` (non-negative)."""
    return (slice(None),) * d + (s,)


def _rev(x, d):
    """``x`` reversed along dim ``d`` (plain slicing, so it works on arrays and Tensors)."""
    if len(x.shape) == 0:
        return x
    return x[_sl(d, slice(None, None, -1))]


def _reverse_cumsum(F, g, d):
    return _rev(F.cumsum(_rev(g, d), d), d)


def _prod_except(F, x, d):
    """``prod_{j != k} x_j`` along dim ``d`` for every ``k``, without dividing."""
    if d is None:                       # all elements: work on the flattened tensor
        return F.reshape(_prod_except(F, F.reshape(x, (-1,)), 0), tuple(x.shape))
    n = x.shape[d]
    if n <= 1:
        return F.ones_like(x)
    ones = F.ones_like(x[_sl(d, slice(0, 1))])
    left = F.cumprod(F.cat([ones, x[_sl(d, slice(0, n - 1))]], d), d)
    xr = _rev(x, d)
    right = _rev(F.cumprod(F.cat([ones, xr[_sl(d, slice(0, n - 1))]], d), d), d)
    return left * right


def _zero_masks(xd, d):
    """Data masks along dim ``d``: before each slice's first zero, and at that zero."""
    zero = xd == 0
    seen = np.cumsum(zero, axis=d)
    return seen == 0, zero & (seen == 1)


def _cumprod_vjp_zeros(F, g, x, d):
    """Exact VJP of cumprod when ``x`` has zeros (see the module docstring)."""
    total, coef = None, None
    active = like_device(x, np.ones(tuple(x.shape), dtype=bool))    # not yet assigned
    while True:
        before, first = _zero_masks(F.data(x), d)
        x1 = F.where(first, 1, x)
        a = _reverse_cumsum(F, g * F.cumprod(x, d), d) / F.where(before, x, 1)
        b = _reverse_cumsum(F, g * F.cumprod(x1, d), d)
        part = F.where(active & before, a, F.where(active & first, b, 0))
        total = part if coef is None else total + part * coef
        active = active & ~before & ~first          # positions after the first zero
        if F is NF or not active.any():
            # the rest is multiplied by the zero x_z: only its derivatives matter, and only
            # when the backward pass is itself differentiated (F is TF)
            return total
        xz = F.sum(F.where(first, x, 0), d, True)
        coef = xz if coef is None else coef * xz
        x = x1


def _cumprod_jvp_zeros(F, t, x, d):
    """Exact JVP of cumprod when ``x`` has zeros (forward-scan mirror of the VJP)."""
    total, coef = None, None
    active = like_device(x, np.ones(tuple(x.shape), dtype=bool))
    while True:
        before, first = _zero_masks(F.data(x), d)
        x1 = F.where(first, 1, x)
        a = F.cumprod(x, d) * F.cumsum(t / F.where(before, x, 1), d)
        tz = F.sum(F.where(first, t, 0), d, True)
        b = tz * F.cumprod(x1, d)
        part = F.where(active & before, a, F.where(active, b, 0))   # b: at and after z
        total = part if coef is None else total + part * coef
        active = active & ~before                   # the first zero and after it
        if not active.any():
            return total
        xz = F.sum(F.where(first, x, 0), d, True)
        coef = xz if coef is None else coef * xz
        x, t = x1, F.where(first, 0, t)


# --- prod ----------------------------------------------------------------------------------

def _prod_fwd(x, axis, keepdim):
    return np.prod(x, axis=axis, keepdims=keepdim)


def _prod_grad_factor(F, out, x, axis, keepdim):
    """``d prod / d x`` (shape of ``x``)."""
    if not F.has_zero(x):
        if not keepdim and axis is not None:
            out = F.reshape(out, kept_shape(x.shape, (axis,)))
        return out / x
    return _prod_except(F, x, axis)


def _prod_vjp(F, g, out, x, axis, keepdim):
    if axis is None and F is NF and np.count_nonzero(x == 0) > 1:
        # PyTorch's first-order shortcut: with two zeros every product of the others is 0
        # (also next to an inf, where the partial products would give inf * 0 = nan)
        return np.zeros_like(x)
    if not keepdim and axis is not None:
        g = F.reshape(g, kept_shape(x.shape, (axis,)))
    return g * _prod_grad_factor(F, out, x, axis, keepdim)


def _prod_jvp(F, t, out, x, axis, keepdim):
    return F.sum(t[0] * _prod_grad_factor(F, out, x, axis, keepdim), axis, keepdim)


PROD = defop("prod", _prod_fwd, vjps=(_prod_vjp,), jvp=_prod_jvp, save_out=True,
             backward_name="ProdBackward0")
PROD_DIM = defop("prod_dim", _prod_fwd, vjps=(_prod_vjp,), jvp=_prod_jvp, save_out=True,
                 backward_name="ProdBackward1")


def _int_to_long(x, dtype):
    if dtype is not None:
        return x.to(dtype)
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        return wrap(x._data.astype(np.int64))
    return x


@public()
@numpy_names
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or along ``dim``.  Integer and bool tensors give int64.
    The gradient is exact when the input has zeros (no division by zero).

    >>> import chainrule as torch
    >>> x = torch.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> x.prod().backward()
    >>> x.grad
    tensor([0., 6., 0.])
    """
    x = _int_to_long(_tensorize(input) if isinstance(input, Tensor) else _floating(input),
                     dtype)
    if dim is None:
        return PROD.apply((x,), {"axis": None, "keepdim": False})
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}. "
                        f"Reduce one dim at a time, e.g. x.prod(0).prod(0).")
    d = _dim(int(dim), x._data.ndim, "prod")
    if x._data.ndim == 0:
        return PROD_DIM.apply((x,), {"axis": None, "keepdim": False})
    return PROD_DIM.apply((x,), {"axis": d, "keepdim": bool(keepdim)})


# --- cumsum / cumprod ----------------------------------------------------------------------

def _cumsum_np(x, dim):
    return copy_array(x) if x.ndim == 0 else np.cumsum(x, axis=dim)


def _cumprod_np(x, dim):
    return copy_array(x) if x.ndim == 0 else np.cumprod(x, axis=dim)


CUMSUM = defop("cumsum", _cumsum_np,
               vjps=(lambda F, g, out, x, dim: _reverse_cumsum(F, g, dim),),
               jvp=lambda F, t, out, x, dim: F.cumsum(t[0], dim), save_inputs=False)


def _cumprod_vjp(F, g, out, x, dim):
    if len(x.shape) == 0:
        return g
    if not F.has_zero(x):
        return _reverse_cumsum(F, g * out, dim) / x
    return _cumprod_vjp_zeros(F, g, x, dim)


def _cumprod_jvp(F, t, out, x, dim):
    t = t[0]
    if len(x.shape) == 0:
        return t
    if not F.has_zero(x):
        return out * F.cumsum(t / x, dim)
    return _cumprod_jvp_zeros(F, t, x, dim)


CUMPROD = defop("cumprod", _cumprod_np, vjps=(_cumprod_vjp,), jvp=_cumprod_jvp,
                save_out=True)


def _scan_args(name, input, dim, dtype):
    x = _tensorize(input) if isinstance(input, Tensor) else _floating(input)
    x = _int_to_long(x, dtype)
    return x, _dim(int(dim), x._data.ndim, name)


@public(inplace=True)
@numpy_names
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``.  Integer and bool tensors give int64.

    >>> import chainrule as torch
    >>> torch.cumsum(torch.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([1., 3., 6.])
    """
    x, d = _scan_args("cumsum", input, dim, dtype)
    return CUMSUM.apply((x,), {"dim": d})


@public(inplace=True)
@numpy_names
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim`` (exact gradient with zeros in the input).

    >>> import chainrule as torch
    >>> torch.cumprod(torch.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([1., 2., 6.])
    """
    x, d = _scan_args("cumprod", input, dim, dtype)
    return CUMPROD.apply((x,), {"dim": d})


# --- rule namespaces -------------------------------------------------------------------------

NF.cumsum = _cumsum_np
NF.cumprod = _cumprod_np
NF.has_zero = lambda x: bool((x == 0).any())
NF.data = lambda x: x
TF.cumsum = lambda x, dim: CUMSUM.apply((x,), {"dim": dim})
TF.cumprod = lambda x, dim: CUMPROD.apply((x,), {"dim": dim})
TF.has_zero = lambda x: bool((x._data == 0).any())
TF.data = lambda x: x._data
