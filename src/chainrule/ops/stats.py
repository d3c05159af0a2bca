"""Statistics: ``var``/``std`` (with ``correction``/``unbiased``), ``amax``/``amin`` and
``median``.

* ``var = sum((x - mean)^2) / max(N - correction, 0)``; VJP ``g * 2 (x - mean) / (N - c)``.
  The mean is recomputed inside the rule with ``F.mean``, so second derivatives are exact.
* ``std = sqrt(var)``; at zero variance the gradient is 0 (PyTorch masks ``g / std``
  where ``std == 0``), not NaN.
* ``amax``/``amin``: the gradient is split evenly among all elements equal to the extreme
  of their slice (PyTorch's choice; ``max(dim)`` instead picks one index).
"""
import collections
import warnings

import numpy as np

from .._backend import as_array, zeros_as
from .._tensor import Tensor, wrap
from ._core import defop, public
from ._args import _floating, _tensorize
from .reduce import (_aliases, _count, _dim, _mean_np, _return_types_repr, _select_fwd,
                     _select_jvp, _select_vjp, kept_shape, mean, norm_dims)
from ._numpy_names import numpy_names
from .._creation import tensor


def _keep(F, y, x, dims, keepdim):
    """A reduced value brought back to ``x``'s rank (size-1 reduced dims)."""
    return y if keepdim else F.reshape(y, kept_shape(x.shape, dims))


# --- var / std -----------------------------------------------------------------------------

def _var_np(x, dims, keepdim, divisor):
    d = x - _mean_np(x, dims, True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(d * d, axis=dims, keepdims=keepdim) / x.dtype.type(divisor)


def _std_np(x, dims, keepdim, divisor):
    return np.sqrt(_var_np(x, dims, keepdim, divisor))


def _two_over(divisor):
    return 2.0 / divisor if divisor else float("inf")


def _var_vjp(F, g, out, x, dims, keepdim, divisor):
    centred = x - F.mean(x, dims, True)
    return _keep(F, g, x, dims, keepdim) * _two_over(divisor) * centred


def _var_jvp(F, t, out, x, dims, keepdim, divisor):
    centred = x - F.mean(x, dims, True)
    return F.sum(t[0] * centred, dims, keepdim) * _two_over(divisor)


def _masked_half_over(F, g, out):
    # g / (2 std), and 0 where std == 0 (PyTorch's choice at zero variance)
    zero = out == 0
    return F.where(zero, 0, g / (2 * F.where(zero, 1, out)))


def _std_vjp(F, g, out, x, dims, keepdim, divisor):
    return _var_vjp(F, _masked_half_over(F, g, out), None, x, dims, keepdim, divisor)


def _std_jvp(F, t, out, x, dims, keepdim, divisor):
    return _masked_half_over(F, _var_jvp(F, t, out, x, dims, keepdim, divisor), out)


VAR = defop("var", _var_np, vjps=(_var_vjp,), jvp=_var_jvp)
STD = defop("std", _std_np, vjps=(_std_vjp,), jvp=_std_jvp, save_out=True)


def _var_args(name, input, dim, unbiased, keepdim, correction):
    x = _tensorize(input)
    if not isinstance(x, Tensor):
        x = _floating(x)
    if isinstance(dim, bool):                   # var(x, unbiased)
        if unbiased is not None:
            raise TypeError(f"{name}(): got two values for 'unbiased'")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments: pass either "
                        f"unbiased= or correction=, not both (unbiased=True is correction=1).")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}(): std and var only support floating point and complex "
                           f"dtypes, got {x.dtype}. Convert first, e.g. x.float().{name}().")
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    dims = norm_dims(name, dim, x._data.ndim)
    n = _count(x._data.shape, dims)
    divisor = n - correction
    if divisor <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                      f"less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
        divisor = 0
    return x, {"dims": dims, "keepdim": bool(keepdim), "divisor": divisor}


@public()
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """Variance over all elements or over ``dim`` (int or tuple), divided by
    ``N - correction`` (``correction=1`` by default: Bessel's correction; ``unbiased=False``
    means ``correction=0``).  Needs a floating tensor.

    >>> import chainrule as torch
    >>> torch.var(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor(1.6667)
    >>> torch.tensor([1.0, 2.0, 3.0, 4.0]).var(correction=0)
    tensor(1.2500)
    """
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    x, params = _var_args("var", input, dim, unbiased, keepdim, correction)
    return VAR.apply((x,), params)


