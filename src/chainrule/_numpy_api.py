"""NumPy's protocols on Tensor: NumPy functions called with Tensors run chainrule ops.

``np.sin(t)``, ``np.sum(t, axis=0)``, ``np.dot(a, t)``, ``ndarray + t`` ... return Tensors
and are recorded, so NumPy code differentiates as it is when it is handed Tensors (which the
transforms of :mod:`chainrule.func` do for NumPy inputs).

* ``Tensor.__array_ufunc__`` handles NumPy's ufuncs (``np.exp``, ``np.add``, ``np.maximum``,
  ``np.matmul``, comparisons ...) through ``_UFUNCS``, and the reductions
  ``np.add.reduce``/``np.multiply.reduce``/``np.maximum.reduce``/``np.minimum.reduce``.
* ``Tensor.__array_function__`` handles NumPy's other functions (``np.sum``, ``np.mean``,
  ``np.dot``, ``np.where``, ``np.concatenate``, ``np.reshape``, ``np.einsum`` ...) through
  ``_FUNCTIONS``: each entry takes NumPy's argument names (``axis``, ``keepdims``, ``ddof``,
  ``a_min`` ...) and calls the chainrule op (``dim``, ``keepdim``, ``correction`` ...).
  ``out=`` is refused (TypeError) unless ``None``, as are other arguments chainrule has no
  equivalent for.
* A NumPy function without an entry raises TypeError naming it and the nearest chainrule
  op when any Tensor argument requires grad or carries forward-mode tangents: converting
  it to an ndarray would silently drop the gradient.  For Tensors outside any graph it runs
  NumPy on the data (the ndarray result, as before these protocols existed).

These run only when NumPy calls into a Tensor; chainrule's own ops never go through them.
"""
import difflib

import numpy as np

from ._dtypes import to_dtype
from ._tensor import Tensor, wrap

from . import _creation, _dtypes
from .ops import arithmetic as _ops_arithmetic
from .ops import comparison as _ops_comparison
from .ops import copies as _ops_copies
from .ops import decompositions as _ops_decompositions
from .ops import diagonals as _ops_diagonals
from .ops import einsum as _ops_einsum
from .ops import flip_roll as _ops_flip_roll
from .ops import index as _ops_index
from .ops import linalg_norms as _ops_linalg_norms
from .ops import matmul as _ops_matmul
from .ops import reduce as _ops_reduce
from .ops import repeat as _ops_repeat
from .ops import rounding as _ops_rounding
from .ops import scan as _ops_scan
from .ops import shape as _ops_shape
from .ops import sorting as _ops_sorting
from .ops import split as _ops_split
from .ops import stats as _ops_stats
from .ops import unary as _ops_unary

_UFUNCS = {}
_PKG = None        # the package namespace, handed over by install()
_FUNCTIONS = {}


# --- helpers -----------------------------------------------------------------------------

def _t(x):
    """A Tensor for an array-like argument (ndarrays keep their dtype; no copy)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return wrap(x)
    return wrap(np.asarray(x))


def _tn(x):
    """Tensor for arrays; Python and NumPy scalars are numbers (PyTorch's scalar
    promotion, as for ``tensor * np.float64(2)``)."""
    if isinstance(x, (Tensor, bool, int, float)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    return _t(x)


def _float(x):
    """NumPy computes means, square roots ... of integers in float64."""
    x = _t(x)
    return x if x._data.dtype.kind in "fc" else x.to(_dtypes.float64)


def _no(name, **kw):
    """Refuse NumPy arguments that chainrule has no equivalent for."""
    for k, v in kw.items():
        if v is not None:
            if k == "out":
                raise TypeError(f"numpy.{name} on chainrule Tensors: out= is not supported "
                                f"(chainrule ops make new Tensors); drop it and use the "
                                f"returned Tensor")
            raise TypeError(f"numpy.{name} on chainrule Tensors: the argument {k}={v!r} is "
                            f"not supported; call it without {k}= or use chainrule's ops")


def _common(*xs):
    """Tensors of one dtype, NumPy's promotion (PyTorch's products need equal dtypes)."""
    ts = [_t(x) for x in xs]
    dt = np.result_type(*[t._data.dtype for t in ts])
    return [t if t._data.dtype == dt else t.to(to_dtype(dt)) for t in ts]


def _dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _dtype(t, dtype):
    return t if dtype is None else t.to(to_dtype(np.dtype(dtype)))


def _ufunc(*ufuncs):
    def deco(fn):
        for u in ufuncs:
            _UFUNCS[u] = fn
        return fn
    return deco


def _implements(*funcs):
    def deco(fn):
        for f in funcs:
            _FUNCTIONS[f] = fn
        return fn
    return deco


# --- ufuncs ------------------------------------------------------------------------------

def _unary(fn, floating=False):
    return lambda x: fn(_float(x) if floating else _t(x))


def _binary(fn, reflected=None):
    """A binary ufunc.  ``ndarray + tensor`` / ``np.float64(2) * tensor`` end here (NumPy
    asks the Tensor): as in PyTorch they run the Tensor's reflected operator, so the node's
    inputs come in PyTorch's order."""
    def call(a, b):
        if not isinstance(a, Tensor):
            if reflected is not None and isinstance(b, Tensor):
                return getattr(b, reflected)(_tn(a))
            if not isinstance(b, Tensor):
                a = _t(a)
        return fn(_tn(a), _tn(b))
    return call


