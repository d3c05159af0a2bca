"""Tensor factories: ``tensor``, ``arange``, ``zeros``, ``rand`` ...  Defaults follow PyTorch:
Python floats become the default float dtype (float32), ints int64, bools bool."""
import builtins
import math
from typing import Any, Self

import numpy as np

from . import _dtypes
from ._dtypes import DEFAULTS, to_dtype
from ._backend import (CPU_BACKEND as _CPU, backend_of as _backend_of,
                       cuda_backend as _cuda_backend, device_rng as _device_rng,
                       is_device_array as _is_device_array, seed_device as _seed_device,
                       to_host as _to_host)
from ._device import check_factory_device as _check_device, device as _dev
from ._tensor import Tensor, _init_from, wrap, wrap as _w
from ._grad_mode import SHARED, notify

__all__ = ["tensor", "as_tensor", "from_numpy", "asarray", "arange", "range", "linspace",
           "logspace", "zeros", "ones", "full", "eye", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "rand", "randn", "randint", "normal", "rand_like",
           "randn_like", "randint_like", "randperm", "manual_seed", "seed", "initial_seed",
           "Generator", "default_generator", "bernoulli", "multinomial"]


def _finish(arr, requires_grad, dev=None):
    """Wrap a factory's NumPy array, copied to ``dev`` (a device backend; None: the CPU)."""
    if dev is not None and arr.__class__ is not dev.array_type:
        arr = dev.from_host(arr)
    t = wrap(arr)
    if SHARED.observed:
        notify("made", t)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_np(data, exact=False, dtype=None):
    """NumPy array for Python data, with PyTorch's dtype inference: Python floats become the
    default float dtype, ints int64, bools bool; NumPy scalars/arrays and Tensors inside the
    data keep their dtype; mixed elements promote with ``promote_types``.  ``exact=True``
    (an explicit dtype follows): keep Python floats in float64, so that
    ``tensor(0.7, dtype=float64)`` is not rounded through float32."""
    if isinstance(data, np.generic):
        _dtypes.from_np(data.dtype)
        return np.array(data)
    if isinstance(data, (list, tuple)):
        d, has_tensor = _infer_dtype(data)
        arr = np.array(_to_nested(data) if has_tensor else data)
        if arr.dtype.kind in "uO":          # uint64 or object: an int beyond int64?
            big = _big_ints(data, dtype)
            if big is not None:
                return big
        if arr.dtype.kind in "USOV":
            raise TypeError(f"tensor(): could not infer dtype of {type(_first(data)).__name__}; "
                            f"pass numbers, bools, nested lists of them, or NumPy arrays")
        if exact and arr.dtype.kind == "f":
            return arr
        return arr.astype((d or DEFAULTS.float).np, copy=False)
    if isinstance(data, builtins.bool):
        return np.array(data)
    if isinstance(data, builtins.int):
        if not _INT64_MIN <= data <= _INT64_MAX:
            return _big_ints(data, dtype)
        return np.array(data, dtype=np.int64)
    if isinstance(data, builtins.float):
        return np.array(data, dtype=np.float64 if exact else DEFAULTS.float.np)
    arr = np.array(data)               # other sequences (range, array-likes)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__}; "
                        f"pass numbers, bools, nested lists of them, or NumPy arrays")
    if arr.dtype == np.float64 and not exact:
        arr = arr.astype(DEFAULTS.float.np)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    return arr


_PY_DTYPES = {builtins.bool: _dtypes.bool, builtins.int: _dtypes.int64}


def _infer_dtype(data):
    """The promoted dtype of the elements of nested lists (``None`` if there are none), and
    whether a Tensor is among them."""
    result = None
    has_tensor = False
    for x in _flat(data):
        d = _PY_DTYPES.get(x.__class__)
        if d is None:
            if isinstance(x, builtins.float):
                d = DEFAULTS.float
            elif isinstance(x, Tensor):
                d = x.dtype
                has_tensor = True
            elif isinstance(x, (np.ndarray, np.generic)):
                d = _dtypes.from_np(x.dtype)
            elif isinstance(x, builtins.bool):
                d = _dtypes.bool
            elif isinstance(x, builtins.int):
                d = _dtypes.int64
            else:
                raise TypeError(f"tensor(): could not infer dtype of {type(x).__name__}; "
                                f"pass numbers, bools, nested lists of them, or NumPy arrays")
        result = d if result is None or result is d else _dtypes.promote_types(result, d)
    return result, has_tensor


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _first(data):
    for x in _flat(data if isinstance(data, (list, tuple)) else [data]):
        if not isinstance(x, (int, float, bool)):
            return x
    return data