@public()
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """Standard deviation (square root of ``var``; same arguments).  At zero variance the
    gradient is 0, as in PyTorch.

    >>> import chainrule as torch
    >>> torch.std(torch.tensor([[1.0, 3.0], [2.0, 2.0]]), dim=1)
    tensor([1.4142, 0.0000])
    """
    dim, keepdim = _aliases(dim, keepdim, axis, keepdims)
    x, params = _var_args("std", input, dim, unbiased, keepdim, correction)
    return STD.apply((x,), params)


@public(method=False)
@numpy_names
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over the same dims.

    >>> import chainrule as torch
    >>> torch.var_mean(torch.tensor([1.0, 3.0]))
    (tensor(2.), tensor(2.))
    """
    v = var(input, dim, unbiased, keepdim, correction=correction)
    d = None if isinstance(dim, bool) else dim
    return v, mean(input, d, keepdim)


@public(method=False)
@numpy_names
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over the same dims.

    >>> import chainrule as torch
    >>> torch.std_mean(torch.tensor([1.0, 3.0]))
    (tensor(1.4142), tensor(2.))
    """
    s = std(input, dim, unbiased, keepdim, correction=correction)
    d = None if isinstance(dim, bool) else dim
    return s, mean(input, d, keepdim)


# --- amax / amin ---------------------------------------------------------------------------

def _ext_mask_count(F, out, x, dims, keepdim):
    """Where ``x`` equals its slice's extreme, and how many such elements each slice has."""
    mask = x == _keep(F, out, x, dims, keepdim)
    count = F.sum(F.where(mask, F.ones_like(x), 0), dims, True)
    return mask, count


def _ext_vjp(F, g, out, x, dims, keepdim):
    mask, count = _ext_mask_count(F, out, x, dims, keepdim)
    # PyTorch's (g / count) * mask: a slice whose extreme is nan has count 0, and every
    # element of it gets inf * 0 = nan
    q = _keep(F, g, x, dims, keepdim) / count
    return F.where(mask, q, q * 0)


def _ext_jvp(F, t, out, x, dims, keepdim):
    mask, count = _ext_mask_count(F, out, x, dims, keepdim)
    return F.sum(F.where(mask, t[0], 0) / count, dims, keepdim)


AMAX = defop("amax", lambda x, dims, keepdim: np.max(x, axis=dims, keepdims=keepdim),
             vjps=(_ext_vjp,), jvp=_ext_jvp, save_out=True)
AMIN = defop("amin", lambda x, dims, keepdim: np.min(x, axis=dims, keepdims=keepdim),
             vjps=(_ext_vjp,), jvp=_ext_jvp, save_out=True)


def _amax_amin(name, op, input, dim, keepdim):
    x = _tensorize(input)
    if not isinstance(x, Tensor):
        x = _floating(x)
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        dims = None
    else:
        dims = norm_dims(name, dim, x._data.ndim)
    if x._data.size == 0:
        empty = [i for i, s in enumerate(x._data.shape) if s == 0 and (dims is None or i in dims)]
        if dims is None:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0. Specify the reduction dim with the 'dim' "
                               f"argument (reducing over an empty dim has no {name[1:]}imum).")
        if empty:       # PyTorch's IndexError for a given dim of size 0
            raise IndexError(f"{name}(): Expected reduction dim {empty[0]} to have non-zero "
                             f"size (the input's shape is {list(x._data.shape)}; an empty dim "
                             f"has no {name[1:]}imum). Reduce over non-empty dims only.")
    return op.apply((x,), {"dims": dims, "keepdim": bool(keepdim)})


@public()
@numpy_names
def amax(input, dim=(), keepdim=False):
    """Largest value over ``dim`` (int or tuple; all dims by default).  The gradient is
    split evenly among tied maxima.

    >>> import chainrule as torch
    >>> x = torch.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> x.amax().backward()
    >>> x.grad
    tensor([0.0000, 0.5000, 0.5000])
    """
    return _amax_amin("amax", AMAX, input, dim, keepdim)


