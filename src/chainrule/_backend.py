"""The backend seam: which array library holds a tensor's values and computes its ops,
per device.

A tensor on the CPU holds a ``numpy.ndarray``; a tensor on ``"cuda"`` holds the array
type of the CUDA backend: CuPy's ``cupy.ndarray`` when CuPy imports and sees a GPU, or an
array type registered with ``register`` (the test suite's stand-in, ``tests/standin.py``).
Op forwards and VJP rules call NumPy's functions; a backend's array implements NumPy's
protocols (``__array_ufunc__``, ``__array_function__``), so those calls run in the
backend's library.  What the protocols cannot reach -- making a new array, moving one
between host and device, random numbers -- goes through this module:

  ``array_module(a)``   the array library of ``a`` (``numpy``, or e.g. ``cupy``)
  ``zeros_as(a, shape, dtype)`` / ``asarray_as(a, x)``  new arrays on ``a``'s device
  ``to_host(a)`` / ``to_backend(a, backend)``           explicit copies
  ``as_array(x)``        an op's result as an array (NumPy scalars become 0-d arrays)

Nothing here imports CuPy until the CUDA backend is first asked for (``cuda_backend``);
op modules never import it.  The CPU path costs one class test: ``a.__class__ is
numpy.ndarray``.
"""
import numpy as np

__all__ = ["Backend", "CPU_BACKEND", "array_module", "backend_of", "cuda_backend",
           "register", "unregister", "to_host", "to_backend", "as_array", "zeros_as",
           "asarray_as", "same_device_error", "seed_device", "device_rng", "is_device_array",
           "copy_array", "ascontiguous", "dtype_of", "index_on", "like_device"]

_ndarray = np.ndarray
_asarray = np.asarray


class Backend:
    """One array library on one device type.

    ``name``: the device type (``"cpu"`` or ``"cuda"``); ``xp``: the module whose
    functions make arrays of this backend (``numpy``, ``cupy``); ``array_type``: the class
    of its arrays; ``to_host(a)`` copies an array to a NumPy array, ``from_host(a)`` copies
    a NumPy array in; ``random(seed)`` makes a generator with NumPy's ``Generator`` methods
    (``random``, ``standard_normal``, ``integers``, ``normal``, ``permutation``) whose
    results are arrays of this backend (``None``: draw on the host and copy in);
    ``device_name()`` names the device (``torch.cuda.get_device_name``);
    ``synchronize()`` waits for queued work; ``erf`` is the library's error function
    (NumPy has none; None: computed on the host).
    """

    def __init__(self, name, xp, array_type, to_host, from_host, random=None,
                 device_name=None, synchronize=None, empty_cache=None, device_count=1,
                 erf=None):
        self.name = name
        self.xp = xp
        self.array_type = array_type
        self.to_host = to_host
        self.from_host = from_host
        self.random = random
        self.device_name = device_name or (lambda: name)
        self.synchronize = synchronize or (lambda: None)
        self.empty_cache = empty_cache or (lambda: None)
        self.device_count = device_count
        self.erf = erf          # the library's erf (NumPy has none), or None: on the host

    def __repr__(self):
        return f"<chainrule backend {self.name!r}: {self.xp.__name__}>"


CPU_BACKEND = Backend("cpu", np, np.ndarray, to_host=lambda a: a, from_host=lambda a: a)

_BY_TYPE = {np.ndarray: CPU_BACKEND}    # array class -> its backend
ARRAY_TYPES = _BY_TYPE      # (read-only view for hot paths: `x.__class__ in ARRAY_TYPES`)
# the array classes of device backends alone, kept with ``_BY_TYPE`` (read-only view): empty
# while no device is in use, so a hot path asks ``DEVICE_ARRAY_TYPES and ...`` first
DEVICE_ARRAY_TYPES = {}
_CUDA = []              # [backend or None] once probed; a registered backend replaces it
_PROBED = []            # the CuPy probe's result, kept across register/unregister