def _to_nested(x):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (list, tuple)):
        return [_to_nested(y) for y in x]
    return x


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (number, nested list, NumPy array or Tensor).

    >>> import chainrule as torch
    >>> torch.tensor([1.0, 2.0])
    tensor([1., 2.])
    >>> torch.tensor([1, 2]).dtype, torch.tensor(True).dtype
    (torch.int64, torch.bool)
    """
    dev = _check_device(device)
    if _is_device_array(data):                  # a device array (rules' constants)
        data = wrap(data)
    if isinstance(data, Tensor):
        src = data._data
        if src.__class__ is not np.ndarray:
            if device is None and dev is None:
                dev = _backend_of(src)          # torch.tensor(t) keeps t's device
            if dev is not None and src.__class__ is dev.array_type:
                src = src.copy()
                return _finish(src if dtype is None else
                               src.astype(to_dtype(dtype).np, copy=False), requires_grad)
            src = _to_host(src)
        arr = np.array(src, copy=True)
    elif isinstance(data, np.ndarray):
        arr = np.array(data, copy=True)
        if arr.dtype not in _dtypes._FROM_NP:
            _dtypes.from_np(arr.dtype)
    else:
        arr = _infer_np(data, exact=dtype is not None, dtype=dtype)
        if dtype is not None and arr.dtype.kind in "fiub":
            _check_fits(arr, to_dtype(dtype).np)
            if arr.dtype.kind == "i" and to_dtype(dtype).np.kind == "u":
                arr = arr.astype(np.int64).astype(to_dtype(dtype).np)
    if dtype is not None:
        arr = arr.astype(to_dtype(dtype).np, copy=False)
    if SHARED.observed and isinstance(data, (Tensor, np.ndarray)):
        notify("copied", data._data if isinstance(data, Tensor) else data, arr)
    return _finish(arr, requires_grad, dev)


_INT64_MIN, _INT64_MAX = -0x8000000000000000, 0x7FFFFFFFFFFFFFFF


def _big_ints(data, dtype):
    """Python data holding ints beyond int64: with a floating ``dtype`` (or beside Python
    floats) they become floats, as in PyTorch; otherwise PyTorch's ValueError.  ``None``:
    no such int (uint64/object for another reason: inferred as usual)."""
    items = [data] if data.__class__ is builtins.int else \
        [x for x in _flat(data) if x.__class__ is builtins.int]
    big = next((x for x in items if not _INT64_MIN <= x <= _INT64_MAX), None)
    if big is None:
        return None
    d = to_dtype(dtype) if dtype is not None else None
    if d is None:
        d, _ = _infer_dtype(data if isinstance(data, (list, tuple)) else [data])
    if d is None or not d.is_floating_point:
        raise ValueError(f"tensor(): Overflow when unpacking long long: the Python int {big} "
                         f"does not fit in int64. Pass dtype=torch.float64, or use a float.")
    return np.array(_to_nested(data) if isinstance(data, (list, tuple)) else data,
                    dtype=np.float64 if dtype is not None else d.np)


def _check_fits(arr, np_dtype, name="tensor()"):
    """PyTorch refuses Python values out of an integer dtype's range (and nan/inf) at
    construction: RuntimeError."""
    if np_dtype.kind not in "iu" or arr.size == 0 or arr.dtype == np_dtype:
        return
    info = np.iinfo(np_dtype)
    # (an unsigned dtype also takes -max..-1, wrapped, as PyTorch's overflow check does)
    lo, hi = (-info.max, info.max) if np_dtype.kind == "u" else (info.min, info.max)
    with np.errstate(invalid="ignore"):
        bad = not (np.all(np.isfinite(arr)) if arr.dtype.kind == "f" else True) or \
            arr.min() < lo or arr.max() > hi
    if bad:
        raise RuntimeError(f"{name}: value cannot be converted to type {np_dtype.name} without "
                           f"overflow: the data holds values outside [{info.min}, {info.max}] "
                           f"(or nan/inf). Pick a wider dtype, or clamp the values first.")


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when the dtype
    already matches.

    >>> import chainrule as torch
    >>> torch.as_tensor([1, 2]), torch.as_tensor([1.5], dtype=torch.float64)
    (tensor([1, 2]), tensor([1.5000], dtype=torch.float64))
    """
    dev = _check_device(device)
    if isinstance(data, Tensor):
        if device is not None:
            data = data.to(device)
        return data if dtype is None or data.dtype is to_dtype(dtype) else data.to(dtype)
    if dev is None and isinstance(data, np.ndarray) and (
            dtype is None or data.dtype == to_dtype(dtype).np):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray`` (changes to one show in the other).

    >>> import chainrule as torch, numpy as np
    >>> a = np.zeros(2); t = torch.from_numpy(a); a[0] = 5; t
    tensor([5., 0.], dtype=torch.float64)
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtypes.from_np(ndarray.dtype)
    return wrap(ndarray)