for _np_name, _reflected in [("add", "__radd__"), ("subtract", "__rsub__"),
                             ("multiply", "__rmul__"), ("divide", "__rtruediv__"),
                             ("power", "__rpow__")]:
    _UFUNCS[getattr(np, _np_name)] = _binary(getattr(Tensor, _reflected[:2] + _reflected[3:]),
                                             _reflected)

def _binary_tensors(fn):
    """A binary ufunc whose chainrule op wants two Tensors: a Python/NumPy scalar becomes
    a 0-d Tensor of the other operand's dtype (NumPy's weak scalars)."""
    def call(a, b):
        if not isinstance(a, Tensor) and np.ndim(a) == 0 and isinstance(b, Tensor):
            a = wrap(np.asarray(a, dtype=np.result_type(b._data.dtype, a)))
        elif not isinstance(b, Tensor) and np.ndim(b) == 0 and isinstance(a, Tensor):
            b = wrap(np.asarray(b, dtype=np.result_type(a._data.dtype, b)))
        return fn(*_common(a, b)) if a.__class__ is not b.__class__ or \
            a._data.dtype != b._data.dtype else fn(a, b)
    return call




@_ufunc(np.matmul)
def _matmul(a, b):
    return _ops_matmul.matmul(*_common(a, b))


@_ufunc(np.positive, np.conjugate)
def _positive(x):
    return _t(x)


@_ufunc(np.floor_divide)
def _floor_divide(a, b):
    return _binary(lambda a, b: _ops_arithmetic.div(a, b, rounding_mode="floor"))(a, b)


@_ufunc(np.remainder)
def _remainder(a, b):
    a = _t(a) if not isinstance(b, Tensor) else a
    return _binary(lambda a, b: a - _ops_arithmetic.div(a, b, rounding_mode="floor") * b)(a, b)


@_ufunc(np.logaddexp)
def _logaddexp(a, b):
    a, b = _float(a), _float(b)
    m = _ops_comparison.maximum(a, b)
    return m + _ops_unary.log1p(_ops_unary.exp(-_ops_unary.abs(a - b)))


_ACCUMULATE = {np.add: _ops_scan.cumsum, np.multiply: _ops_scan.cumprod}
_REDUCE = {np.add: "sum", np.multiply: "prod", np.maximum: "amax", np.minimum: "amin",
           np.logical_and: "all", np.logical_or: "any"}


def _ufunc_reduce(ufunc, x, axis=0, dtype=None, out=None, keepdims=False, initial=None,
                  where=None):
    name = _REDUCE[ufunc]
    _no(f"{ufunc.__name__}.reduce", out=out, initial=initial, where=where)
    x = _dtype(_t(x), dtype)
    if name == "prod":
        return _prod(x, axis, keepdims=keepdims)
    return getattr(_PKG, name)(x, _dims(axis, x.ndim), keepdims)


@_ufunc(np.hypot)
def _hypot(a, b):
    a, b = _common(_float(a), _float(b))
    return _ops_unary.sqrt(a * a + b * b)