def _probe_cupy():
    """CuPy's backend when ``import cupy`` works and CuPy sees at least one GPU; None
    otherwise (no CuPy, no driver, no device, a broken install)."""
    try:
        import importlib.util
        if importlib.util.find_spec("cupy") is None:
            return None
        import cupy
        n = int(cupy.cuda.runtime.getDeviceCount())
        if n <= 0:
            return None
        return _cupy_backend(cupy, n)
    except Exception:           # a broken install, no driver, no device: no GPU
        return None


def _cupy_backend(cupy, n):
    """The Backend of CuPy on a machine with ``n`` GPUs: chainrule computes on the current
    one, so it reports one device (``cuda:0``) whatever ``n`` is."""

    def device_name():
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)

    def empty_cache():
        cupy.get_default_memory_pool().free_all_blocks()

    def synchronize():
        cupy.cuda.Device().synchronize()

    try:
        from cupyx.scipy.special import erf
    except Exception:           # an install without cupyx.scipy: erf on the host
        erf = None

    return Backend("cuda", cupy, cupy.ndarray, to_host=cupy.asnumpy, from_host=cupy.asarray,
                   random=cupy.random.default_rng, device_name=device_name,
                   synchronize=synchronize, empty_cache=empty_cache, device_count=1, erf=erf)


def cuda_backend():
    """The backend of ``"cuda"`` tensors, or None when there is none (no CuPy or no GPU,
    and no registered stand-in).  CuPy is probed once, on the first call."""
    if not _CUDA:
        if not _PROBED:
            _PROBED.append(_probe_cupy())
        _CUDA.append(_PROBED[0])
        if _PROBED[0] is not None:
            _BY_TYPE[_PROBED[0].array_type] = _PROBED[0]
            DEVICE_ARRAY_TYPES[_PROBED[0].array_type] = _PROBED[0]
    return _CUDA[0]


def register(backend):
    """Make ``backend`` the ``"cuda"`` backend (the test suite registers its stand-in
    array type this way); returns the one it replaces (None if there was none), for
    ``register`` to put back."""
    old = cuda_backend()
    if old is not None:
        _BY_TYPE.pop(old.array_type, None)
        DEVICE_ARRAY_TYPES.pop(old.array_type, None)
    _CUDA[0] = backend
    if backend is not None:
        _BY_TYPE[backend.array_type] = backend
        DEVICE_ARRAY_TYPES[backend.array_type] = backend
    return old


unregister = register


# the CUDA generator: made from the seed on first use (torch.manual_seed and
# torch.cuda.manual_seed set the seed); [generator, seed, backend it was made for]
_DEVICE_RNG = [None, 67280421310721, None]


def seed_device(seed):
    """Seed the CUDA backend's random generator (made anew on its next use)."""
    _DEVICE_RNG[0] = None
    _DEVICE_RNG[1] = int(seed)


def device_rng(backend):
    """The random generator of ``backend`` (a device backend): its own generator (CuPy's
    ``cupy.random.default_rng``), or NumPy's on the host when it has none (the caller then
    copies the draws in)."""
    if _DEVICE_RNG[0] is None or _DEVICE_RNG[2] is not backend:
        make = backend.random or np.random.default_rng
        _DEVICE_RNG[0] = make(_DEVICE_RNG[1])
        _DEVICE_RNG[2] = backend
    return _DEVICE_RNG[0]


def backend_of(a):
    """The backend whose array ``a`` is (NumPy scalars and Python numbers: the CPU's)."""
    b = _BY_TYPE.get(a.__class__)
    if b is not None:
        return b
    for cls, b in _BY_TYPE.items():
        if isinstance(a, cls):
            return b
    return CPU_BACKEND


def array_module(a):
    """The array library computing on ``a``: ``numpy`` for a NumPy array (the fast path),
    the backend's module (``cupy``) otherwise.  Use it where an op makes a new array:
    ``xp = array_module(x); xp.zeros(...)``."""
    if a.__class__ is _ndarray:
        return np
    return backend_of(a).xp


def to_host(a):
    """``a`` as a NumPy array, copied from the device when it lives on one."""
    if a.__class__ is _ndarray:
        return a
    return backend_of(a).to_host(a)