def _check_like(device, input):
    """``device=`` of a ``*_like`` factory: the backend to copy the result to (None: the
    CPU); no ``device`` means ``input``'s device, not the default device."""
    if device is not None:
        return _check_device(device)
    b = _backend_of(input._data)
    return None if b is _CPU else b


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if len(size) == 1 and isinstance(size[0], Tensor):
        size = tuple(size[0].tolist())
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size must be a sequence of ints, but got an element of type "
                            f"{type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _shape(args, size):
    """Sizes given as varargs, one tuple/list, or the ``size=`` keyword (``randn(size=())``)."""
    if size is not None:
        if args:
            raise TypeError("pass the sizes either positionally or as size=, not both")
        return _size((size,))
    return _size(args)


def _float_dtype(dtype):
    return (to_dtype(dtype) if dtype is not None else DEFAULTS.float).np


def _random_float_dtype(dtype, name):
    d = _float_dtype(dtype)
    if d.kind != "f":
        raise NotImplementedError(f"{name}: random floats cannot be drawn with dtype "
                                  f"{_dtypes.from_np(d)}; pass a floating dtype (or use "
                                  f"randint for integers)")
    return d


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of zeros; ``size`` as varargs or a tuple.

    >>> import chainrule as torch
    >>> torch.zeros(2, 3).shape
    torch.Size([2, 3])
    """
    dev = _check_device(device)
    return _finish(np.zeros(_shape(shape, size), _float_dtype(dtype)), requires_grad, dev)


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of ones.

    >>> import chainrule as torch
    >>> torch.ones(2, 3)
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    >>> torch.ones(2, dtype=torch.int64)
    tensor([1, 1])
    """
    dev = _check_device(device)
    return _finish(np.ones(_shape(shape, size), _float_dtype(dtype)), requires_grad, dev)


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False, out=None, memory_format=None):
    """An uninitialised tensor (chainrule fills it with zeros).

    >>> import chainrule as torch
    >>> torch.empty(2, 3).shape
    torch.Size([2, 3])
    """
    dev = _check_device(device)
    return _finish(np.zeros(_shape(shape, size), _float_dtype(dtype)), requires_grad, dev)