@public()
@numpy_names
def amin(input, dim=(), keepdim=False):
    """Smallest value over ``dim`` (int or tuple; all dims by default); ties split the
    gradient evenly.

    >>> import chainrule as torch
    >>> torch.amin(torch.tensor([[1.0, 3.0], [0.0, 2.0]]), dim=1)
    tensor([1., 0.])
    """
    return _amax_amin("amin", AMIN, input, dim, keepdim)



# --- median ----------------------------------------------------------------------------------
# The lower median (element (n - 1) // 2 of the sorted values), as PyTorch; a nan anywhere in
# the reduced values makes the median nan.  median(x): the gradient is split evenly among the
# elements equal to the median (PyTorch's evenly_distribute_backward); median(x, dim): the
# gradient goes to the returned index (the max(dim) machinery, reduce._select_*).

def _median_all_np(x):
    f = x.ravel()
    if f.size == 0:
        return np.full_like(x, np.nan, shape=())
    if f.dtype.kind == "f" and np.isnan(f).any():
        return np.full_like(x, np.nan, shape=())
    k = (f.size - 1) // 2
    return as_array(np.partition(f, k)[k])


def _median_mask(F, out, x):
    return (x == out) | ((x != x) & (out != out))


def _median_all_vjp(F, g, out, x):
    mask = _median_mask(F, out, x)
    return F.where(mask, g / F.count_true(mask), 0)


def _median_all_jvp(F, t, out, x):
    # PyTorch's evenly_read_jvp: the plain x == out mask (a nan median gives 0 / 0 = nan, as
    # max's forward mode), and 0 for an empty input
    if 0 in tuple(x.shape):
        return F.zeros_like(out)
    mask = x == out
    return F.sum(F.where(mask, t[0], 0), None, False) / F.count_true(mask)


MEDIAN_ALL = defop("median", _median_all_np, vjps=(_median_all_vjp,), jvp=_median_all_jvp,
                   save_out=True)
MEDIAN_DIM = defop("median_dim", _select_fwd, vjps=(_select_vjp,), jvp=_select_jvp,
                   backward_name="MedianBackward1", reads=((),))

MedianResult = collections.namedtuple("median", ["values", "indices"])
MedianResult.__repr__ = _return_types_repr


def _median_index(data, d):
    """Index along ``d`` of each slice's lower median (its first nan if it has one)."""
    k = (data.shape[d] - 1) // 2
    order = np.argsort(data, axis=d, kind="stable")
    idx = np.take(order, [k], axis=d)
    if data.dtype.kind == "f":
        isn = np.isnan(data)
        has = isn.any(axis=d, keepdims=True)
        if has.any():
            idx = np.where(has, isn.argmax(axis=d, keepdims=True), idx)
    return idx.astype(np.int64, copy=False)


@public()
@numpy_names
def median(input, dim=None, keepdim=False):
    """``median(x)``: the lower median of all elements (nan if any is nan);
    ``median(x, dim)``: a named tuple ``(values, indices)`` of the lower median along
    ``dim``.

    >>> import chainrule as torch
    >>> torch.median(torch.tensor([3.0, 1.0, 4.0, 2.0]))
    tensor(2.)
    >>> torch.median(torch.tensor([[3.0, 1.0, 2.0], [6.0, 5.0, 4.0]]), dim=1)
    torch.return_types.median(
    values=tensor([2., 5.]),
    indices=tensor([2, 1]))
    """
    x = _tensorize(input)
    if not isinstance(x, Tensor):
        x = tensor(x)
    if dim is None:
        return MEDIAN_ALL.apply((x,))
    data = x._data
    nd = data.ndim
    d = _dim(int(dim), nd, "median")
    keepdim = bool(keepdim)
    if nd == 0:
        values = MEDIAN_DIM.apply((x,), {"idx": zeros_as(data, (), np.int64), "dim": 0,
                                          "keepdim": keepdim})
        return MedianResult(values, wrap(zeros_as(data, (), np.int64)))
    if data.shape[d] == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size. "
                         f"Reduce over a non-empty dim, or check the input's shape.")
    idx = _median_index(data, d)
    values = MEDIAN_DIM.apply((x,), {"idx": idx, "dim": d, "keepdim": keepdim})
    indices = wrap(idx.copy() if keepdim else idx.squeeze(d).copy())
    return MedianResult(values, indices)