def to_backend(a, backend):
    """``a`` (an array of any backend) as an array of ``backend``, copied when it moves."""
    src = backend_of(a)
    if src is backend:
        return a
    host = src.to_host(a)
    return host if backend is CPU_BACKEND else backend.from_host(host)


def copy_array(a):
    """A copy of array ``a`` on its device (a NumPy scalar becomes a 0-d array)."""
    if a.__class__ is _ndarray or a.__class__ not in _BY_TYPE:
        return np.array(a, copy=True)
    return a.copy()


def ascontiguous(a, dtype=None):
    """``np.ascontiguousarray`` on ``a``'s device (NumPy's does not dispatch)."""
    if a.__class__ is _ndarray:
        return np.ascontiguousarray(a, dtype=dtype)
    return array_module(a).ascontiguousarray(a, dtype=dtype)


def dtype_of(x):
    """The dtype of an array, NumPy scalar or Python number (as NumPy sees it)."""
    d = getattr(x, "dtype", None)
    return d if d is not None else np.asarray(x).dtype


def index_on(like, idx):
    """An index (an array or a tuple of indices) with its NumPy arrays put on the device of
    ``like``, the array it indexes; unchanged for a NumPy ``like`` (the CPU path)."""
    if like.__class__ is _ndarray:
        return idx
    b = backend_of(like)
    if b is CPU_BACKEND:
        return idx
    if idx.__class__ is tuple:
        return tuple([b.from_host(i) if i.__class__ is _ndarray else i for i in idx])
    return b.from_host(idx) if idx.__class__ is _ndarray else idx


def like_device(like, arr):
    """NumPy array ``arr`` (a constant a rule or op builds on the host: a mask, signs) on
    the device of ``like`` (an array, or a Tensor in a rule's TF mode)."""
    return index_on(getattr(like, "_data", like), arr)


def is_device_array(x):
    """Whether ``x`` is an array of a device backend (not NumPy's)."""
    return x.__class__ in _BY_TYPE and x.__class__ is not _ndarray


def as_array(x):
    """An op forward's result as an array: a backend's array unchanged, a NumPy scalar or
    Python number as a 0-d NumPy array."""
    if x.__class__ is _ndarray or x.__class__ in _BY_TYPE:
        return x
    for cls in _BY_TYPE:
        if isinstance(x, cls):
            return x
    return _asarray(x)


def zeros_as(a, shape, dtype=None):
    """Zeros of ``shape`` on ``a``'s device (``a``'s dtype unless ``dtype`` is given)."""
    return array_module(a).zeros(shape, a.dtype if dtype is None else dtype)


def asarray_as(a, x, dtype=None):
    """``x`` (a NumPy array, list or number) as an array on ``a``'s device."""
    if a.__class__ is _ndarray:
        return _asarray(x, dtype=dtype)
    b = backend_of(a)
    if b is CPU_BACKEND:
        return _asarray(x, dtype=dtype)
    if x.__class__ is b.array_type:
        return x if dtype is None else x.astype(dtype, copy=False)
    return b.from_host(_asarray(x, dtype=dtype))


def same_device_error(arrays):
    """PyTorch's error for an op given tensors on two devices, or None when ``arrays``
    (an op's inputs: arrays, numbers, other arguments) are all on one device."""
    names = []
    for a in arrays:
        if isinstance(a, (list, tuple)):
            names.extend(_device_names(a))
        else:
            names.extend(_device_names((a,)))
    seen = []
    for n in names:
        if n not in seen:
            seen.append(n)
    if len(seen) < 2:
        return None
    first, second = (seen[0], seen[1]) if seen[0] != "cpu" else (seen[1], seen[0])
    return RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                        f"two devices, {first} and {second}! Move them to one device first, "
                        f"e.g. with .to({first!r}) or .cpu().")


def _device_names(arrays):
    out = []
    for a in arrays:
        if a.__class__ is _ndarray:
            if a.ndim:              # 0-d CPU arrays may join a GPU op, as in PyTorch
                out.append("cpu")
        elif a.__class__ in _BY_TYPE:
            b = _BY_TYPE[a.__class__]
            out.append("cpu" if b is CPU_BACKEND else f"{b.name}:0")
    return out