def _scalar_dtype(value):
    if isinstance(value, bool):
        return np.dtype(np.bool_)
    if isinstance(value, (int, np.integer)):
        return np.dtype(np.int64)
    return DEFAULTS.float.np


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it).

    >>> import chainrule as torch
    >>> torch.full((2,), 7)
    tensor([7, 7])
    """
    dev = _check_device(device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    d = to_dtype(dtype).np if dtype is not None else _scalar_dtype(fill_value)
    if isinstance(fill_value, builtins.int) and not isinstance(fill_value, builtins.bool) and \
            not _INT64_MIN <= fill_value <= _INT64_MAX:
        if fill_value > 0xFFFFFFFFFFFFFFFF or fill_value < _INT64_MIN:
            raise OverflowError(f"full(): int too big to convert: {fill_value} fits neither "
                                f"int64 nor uint64. Use a float fill value.")
        if d.kind != "f":
            raise RuntimeError(f"full(): value cannot be converted to type {d.name} without "
                               f"overflow ({fill_value}). Use a float dtype or a smaller value.")
    elif isinstance(fill_value, (builtins.int, builtins.float)) and d.kind in "iu":
        _check_fits(np.array(fill_value), d, "full()")
        if d.kind == "u" and fill_value < 0:
            fill_value = int(np.array(fill_value).astype(np.int64).astype(d))
    return _finish(np.full(_size((size,) if isinstance(size, int) else (size,)), fill_value, d),
                   requires_grad, dev)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The identity matrix (``n`` x ``m``).

    >>> import chainrule as torch
    >>> torch.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    >>> torch.eye(2, 3)
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    dev = _check_device(device)
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, dev)


def _like(x, dtype):
    return to_dtype(dtype).np if dtype is not None else x._data.dtype


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with the shape and dtype of ``input``.

    >>> import chainrule as torch
    >>> torch.zeros_like(torch.tensor([[1, 2], [3, 4]]))
    tensor([[0, 0],
            [0, 0]])
    """
    dev = _check_like(device, input)
    return _finish(np.zeros(input._data.shape, _like(input, dtype)), requires_grad, dev)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Ones with the shape and dtype of ``input``.

    >>> import chainrule as torch
    >>> torch.ones_like(torch.zeros(2))
    tensor([1., 1.])
    """
    dev = _check_like(device, input)
    return _finish(np.ones(input._data.shape, _like(input, dtype)), requires_grad, dev)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    """An uninitialised tensor of ``input``'s shape and dtype (chainrule fills it with zeros).

    >>> import chainrule as torch
    >>> torch.empty_like(torch.tensor([1, 2, 3])).shape
    torch.Size([3])
    """
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    """``fill_value`` with the shape and dtype of ``input``.

    >>> import chainrule as torch
    >>> torch.full_like(torch.tensor([1.0, 2.0]), 7)
    tensor([7., 7.])
    """
    dev = _check_like(device, input)
    return _finish(np.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad, dev)


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) in steps of ``step``; integer arguments
    give int64, any float argument the default float dtype.

    >>> import chainrule as torch
    >>> torch.arange(4.0)
    tensor([0., 1., 2., 3.])
    """
    dev = _check_device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is not None:
        d = to_dtype(dtype).np
    elif builtins.all(isinstance(v, (int, np.integer)) for v in vals):
        d = np.dtype(np.int64)
    else:
        d = DEFAULTS.float.np
    n = builtins.max(0, math.ceil((end - start) / step))
    arr = (start + step * np.arange(n, dtype=np.float64 if d.kind == "f" else np.int64))
    return _finish(arr.astype(d), requires_grad, dev)