@_ufunc(np.cbrt)
def _cbrt(x):
    x = _float(x)
    return _ops_unary.sign(x) * _ops_unary.abs(x) ** (1.0 / 3.0)


@_ufunc(np.deg2rad, np.radians)
def _deg2rad(x):
    return _float(x) * (np.pi / 180.0)


@_ufunc(np.rad2deg, np.degrees)
def _rad2deg(x):
    return _float(x) * (180.0 / np.pi)


@_ufunc(np.fmod)
def _fmod(a, b):
    a = _t(a) if not isinstance(b, Tensor) else a
    return _binary(lambda a, b: a - _ops_rounding.trunc(a / b) * b)(a, b)


@_ufunc(np.logaddexp2)
def _logaddexp2(a, b):
    ln2 = np.log(2.0)
    return _logaddexp(_float(a) * ln2, _float(b) * ln2) / ln2


@_ufunc(np.float_power)
def _float_power(a, b):
    a = _float(a).to(_dtypes.float64) if isinstance(a, Tensor) or np.ndim(a) else a
    b = _float(b).to(_dtypes.float64) if isinstance(b, Tensor) or np.ndim(b) else b
    return _binary(lambda a, b: _ops_arithmetic.pow(a, b))(a, b)


# --- reductions --------------------------------------------------------------------------

@_implements(np.sum)
def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no("sum", out=out, initial=initial, where=where)
    a = _t(a)
    if axis is None and not keepdims:
        return _ops_reduce.sum(a, dtype=None if dtype is None else to_dtype(np.dtype(dtype)))
    return _ops_reduce.sum(_dtype(a, dtype), _dims(axis, a.ndim), keepdims)


@_implements(np.mean)
def _mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    _no("mean", out=out, where=where)
    a = _float(_dtype(_t(a), dtype))
    return _ops_reduce.mean(a, _dims(axis, a.ndim), keepdims)


@_implements(np.prod)
def _prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no("prod", out=out, initial=initial, where=where)
    a = _dtype(_t(a), dtype)
    if axis is None:
        r = _ops_scan.prod(a.reshape(-1))
        return r.reshape((1,) * a.ndim) if keepdims else r
    n = max(a.ndim, 1)
    for d in sorted({d % n for d in ((axis,) if isinstance(axis, int) else axis)},
                    reverse=True):
        a = _ops_scan.prod(a, d, keepdims)
    return a


@_implements(np.max, np.amax)
def _max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    _no("max", out=out, initial=initial, where=where)
    a = _t(a)
    return _ops_stats.amax(a, _dims(axis, a.ndim), keepdims)


@_implements(np.min, np.amin)
def _min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    _no("min", out=out, initial=initial, where=where)
    a = _t(a)
    return _ops_stats.amin(a, _dims(axis, a.ndim), keepdims)


def _arg(fn, name):
    def call(a, axis=None, out=None, *, keepdims=False):
        _no(name, out=out)
        return fn(_t(a), axis, keepdims)
    return call


_FUNCTIONS[np.argmax] = _arg(_ops_reduce.argmax, "argmax")
_FUNCTIONS[np.argmin] = _arg(_ops_reduce.argmin, "argmin")


def _logical(fn, name):
    def call(a, axis=None, out=None, keepdims=False, *, where=None):
        _no(name, out=out, where=where)
        a = _t(a)
        if axis is None:
            r = fn(a)
            return r.reshape((1,) * a.ndim) if keepdims else r
        return fn(a, axis, keepdims)
    return call


_FUNCTIONS[np.all] = _logical(_ops_reduce.all, "all")
_FUNCTIONS[np.any] = _logical(_ops_reduce.any, "any")


def _scan(fn, name):
    def call(a, axis=None, dtype=None, out=None):
        _no(name, out=out)
        a = _dtype(_t(a), dtype)
        if axis is None:
            a, axis = a.reshape(-1), 0
        return fn(a, axis)
    return call


_FUNCTIONS[np.cumsum] = _scan(_ops_scan.cumsum, "cumsum")
_FUNCTIONS[np.cumprod] = _scan(_ops_scan.cumprod, "cumprod")


def _moment(fn, name):
    def call(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
             mean=None, correction=None):
        _no(name, out=out, where=where, mean=mean)
        a = _float(_dtype(_t(a), dtype))
        return fn(a, _dims(axis, a.ndim), correction=ddof if correction is None else correction,
                  keepdim=keepdims)
    return call


