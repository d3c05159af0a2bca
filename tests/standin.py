"""A test-only second array backend: ``StandIn``, an array type that is not a
``numpy.ndarray`` and refuses implicit conversion to one, as CuPy's ``cupy.ndarray`` does.

It holds a NumPy array and implements NumPy's protocols (``__array_ufunc__``,
``__array_function__``) by unwrapping its inputs, calling NumPy and wrapping the results,
so ``np.exp(a)`` on a stand-in array gives a stand-in array, as on CuPy.  What CuPy refuses,
it refuses too: ``np.asarray(a)`` / ``np.array(a)`` raise TypeError (CuPy's message), and a
NumPy array mixed into a stand-in computation raises TypeError.  An op that silently falls
back to the host therefore fails on it.

``standin_backend()`` is the ``_backend.Backend`` the tests register as ``"cuda"``
(see the ``cuda_standin`` fixture in ``tests/test_backend_standin.py``).
"""
import numpy as np

from chainrule import _backend

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
             "construct a NumPy array explicitly.")


def _host_error(x):
    return TypeError(f"Unsupported type {type(x)} (a NumPy array mixed into a stand-in "
                     f"device computation: the op fell back to the host)")


def _unwrap(x):
    """Stand-in arrays (inside lists, tuples and dicts too) -> their NumPy arrays; a NumPy
    array of any dimension is refused (CuPy refuses them)."""
    c = x.__class__
    if c is StandIn:
        return x._a
    if c is np.ndarray:
        raise _host_error(x)
    if c is tuple or c is list:
        return c(_unwrap(v) for v in x)
    if c is dict:
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _unwrap_index(x):
    """An index: stand-in arrays unwrapped; NumPy index arrays are accepted (CuPy copies
    them in), other values pass."""
    c = x.__class__
    if c is StandIn:
        return x._a
    if c is tuple:
        return tuple(_unwrap_index(v) for v in x)
    return x


def _wrap(x):
    """NumPy results -> stand-in arrays (NumPy scalars become 0-d arrays, as CuPy's
    reductions return 0-d arrays)."""
    if isinstance(x, np.ndarray):
        return StandIn(x)
    if isinstance(x, np.generic):
        return StandIn(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class StandIn(np.lib.mixins.NDArrayOperatorsMixin):
    """An array on the stand-in device: NumPy's computations, a different type."""
    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, a):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"StandIn wraps a NumPy array, not {type(a).__name__}")
        self._a = a

    # --- NumPy's protocols ------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        args = _unwrap(inputs)
        kw = _unwrap(kwargs)
        res = getattr(ufunc, method)(*args, **kw)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(res)

    def __array_function__(self, func, types, args, kwargs):
        if not all(issubclass(t, (StandIn, np.ndarray)) for t in types):
            return NotImplemented
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    # --- ndarray's attributes ---------------------------------------------------------
    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, value):             # in place, as ndarray's (and CuPy's) shape setter
        self._a.shape = value

    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: StandIn(self._a.T))
    mT = property(lambda self: StandIn(self._a.mT))
    real = property(lambda self: StandIn(self._a.real))
    imag = property(lambda self: StandIn(self._a.imag))

    @property
    def base(self):
        b = self._a.base
        return None if b is None else StandIn(b) if isinstance(b, np.ndarray) else b

    @property
    def data(self):
        return _Pointer(self._a.__array_interface__["data"][0])

    def __getattr__(self, name):
        # ndarray methods (reshape, astype, sum, transpose ...): called on the NumPy array,
        # the results wrapped; their arguments must not be NumPy arrays
        if name.startswith("__"):
            raise AttributeError(name)
        meth = getattr(self._a, name)
        if not callable(meth):
            return _wrap(meth)

        def call(*args, **kwargs):
            return _wrap(meth(*_unwrap(args), **_unwrap(kwargs)))
        return call

    def get(self):
        """A NumPy copy (CuPy's explicit device-to-host copy)."""
        return self._a.copy()

    def item(self):
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    # --- Python protocols -------------------------------------------------------------
    def __getitem__(self, idx):
        return _wrap(self._a[_unwrap_index(idx)])

    def __setitem__(self, idx, value):
        self._a[_unwrap_index(idx)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        for v in self._a:
            yield _wrap(v)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __complex__(self):
        return complex(self._a)

    def __repr__(self):
        return "standin." + repr(self._a)

    def __copy__(self):
        return StandIn(self._a.copy())

    def __deepcopy__(self, memo):
        return StandIn(self._a.copy())

    def __reduce__(self):
        return (StandIn, (self._a,))

    def __iadd__(self, other):
        np.add(self._a, _unwrap(other), out=self._a)
        return self

    def __isub__(self, other):
        np.subtract(self._a, _unwrap(other), out=self._a)
        return self

    def __imul__(self, other):
        np.multiply(self._a, _unwrap(other), out=self._a)
        return self

    def __itruediv__(self, other):
        np.true_divide(self._a, _unwrap(other), out=self._a)
        return self


class _Pointer:
    __slots__ = ("ptr",)

    def __init__(self, ptr):
        self.ptr = ptr


class _Module:
    """The stand-in's array library (``xp``): NumPy's functions, with stand-in arrays
    unwrapped on the way in and NumPy arrays wrapped on the way out.  ``asarray`` and
    ``array`` copy host data in (as ``cupy.asarray`` does)."""
    __name__ = "standin"

    def __getattr__(self, name):
        fn = getattr(np, name)
        if not callable(fn) or isinstance(fn, type):
            return fn

        def call(*args, **kwargs):
            return _wrap(fn(*_unwrap_host(args), **_unwrap_host(kwargs)))
        call.__name__ = name
        return call

    def asarray(self, a, dtype=None, order=None):
        if a.__class__ is StandIn:
            return a if dtype is None else a.astype(dtype, copy=False)
        return StandIn(np.array(a, dtype=dtype, copy=True))

    array = asarray
    ndarray = StandIn

    def asnumpy(self, a):
        return a.get() if a.__class__ is StandIn else np.asarray(a)


def _unwrap_host(x):
    """The module's functions take host data too (shapes, lists, NumPy arrays to copy)."""
    c = x.__class__
    if c is StandIn:
        return x._a
    if c is tuple or c is list:
        return c(_unwrap_host(v) for v in x)
    if c is dict:
        return {k: _unwrap_host(v) for k, v in x.items()}
    return x


xp = _Module()


class _Random:
    """A device generator: NumPy's, its draws copied in."""

    def __init__(self, seed):
        self._g = np.random.default_rng(seed)

    def __getattr__(self, name):
        fn = getattr(self._g, name)

        def call(*args, **kwargs):
            return _wrap(fn(*args, **kwargs))
        return call


def standin_backend():
    return _backend.Backend(
        "cuda", xp, StandIn, to_host=lambda a: a.get(),
        from_host=lambda a: StandIn(np.array(a, copy=True)), random=_Random,
        device_name=lambda: "chainrule stand-in device")