def range(start=0, end=None, step=1, *, dtype=None, device=None,   # noqa: A001
          requires_grad=False):
    """Deprecated in PyTorch: like arange but includes ``end``; floats by default."""
    dev = _check_device(device)
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    arr = start + step * np.arange(n, dtype=np.float64)
    return _finish(arr.astype(_float_dtype(dtype)), requires_grad, dev)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    >>> import chainrule as torch
    >>> torch.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    dev = _check_device(device)
    steps = int(steps)
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    d = _float_dtype(dtype)
    work = d.type if d.kind == "f" else np.float64
    # PyTorch's formula, in the output's precision: the first half counts up from start,
    # the second half down from end, so both endpoints are exact
    start, end = work(start), work(end)
    i = np.arange(steps, dtype=work)
    step = (end - start) / work(steps - 1) if steps > 1 else work(0)
    vals = np.where(i < steps // 2, start + i * step, end - (work(steps - 1) - i) * step)
    if steps == 1:
        vals[0] = start
    if d.kind in "iu":
        vals = np.trunc(vals)
    return _finish(vals.astype(d), requires_grad, dev)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None,
             requires_grad=False):
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in the
    exponent.

    >>> import chainrule as torch
    >>> torch.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    >>> torch.logspace(0, 3, 4, base=2)
    tensor([1., 2., 4., 8.])
    """
    dev = _check_device(device)
    return _finish(np.logspace(float(start), float(end), int(steps), base=base)
                   .astype(_float_dtype(dtype)), requires_grad, dev)


# --- random numbers -------------------------------------------------------------------
# chainrule's generator is NumPy's PCG64: seeded runs repeat exactly, but the numbers
# differ from PyTorch's (its Mersenne Twister / Philox streams are not reproduced).


class Generator:
    """A random-number generator (``manual_seed`` re-seeds it).

    >>> import chainrule as torch
    >>> g = torch.Generator().manual_seed(0)
    >>> torch.rand(2, generator=g).shape
    torch.Size([2])
    """

    def __init__(self, device: Any = "cpu") -> None:
        d = _dev(device)
        if d.type == "cuda" and _cuda_backend() is not None:
            # a CUDA generator: its draws are made on the host and copied to the GPU
            self.device = _dev("cuda", 0)
        elif d.type != "cpu":
            raise RuntimeError(f"Cannot get {d.type.upper()} generator: no GPU is available "
                               f"to chainrule (it needs CuPy and a CUDA GPU); use "
                               f"torch.Generator() or torch.Generator('cpu')")
        else:
            self.device = _dev("cpu")
        self._seed = 67280421310721
        self._gen = None

    @property
    def _rng(self):
        # made on first use, so ``import chainrule`` does not load numpy.random
        if SHARED.observed:
            notify("random", self)
        if self._gen is None:
            self._gen = np.random.default_rng(self._seed)
        return self._gen

    def manual_seed(self, seed: builtins.int) -> Self:
        self._seed = int(seed)
        self._gen = None
        return self

    def initial_seed(self) -> builtins.int:
        return self._seed

    def seed(self) -> builtins.int:
        import secrets
        return self.manual_seed(secrets.randbits(63))._seed

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor (JSON text of NumPy's PCG64 state; no
        pickle), for ``set_state``.

        >>> import chainrule as torch
        >>> g = torch.Generator().manual_seed(1)
        >>> s = g.get_state(); a = torch.rand(2, generator=g)
        >>> bool((g.set_state(s) is g) and (torch.rand(2, generator=g) == a).all())
        True
        """
        import json
        text = json.dumps(self._rng.bit_generator.state).encode("ascii")
        return _w(np.frombuffer(text, dtype=np.uint8).copy())

    def set_state(self, new_state: Tensor) -> Self:
        """Restore a state from ``get_state``.  The state is parsed as JSON and checked,
        never unpickled: a state that is not one of ours raises ``RuntimeError``."""
        import json
        if not isinstance(new_state, Tensor) or new_state.dtype.name != "uint8":
            found = (f"a tensor of dtype {new_state.dtype}" if isinstance(new_state, Tensor)
                     else type(new_state).__name__)
            raise TypeError(f"Generator.set_state: expected a torch.ByteTensor (uint8 tensor "
                            f"from Generator.get_state()), but got {found}")
        why = None
        try:
            state = json.loads(np.ascontiguousarray(new_state._data).tobytes().decode("ascii"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            state, why = None, "it is not the JSON text that get_state() writes"
        if why is None:
            ok = (isinstance(state, dict) and state.get("bit_generator") == "PCG64"
                  and isinstance(state.get("state"), dict)
                  and all(type(state["state"].get(k)) is int for k in ("state", "inc"))
                  and type(state.get("has_uint32")) is int
                  and type(state.get("uinteger")) is int)
            if not ok:
                why = "it does not describe a PCG64 state"
        if why is None:
            try:
                self._rng.bit_generator.state = state
            except (TypeError, ValueError, OverflowError) as e:
                why = f"NumPy refused it ({e})"
        if why is not None:
            raise RuntimeError(f"Generator.set_state: the state tensor ({new_state.numel()} "
                               f"bytes) is not a chainrule generator state: {why}. Pass a "
                               f"tensor returned by Generator.get_state() (PyTorch's states "
                               f"are not interchangeable with chainrule's).")
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed chainrule's default random generator; returns it.

    >>> import chainrule as torch
    >>> _ = torch.manual_seed(0); a = torch.rand(2)
    >>> _ = torch.manual_seed(0); bool((a == torch.rand(2)).all())
    True
    """
    _seed_device(seed)                  # PyTorch seeds every device's generator
    return default_generator.manual_seed(seed)


def seed():
    """Seed the default generator from the operating system's entropy; returns the seed.

    >>> import chainrule as torch
    >>> s = torch.seed(); s == torch.initial_seed()
    True
    """
    return default_generator.seed()


def initial_seed():
    """The seed the default generator was last seeded with.

    >>> import chainrule as torch
    >>> _ = torch.manual_seed(7); torch.initial_seed()
    7
    """
    return default_generator.initial_seed()


def _rng(generator):
    return (generator or default_generator)._rng


def _uniform_on(like, shape):
    """Uniform [0, 1) draws of ``shape`` on the device of array ``like``: from the default
    generator on the CPU, from the device's generator on a GPU (dropout masks)."""
    if like.__class__ is np.ndarray:
        return default_generator._rng.random(shape)
    b = _backend_of(like)
    u = _device_rng(b).random(shape)
    return u if u.__class__ is b.array_type else b.from_host(u)


def rand(*shape, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform random numbers in [0, 1).

    >>> import chainrule as torch
    >>> _ = torch.manual_seed(0); x = torch.rand(2, 3)
    >>> x.shape, bool(((x >= 0) & (x < 1)).all())
    (torch.Size([2, 3]), True)
    """
    dev = _check_device(device)
    rng = _rng(generator) if dev is None or generator is not None else _device_rng(dev)
    arr = rng.random(_shape(shape, size)).astype(_random_float_dtype(dtype, "rand"))
    return _finish(arr, requires_grad, dev)


def randn(*shape, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal random numbers.

    >>> import chainrule as torch
    >>> _ = torch.manual_seed(0); torch.randn(1000).mean().abs() < 0.1
    tensor(True)
    >>> torch.randn(2, 3, dtype=torch.float64).dtype
    torch.float64
    """
    dev = _check_device(device)
    rng = _rng(generator) if dev is None or generator is not None else _device_rng(dev)
    arr = rng.standard_normal(_shape(shape, size)).astype(_random_float_dtype(dtype, "randn"))
    return _finish(arr, requires_grad, dev)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Random integers in ``[low, high)``; ``randint(high, size)`` also works.

    >>> import chainrule as torch
    >>> torch.randint(0, 10, (3,)).dtype
    torch.int64
    """
    dev = _check_device(device)
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint() needs high and size, e.g. torch.randint(0, 10, (3,))")
    d = to_dtype(dtype).np if dtype is not None else np.dtype(np.int64)
    if low >= high:
        raise RuntimeError(f"randint: expected low < high, but got low={low} >= high={high}. "
                           f"The range is [low, high): e.g. torch.randint(0, 10, (3,)).")
    arr = _rng(generator).integers(low, high, _size((size,) if isinstance(size, int) else (size,)))
    return _finish(arr.astype(d), requires_grad, dev)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal random numbers with the given ``mean`` and ``std`` (numbers or tensors).

    >>> import chainrule as torch
    >>> torch.normal(0, 1, size=(2, 3)).shape
    torch.Size([2, 3])
    """
    dev = _check_device(device)
    for t in (mean, std):
        if isinstance(t, Tensor) and t._data.__class__ is not np.ndarray and device is None:
            dev = _backend_of(t._data)          # a device tensor's mean/std: that device
    m = _to_host(mean._data) if isinstance(mean, Tensor) else mean
    s = _to_host(std._data) if isinstance(std, Tensor) else std
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
    if isinstance(size, int):
        size = (size,)
    d = _float_dtype(dtype)
    if isinstance(mean, Tensor):
        d = mean._data.dtype
    elif isinstance(std, Tensor):
        d = std._data.dtype
    arr = _rng(generator).normal(m, s, tuple(size)).astype(d)
    return _finish(arr, requires_grad, dev)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    """Uniform random numbers in [0, 1) of ``input``'s shape and dtype.

    >>> import chainrule as torch
    >>> torch.rand_like(torch.zeros(2, 2, dtype=torch.float64)).dtype
    torch.float64
    """
    dev = _check_like(device, input)
    rng = _rng(None) if dev is None else _device_rng(dev)
    return _finish(rng.random(input._data.shape).astype(_like(input, dtype)), requires_grad,
                   dev)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    """Standard normal random numbers of ``input``'s shape and dtype.

    >>> import chainrule as torch
    >>> torch.randn_like(torch.zeros(3, 1)).shape
    torch.Size([3, 1])
    """
    dev = _check_like(device, input)
    rng = _rng(None) if dev is None else _device_rng(dev)
    return _finish(rng.standard_normal(input._data.shape).astype(_like(input, dtype)),
                   requires_grad, dev)


def randint_like(input, low=0, high=None, *, dtype=None, device=None):
    """Random integers in [``low``, ``high``) of ``input``'s shape (and dtype unless ``dtype``
    is given); with one bound it is ``high``.

    >>> import chainrule as torch
    >>> x = torch.randint_like(torch.zeros(4, dtype=torch.int64), 3)
    >>> x.dtype, bool(((x >= 0) & (x < 3)).all())
    (torch.int64, True)
    """
    dev = _check_like(device, input)
    if high is None:
        low, high = 0, low
    return _finish(_rng(None).integers(low, high, input._data.shape).astype(_like(input, dtype)),
                   False, dev)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of ``0 .. n-1`` (int64).

    >>> import chainrule as torch
    >>> _ = torch.manual_seed(0); torch.randperm(5).sort().values
    tensor([0, 1, 2, 3, 4])
    """
    dev = _check_device(device)
    d = to_dtype(dtype).np if dtype is not None else np.dtype(np.int64)
    return _finish(_rng(generator).permutation(n).astype(d), requires_grad, dev)


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples with probabilities ``input``.

    >>> import chainrule as torch
    >>> torch.bernoulli(torch.tensor([0.0, 1.0, 1.0, 0.0]))
    tensor([0., 1., 1., 0.])
    """
    data = input._data
    if data.__class__ is not np.ndarray:        # on a device: drawn there
        rng = _device_rng(_backend_of(data)) if generator is None else _rng(generator)
        u = rng.random(data.shape)
        if u.__class__ is np.ndarray:
            u = _backend_of(data).from_host(u)
        return wrap((u < (data if p is None else p)).astype(data.dtype))
    probs = data if p is None else np.full(data.shape, p)
    return wrap((_rng(generator).random(data.shape) < probs).astype(data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Draw ``num_samples`` indices per row with probabilities proportional to ``input`` (a 1-D
    or 2-D tensor of non-negative weights); without replacement unless ``replacement=True``.

    >>> import chainrule as torch
    >>> torch.multinomial(torch.tensor([0.0, 0.0, 1.0]), 2, replacement=True)
    tensor([2, 2])
    >>> torch.multinomial(torch.tensor([1.0, 0.0, 1.0]), 2).sort().values
    tensor([0, 2])
    """
    data = _to_host(input._data)                # drawn on the host, copied back
    dev = None if data is input._data else _backend_of(input._data)
    p = data / data.sum(-1, keepdims=True)
    rng = _rng(generator)
    if p.ndim == 1:
        return _finish(rng.choice(p.shape[0], num_samples, replace=replacement, p=p)
                       .astype(np.int64), False, dev)
    return _finish(np.stack([rng.choice(p.shape[1], num_samples, replace=replacement, p=row)
                             for row in p]).astype(np.int64), False, dev)


def _tensor_init(self, data=None, *args, **kwargs):
    """``Tensor(data)`` is ``tensor(data)`` with the default float dtype; ``Tensor(2, 3)``
    (sizes) an uninitialised tensor of that shape, as in PyTorch."""
    if data is None:
        t = empty(0)
    elif isinstance(data, (list, tuple, np.ndarray, Tensor)) or args:
        if args or isinstance(data, int) and not isinstance(data, bool):
            t = empty(data, *args)
        else:
            t = tensor(data, dtype=_dtypes.DEFAULTS.float)
    else:
        t = empty(data)
    _init_from(self, t._data, None)


Tensor.__init__ = _tensor_init      # (the constructor is written with the factories)