_FUNCTIONS[np.std] = _moment(_ops_stats.std, "std")
_FUNCTIONS[np.var] = _moment(_ops_stats.var, "var")


@_implements(np.ptp)
def _ptp(a, axis=None, out=None, keepdims=False):
    return _max(a, axis, out, keepdims) - _min(a, axis, out, keepdims)


@_implements(np.average)
def _average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    _no("average", returned=returned or None)
    if weights is None:
        return _mean(a, axis, keepdims=keepdims)
    a, w = _common(_float(a), _float(weights))
    if w.ndim != a.ndim:                       # 1-D weights along axis, as NumPy
        shape = [1] * a.ndim
        shape[axis] = -1
        w = w.reshape(shape)
    return _sum(a * w, axis, keepdims=keepdims) / _sum(w * _creation.ones_like(a), axis,
                                                      keepdims=keepdims)


@_implements(np.diff)
def _diff(a, n=1, axis=-1, prepend=None, append=None):
    a = _t(a)
    if prepend is not None or append is not None:
        parts = [a]
        for v, first in ((prepend, True), (append, False)):
            if v is not None:
                v = _t(v)
                if v.ndim == 0:
                    shape = list(a.shape)
                    shape[axis] = 1
                    v = _ops_reduce.broadcast_to(v, tuple(shape))
                parts.insert(0, v) if first else parts.append(v)
        a = _ops_shape.cat(_common(*parts), axis)
    for _ in range(n):
        k = a.shape[axis]
        a = _ops_split.narrow(a, axis, 1, k - 1) - _ops_split.narrow(a, axis, 0, k - 1)
    return a


@_implements(np.trace)
def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _no("trace", out=out)
    return _ops_diagonals.diagonal(_dtype(_t(a), dtype), offset, axis1, axis2).sum(-1)


# --- products ----------------------------------------------------------------------------

@_implements(np.dot)
def _dot(a, b, out=None):
    _no("dot", out=out)
    a, b = _common(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 or b.ndim <= 2:
        return _ops_matmul.matmul(a, b)
    return _ops_einsum.tensordot(a, b, dims=([-1], [-2]))


@_implements(np.vdot)
def _vdot(a, b):
    a, b = _common(a, b)
    return _ops_matmul.dot(a.reshape(-1), b.reshape(-1))


@_implements(np.inner)
def _inner(a, b):
    a, b = _common(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return _ops_einsum.tensordot(a, b, dims=([-1], [-1]))


@_implements(np.outer)
def _outer(a, b, out=None):
    _no("outer", out=out)
    a, b = _common(a, b)
    return _ops_einsum.outer(a.reshape(-1), b.reshape(-1))


@_implements(np.tensordot)
def _tensordot(a, b, axes=2):
    return _ops_einsum.tensordot(*_common(a, b), dims=axes)


@_implements(np.einsum)
def _einsum(subscripts, *operands, out=None, optimize=False, dtype=None, order="K",
            casting="safe"):
    _no("einsum", out=out, dtype=dtype)
    return _ops_einsum.einsum(subscripts, *_common(*operands))


# --- selection ---------------------------------------------------------------------------

@_implements(np.where)
def _where(condition, x=None, y=None):
    if x is None and y is None:
        return tuple(wrap(i) for i in np.nonzero(_data(condition)))
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    c = _t(condition)
    if c._data.dtype != np.bool_:
        c = c != 0
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = _t(x)
    return _ops_comparison.where(c, _tn(x), _tn(y))


@_implements(np.clip)
def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):
    _no("clip", out=out, **{k: v for k, v in kwargs.items()})
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    lo = lo if lo is None or isinstance(lo, (int, float)) else _t(lo)
    hi = hi if hi is None or isinstance(hi, (int, float)) else _t(hi)
    return _ops_comparison.clamp(_t(a), lo, hi)


@_implements(np.sort)
def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    _no("sort", order=order)
    a = _t(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    return _ops_sorting.sort(a, axis, stable=bool(stable)).values


@_implements(np.argsort)
def _argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    _no("argsort", order=order)
    a = _t(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    return _ops_sorting.argsort(a, axis, stable=bool(stable) or kind == "stable")


@_implements(np.take)
def _take(a, indices, axis=None, out=None, mode="raise"):
    _no("take", out=out)
    a, idx = _t(a), _t(np.asarray(_data(indices)))
    if axis is None:
        return _ops_index.take(a, idx)
    return _ops_index.index_select(a, axis, idx.reshape(-1)).reshape(
        a.shape[:axis % a.ndim] + tuple(idx.shape) + a.shape[axis % a.ndim + 1:])


@_implements(np.take_along_axis)
def _take_along_axis(arr, indices, axis):
    return _ops_index.take_along_dim(_t(arr), _t(np.asarray(_data(indices))), axis)


@_implements(np.diag)
def _diag(v, k=0):
    return _ops_diagonals.diag(_t(v), k)


@_implements(np.diagonal)
def _diagonal(a, offset=0, axis1=0, axis2=1):
    return _ops_diagonals.diagonal(_t(a), offset, axis1, axis2)


@_implements(np.triu)
def _triu(m, k=0):
    return _ops_diagonals.triu(_t(m), k)


@_implements(np.tril)
def _tril(m, k=0):
    return _ops_diagonals.tril(_t(m), k)


# --- shape -------------------------------------------------------------------------------

def _order(name, order):
    if order not in ("C", "K", "A", None):
        raise TypeError(f"numpy.{name} on chainrule Tensors: order={order!r} is not supported "
                        f"(Tensors are in C order); call it without order=")


@_implements(np.reshape)
def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    _order("reshape", order)
    return _t(a).reshape(newshape if shape is None else shape)


@_implements(np.ravel)
def _ravel(a, order="C"):
    _order("ravel", order)
    return _t(a).reshape(-1)


@_implements(np.transpose)
def _transpose(a, axes=None):
    a = _t(a)
    return a.permute(*(tuple(range(a.ndim))[::-1] if axes is None else axes))


@_implements(np.swapaxes)
def _swapaxes(a, axis1, axis2):
    return _ops_shape.transpose(_t(a), axis1, axis2)


@_implements(np.moveaxis)
def _moveaxis(a, source, destination):
    return _ops_shape.movedim(_t(a), source, destination)


@_implements(np.expand_dims)
def _expand_dims(a, axis):
    a = _t(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = a.ndim + len(axes)
    for d in sorted(x % n for x in axes):
        a = a.unsqueeze(d)
    return a


@_implements(np.squeeze)
def _squeeze(a, axis=None):
    a = _t(a)
    if axis is None:
        return a.squeeze()
    for d in sorted(((axis,) if isinstance(axis, int) else axis),
                    key=lambda d: d % a.ndim, reverse=True):
        if a.shape[d] != 1:
            raise ValueError("cannot select an axis to squeeze out which has size not equal "
                             "to one")
        a = a.squeeze(d)
    return a


@_implements(np.broadcast_to)
def _broadcast_to(array, shape, subok=False):
    return _ops_reduce.broadcast_to(_t(array), (shape,) if isinstance(shape, int) else tuple(shape))


def _atleast(n):
    def call(*arys):
        out = []
        for a in arys:
            a = _t(a)
            if a.ndim < n:
                shape = {1: (1,), 2: (1, 1), 3: (1, 1, 1)}[n]
                if n == 2 or a.ndim == 0:
                    shape = shape[:n - a.ndim] + a.shape
                elif n == 3:
                    shape = (1,) + a.shape + (1,) if a.ndim == 1 else a.shape + (1,)
                a = a.reshape(shape)
            out.append(a)
        return out[0] if len(out) == 1 else tuple(out)
    return call


_FUNCTIONS[np.atleast_1d] = _atleast(1)
_FUNCTIONS[np.atleast_2d] = _atleast(2)
_FUNCTIONS[np.atleast_3d] = _atleast(3)


def _seq(arrays):
    return _common(*arrays)


@_implements(np.concatenate)
def _concatenate(arrays, axis=0, out=None, *, dtype=None, casting=None):
    _no("concatenate", out=out, dtype=dtype)
    arrays = _seq(arrays)
    if axis is None:
        arrays, axis = [a.reshape(-1) for a in arrays], 0
    return _ops_shape.cat(arrays, axis)


@_implements(np.stack)
def _stack(arrays, axis=0, out=None, *, dtype=None, casting=None):
    _no("stack", out=out, dtype=dtype)
    return _ops_shape.stack(_seq(arrays), axis)


@_implements(np.vstack, np.row_stack) if hasattr(np, "row_stack") else _implements(np.vstack)
def _vstack(tup, *, dtype=None, casting=None):
    _no("vstack", dtype=dtype)
    return _ops_shape.cat(_atleast_list(2, tup), 0)


def _atleast_list(n, tup):
    r = _atleast(n)(*_seq(tup))
    return list(r) if isinstance(r, tuple) else [r]


@_implements(np.hstack)
def _hstack(tup, *, dtype=None, casting=None):
    _no("hstack", dtype=dtype)
    arrs = _atleast_list(1, tup)
    return _ops_shape.cat(arrs, 0 if arrs[0].ndim == 1 else 1)


@_implements(np.column_stack)
def _column_stack(tup):
    arrs = [a.reshape(-1, 1) if a.ndim < 2 else a for a in _seq(tup)]
    return _ops_shape.cat(arrs, 1)


@_implements(np.append)
def _append(arr, values, axis=None):
    arr, values = _common(arr, values)
    if axis is None:
        return _ops_shape.cat([arr.reshape(-1), values.reshape(-1)], 0)
    return _ops_shape.cat([arr, values], axis)


def _split(name, default_axis, min_dim=1):
    def call(ary, indices_or_sections, axis=None):
        a = _t(ary)
        ax = default_axis if axis is None else axis
        if name in ("hsplit",) and a.ndim == 1:
            ax = 0
        if name == "split" and isinstance(indices_or_sections, int) and \
                a.shape[ax] % indices_or_sections:
            raise ValueError("array split does not result in an equal division")
        ios = indices_or_sections
        ios = ios if isinstance(ios, int) else list(ios)
        return list(_ops_split.tensor_split(a, ios, ax))
    return call


_FUNCTIONS[np.split] = _split("split", 0)
_FUNCTIONS[np.array_split] = _split("array_split", 0)
_FUNCTIONS[np.hsplit] = lambda ary, ios: _split("hsplit", 1)(ary, ios)
_FUNCTIONS[np.vsplit] = lambda ary, ios: _split("split", 0)(ary, ios)
_FUNCTIONS[np.dsplit] = lambda ary, ios: _split("split", 2)(ary, ios)


@_implements(np.copy)
def _copy(a, order="K", subok=False):
    return _ops_copies.clone(_t(a))


@_implements(np.round, np.around)
def _round(a, decimals=0, out=None):
    _no("round", out=out)
    return _ops_rounding.round(_t(a), decimals=decimals)


@_implements(np.meshgrid)
def _meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    _no("meshgrid", sparse=sparse or None)
    return tuple(_ops_repeat.meshgrid(*_common(*xi), indexing=indexing))


@_implements(np.tile)
def _tile(A, reps):
    return _ops_repeat.tile(_t(A), (reps,) if isinstance(reps, int) else tuple(reps))


@_implements(np.flip)
def _flip(m, axis=None):
    m = _t(m)
    axes = tuple(range(m.ndim)) if axis is None else \
        ((axis,) if isinstance(axis, int) else tuple(axis))
    return _ops_flip_roll.flip(m, axes)


@_implements(np.fliplr)
def _fliplr(m):
    return _ops_flip_roll.fliplr(_t(m))


@_implements(np.flipud)
def _flipud(m):
    return _ops_flip_roll.flipud(_t(m))


@_implements(np.roll)
def _roll(a, shift, axis=None):
    return _ops_flip_roll.roll(_t(a), shift, axis)


# --- linear algebra ----------------------------------------------------------------------

_FUNCTIONS[np.linalg.inv] = lambda a: _ops_decompositions.inv(_t(a))
_FUNCTIONS[np.linalg.det] = lambda a: _ops_decompositions.det(_t(a))
_FUNCTIONS[np.linalg.eigh] = lambda a, UPLO="L": _ops_decompositions.eigh(_t(a), UPLO)
_FUNCTIONS[np.linalg.eigvalsh] = lambda a, UPLO="L": _ops_decompositions.eigvalsh(_t(a), UPLO)


@_implements(np.linalg.solve)
def _solve(a, b):
    a, b = _common(a, b)
    if b.ndim == 1:
        return _ops_decompositions.solve(a, b.unsqueeze(-1)).squeeze(-1)
    return _ops_decompositions.solve(a, b)


@_implements(np.linalg.norm)
def _norm(x, ord=None, axis=None, keepdims=False):
    return _ops_linalg_norms.linalg_norm(_float(x), ord, axis, keepdims)


# --- values that carry no gradient -------------------------------------------------------

def _data(x):
    return x._data if isinstance(x, Tensor) else x


_FUNCTIONS[np.shape] = lambda a: tuple(np.shape(_data(a)))
_FUNCTIONS[np.ndim] = lambda a: np.ndim(_data(a))
_FUNCTIONS[np.size] = lambda a, axis=None: np.size(_data(a), axis)


def _like(fn):
    def call(a, *args, dtype=None, **kwargs):
        r = fn(_data(a), *args, dtype=dtype, **kwargs)
        return wrap(np.asarray(r))
    return call


for _f in (np.zeros_like, np.ones_like, np.empty_like, np.full_like):
    _FUNCTIONS[_f] = _like(_f)


def _on_data(fn):
    return lambda *args, **kwargs: fn(*[_data(a) for a in args],
                                      **{k: _data(v) for k, v in kwargs.items()})


for _f in (np.isclose, np.allclose, np.array_equal, np.nonzero, np.count_nonzero,
           np.argwhere, np.flatnonzero, np.result_type):
    _FUNCTIONS[_f] = _on_data(_f)


# --- the protocols -----------------------------------------------------------------------

def _leaves(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _leaves(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _leaves(o, out)
    return out


def _strip(obj):
    if isinstance(obj, Tensor):
        return obj._data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_strip(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items()}
    return obj


# nearest chainrule op for NumPy names that differ (shown in the "no rule" error)
_HINTS = {"maximum.accumulate": "none", "minimum.accumulate": "none", "fmax": "maximum",
          "fmin": "minimum", "heaviside": "where", "repeat": "tile (or indexing)",
          "median": "sort and indexing",
          "linspace": "chainrule.linspace", "cross": "none", "kron": "einsum",
          "interp": "none", "convolve": "none", "correlate": "none",
          "sinc": "sin(pi * x) / (pi * x)"}


def _public_names():
    return [n for n in dir(_PKG) if not n.startswith("_") and callable(getattr(_PKG, n))]


def _no_rule(name):
    short = name.rsplit(".", 1)[-1]
    if name.endswith(".outer"):             # ufunc.outer: broadcasting does it
        near = "the nearest chainrule form is broadcasting, e.g. x[:, None] * y[None, :]"
    elif name in _HINTS or short in _HINTS:
        hint = _HINTS.get(name, _HINTS.get(short))
        near = "there is none" if hint == "none" else f"the nearest chainrule op is {hint}"
    elif hasattr(_PKG, short):
        near = f"use chainrule.{short} instead"
    else:
        close = difflib.get_close_matches(short, _public_names(), n=1)
        near = f"the nearest chainrule op is chainrule.{close[0]}" if close else \
            "chainrule has no such op"
    return TypeError(f"numpy.{name} has no differentiation rule in chainrule, and one of its "
                     f"arguments is a Tensor that requires grad (or carries forward-mode "
                     f"tangents), so converting it to an ndarray would drop the gradient; "
                     f"{near}.  Write it with chainrule ops, or pass tensor.detach() to "
                     f"leave it out of the gradient.")


def _needs_grad(tensors):
    return any(t._rg or t._fw for t in tensors)


def _func_name(func):
    mod = getattr(func, "__module__", None) or "numpy"
    name = getattr(func, "__name__", repr(func))
    return name if mod == "numpy" or not mod.startswith("numpy.") else f"{mod[6:]}.{name}"


def _array_function(self, func, types, args, kwargs):
    impl = _FUNCTIONS.get(func)
    if impl is not None:
        return impl(*args, **kwargs)
    if _needs_grad(_leaves((args, kwargs), [])):
        raise _no_rule(_func_name(func))
    return func(*_strip(args), **_strip(kwargs))       # no graph to lose: NumPy on the data


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    out = kwargs.pop("out", None)
    if out is not None and all(o is None for o in out):
        out = None
    if method == "__call__" and out is None and not kwargs:
        impl = _UFUNCS.get(ufunc)
        if impl is not None:
            return impl(*inputs)
    elif method == "reduce" and out is None and ufunc in _REDUCE:
        return _ufunc_reduce(ufunc, *inputs, **kwargs)
    elif method == "accumulate" and out is None and ufunc in _ACCUMULATE:
        x, axis = inputs[0], kwargs.pop("axis", inputs[1] if len(inputs) > 1 else 0)
        _no(f"{ufunc.__name__}.accumulate", **kwargs)
        return _ACCUMULATE[ufunc](_t(x), axis)
    tensors = _leaves((inputs, kwargs, out), [])
    name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
    if _needs_grad(tensors):
        if out is not None and ufunc in _UFUNCS:
            raise TypeError(f"numpy.{name} on chainrule Tensors: out= is not supported "
                            f"(chainrule ops make new Tensors, in-place writes into an "
                            f"ndarray would drop the gradient); use the returned Tensor")
        if ufunc in _UFUNCS and kwargs:
            raise TypeError(f"numpy.{name} on chainrule Tensors: the arguments "
                            f"{sorted(kwargs)} are not supported; call it without them")
        raise _no_rule(name)
    if out is not None:
        kwargs["out"] = _strip(out)
    return getattr(ufunc, method)(*_strip(inputs), **kwargs)


def install(package):
    """Attach NumPy's protocols to Tensor, with the ufunc tables read from ``package``'s
    namespace (called once, at the end of ``chainrule/__init__``: the tables name the
    package's public functions, so the package hands itself over instead of being
    imported from here)."""
    global _PKG
    _PKG = package
    pkg = package
    for _np_name, _cr_name, _floating in [
            ("sin", "sin", 1), ("cos", "cos", 1), ("tan", "tan", 1), ("arcsin", "asin", 1),
            ("arccos", "acos", 1), ("arctan", "atan", 1), ("sinh", "sinh", 1),
            ("cosh", "cosh", 1), ("tanh", "tanh", 1), ("arcsinh", "asinh", 1),
            ("arccosh", "acosh", 1), ("arctanh", "atanh", 1), ("exp", "exp", 1),
            ("exp2", "exp2", 1), ("expm1", "expm1", 1), ("log", "log", 1), ("log2", "log2", 1),
            ("log10", "log10", 1), ("log1p", "log1p", 1), ("sqrt", "sqrt", 1),
            ("square", "square", 0), ("reciprocal", "reciprocal", 0), ("negative", "neg", 0),
            ("absolute", "abs", 0), ("fabs", "abs", 1), ("sign", "sign", 0),
            ("floor", "floor", 0), ("ceil", "ceil", 0), ("trunc", "trunc", 0),
            ("rint", "round", 0), ("isnan", "isnan", 0), ("isinf", "isinf", 0),
            ("isfinite", "isfinite", 0), ("logical_not", "logical_not", 0),
            ("invert", "bitwise_not", 0)]:
        if hasattr(np, _np_name) and hasattr(pkg, _cr_name):
            _UFUNCS[getattr(np, _np_name)] = _unary(getattr(pkg, _cr_name), bool(_floating))

    for _np_name, _cr_name in [("maximum", "maximum"), ("minimum", "minimum"),
                               ("arctan2", "atan2")]:
        _UFUNCS[getattr(np, _np_name)] = _binary_tensors(getattr(pkg, _cr_name))

    for _np_name, _cr_name in [
            ("equal", "eq"), ("not_equal", "ne"),
            ("less", "lt"), ("less_equal", "le"), ("greater", "gt"), ("greater_equal", "ge"),
            ("logical_and", "logical_and"), ("logical_or", "logical_or"),
            ("logical_xor", "logical_xor"), ("bitwise_and", "bitwise_and"),
            ("bitwise_or", "bitwise_or"), ("bitwise_xor", "bitwise_xor")]:
        _UFUNCS[getattr(np, _np_name)] = _binary(getattr(pkg, _cr_name))
    Tensor.__array_ufunc__ = _array_ufunc
    Tensor.__array_function__ = _array_function
