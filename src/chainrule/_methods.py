"""Tensor methods and operators, attached to ``Tensor`` from the op functions (the
in-place forms and ``__setitem__`` are bound by ``_inplace``, which also keeps views in
step with in-place changes).
"""
import numpy as np

from . import _dtypes
from ._dtypes import to_dtype
from ._backend import CPU_BACKEND, backend_of
from ._device import check_target, device as _device_cls, indexed_cpu
from ._tensor import Tensor, wrap
from .ops import (arithmetic as AR, comparison as CMP, copies as CP, index as I,
                  matmul as MM, rounding as RD, shape as S, unary as UN)
from .ops._core import PUBLIC
from ._inplace import inplace
from .autograd import engine as _engine
from ._printing import tensor_repr as _tensor_repr
from .ops.unary import reciprocal
from ._creation import _check_like, _size, full, tensor


# --- backward and printing (they live above the Tensor class: the engine, _printing) -----

def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the gradient of this tensor w.r.t. graph leaves, accumulating into ``.grad``.

    A non-scalar tensor needs ``gradient`` (the vector of the vector-Jacobian product).

    >>> import chainrule as torch
    >>> x = torch.arange(3.0, requires_grad=True)
    >>> (x * x).backward(torch.ones(3)); x.grad
    tensor([0., 2., 4.])
    """
    if gradient is None and inputs is None:         # (nothing to normalise)
        _engine.run_backward((self,), None, retain_graph, create_graph, accumulate=True)
    else:
        _engine.backward((self,), None if gradient is None else (gradient,), retain_graph,
                         create_graph, inputs=inputs)


def _repr(self, *, tensor_contents=None):
    return _tensor_repr(self)


Tensor.backward = backward
Tensor.__repr__ = Tensor.__str__ = _repr


# --- operators -----------------------------------------------------------------------------

def _r(fn):
    return lambda self, other: fn(other, self)


# the hot binary operators are the op functions themselves (one call less per op)
Tensor.__add__ = AR.add
# number + tensor and number * tensor: as PyTorch, the tensor is the op's first input
# (grad_fn.next_functions order); the values are the same (IEEE + and * commute)
Tensor.__radd__ = AR.add
Tensor.__sub__ = AR.sub
Tensor.__rsub__ = AR.rsub
Tensor.__mul__ = AR.mul
Tensor.__rmul__ = AR.mul
Tensor.__truediv__ = AR.div


def _rtruediv(self, other):
    # number / tensor is reciprocal(tensor) * number in PyTorch: MulBackward0, and only the
    # reciprocal (not the tensor) is saved, so changing the tensor in place later is fine
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        return AR.mul(reciprocal(self), other)
    return AR.div(other, self)


Tensor.__rtruediv__ = _rtruediv
Tensor.__floordiv__ = RD.floor_divide
Tensor.__rfloordiv__ = _r(RD.floor_divide)
Tensor.__pow__ = lambda self, other: AR.pow(self, other)
Tensor.__rpow__ = _r(AR.pow)
Tensor.__matmul__ = MM.matmul
Tensor.__rmatmul__ = _r(MM.matmul)
Tensor.__neg__ = AR.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = UN.abs
Tensor.__eq__ = lambda self, other: False if other is None else CMP.eq(self, other)
Tensor.__ne__ = lambda self, other: True if other is None else CMP.ne(self, other)
Tensor.__lt__ = CMP.lt
Tensor.__le__ = CMP.le
Tensor.__gt__ = CMP.gt
Tensor.__ge__ = CMP.ge
Tensor.__and__ = CMP.bitwise_and
Tensor.__or__ = CMP.bitwise_or
Tensor.__xor__ = CMP.bitwise_xor
Tensor.__rand__ = _r(CMP.bitwise_and)
Tensor.__ror__ = _r(CMP.bitwise_or)
Tensor.__invert__ = CMP.bitwise_not
Tensor.__hash__ = object.__hash__
Tensor.__mod__ = RD.remainder
Tensor.__rmod__ = _r(RD.remainder)
Tensor.__getitem__ = I.getitem

# --- the ops' methods: bound from their declarations (``ops._core.public``) --------------

def _bind_declared():
    """Bind every declared op as ``Tensor.<name>`` and, where declared, ``Tensor.<name>_``."""
    for p in PUBLIC:
        if p.method is True:
            method = p.fn
        elif p.method:
            method = p.method
            method.__doc__ = method.__doc__ or p.fn.__doc__
        for name in p.names:
            if p.method:
                setattr(Tensor, name, method)
            if p.inplace:
                setattr(Tensor, name + "_", inplace(name + "_", p.fn))


_bind_declared()
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_
Tensor.__ifloordiv__ = Tensor.floor_divide_
Tensor.__imod__ = Tensor.remainder_
Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self._data.ndim)))))
Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
Tensor.H = Tensor.T


# --- dtype and device conversion ---------------------------------------------------------

_TO_FORMS = ("expected one of:\n"
             " * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = "
             "False, bool copy = False, *, torch.memory_format memory_format = None)\n"
             " * (torch.dtype dtype, bool non_blocking = False, bool copy = False, *, "
             "torch.memory_format memory_format = None)\n"
             " * (Tensor tensor, bool non_blocking = False, bool copy = False, *, "
             "torch.memory_format memory_format = None)")


_TO_KEYS = frozenset(("device", "dtype", "non_blocking", "copy", "memory_format"))


def _is_dtype(a):
    return isinstance(a, (_dtypes.dtype, np.dtype)) or a is float or a is int or a is bool


def parse_to(name, args, kwargs):
    """``(device, dtype, copy)`` from the arguments of ``Tensor.to`` / ``Module.to``, in
    PyTorch's three forms: ``to(device=None, dtype=None, non_blocking=False, copy=False)``,
    ``to(dtype, non_blocking=False, copy=False)``, ``to(tensor, non_blocking=False,
    copy=False)`` (``memory_format=`` accepted and ignored)."""
    dev = kwargs.get("device")
    dtype = kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    if kwargs and not _TO_KEYS.issuperset(kwargs):
        bad = next(k for k in kwargs if k not in _TO_KEYS)
        raise TypeError(f"{name}() got an unexpected keyword argument {bad!r}")
    if not args:
        return dev, dtype, copy
    a, rest = args[0], args[1:]
    ok = True
    if isinstance(a, Tensor):
        ok = dev is None and dtype is None
        dev, dtype = a.device, a.dtype
    elif _is_dtype(a):
        ok = dev is None and dtype is None
        dtype = a
    else:
        ok = dev is None
        dev = a
        if rest:
            if rest[0] is not None and not _is_dtype(rest[0]) or dtype is not None:
                ok = False
            dtype, rest = rest[0], rest[1:]
    if len(rest) > 2 or [r for r in rest if not isinstance(r, bool)]:
        ok = False
    if not ok:
        got = [type(x).__name__ for x in args] + [f"{k}={type(v).__name__}"
                                                  for k, v in kwargs.items()]
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({', '.join(got)}), "
                        f"but {_TO_FORMS}\n(e.g. x.to('cpu'), x.to(torch.float64), "
                        f"x.to('cpu', torch.float64), x.to(other_tensor))")
    if len(rest) == 2:
        copy = rest[1]
    return dev, dtype, copy


def to(self, *args, **kwargs):
    """Convert to a dtype and/or device: ``x.to(torch.float64)``, ``x.to("cpu")``,
    ``x.to(device, dtype)``, ``x.to(other)`` (its device and dtype).  Returns ``self`` when
    nothing changes (``copy=True`` forces a copy); the gradient flows back through a cast.
    chainrule's tensors live on the CPU: a CUDA target raises PyTorch's CPU-build error.

    >>> import chainrule as torch
    >>> torch.tensor([1, 2]).to(torch.float32)
    tensor([1., 2.])
    >>> x = torch.zeros(2); x.to("cpu") is x, x.to(torch.device("cpu"), torch.float64).dtype
    (True, torch.float64)
    """
    if kwargs or len(args) != 1:
        dev, dtype, copy = parse_to("to", args, kwargs)
    else:                       # the common x.to(dtype) / x.to(device), parsed inline
        a, dev, dtype, copy = args[0], None, None, False
        if isinstance(a, (np.dtype, _dtypes.dtype)):
            dtype = a
        else:
            dev, dtype, copy = parse_to("to", args, kwargs)
    if dev is not None:
        target = check_target(dev)
        if target is not backend_of(self._data):
            self = CP.to_device(self, target)
            copy = False        # the copy to the device is the new tensor
        elif indexed_cpu(dev):
            copy = True         # 'cpu:0' is not the tensor's device('cpu'): PyTorch copies
    src = self._data.dtype
    if dtype is None:
        d = src
    elif isinstance(dtype, np.dtype):
        d = dtype
    else:                       # Python's float is float64 here, as in PyTorch
        d = np.dtype(np.float64) if dtype is float else to_dtype(dtype).np
    if d == src:
        if not copy:
            return self
        if src.kind == "f":     # a recorded copy (ToCopyBackward0), as PyTorch's
            return CP.CAST.apply((self,), {"dtype": d, "src": src})
        return wrap(self._data.copy())
    return CP.cast(self, d)


Tensor.to = to


def cpu(self, memory_format=None):
    """A copy on the CPU (recorded: the gradient is copied back); ``self`` when the tensor
    is on the CPU already, as in PyTorch.

    >>> import chainrule as torch
    >>> x = torch.zeros(2); x.cpu() is x
    True
    """
    if self._data.__class__ is np.ndarray:
        return self
    return CP.to_device(self, CPU_BACKEND)


def cuda(self, device=None, non_blocking=False, memory_format=None):
    """A copy on the CUDA GPU (``self`` when it is there already).  Without a GPU (or
    without CuPy) this raises PyTorch's CPU-build error (``AssertionError``);
    ``RuntimeError`` for a device that is not a CUDA device.

    >>> import chainrule as torch
    >>> if not torch.cuda.is_available():
    ...     try:
    ...         torch.zeros(2).cuda()
    ...     except AssertionError as e:
    ...         print(str(e).splitlines()[0])
    ... else:
    ...     print("Torch not compiled with CUDA enabled")
    Torch not compiled with CUDA enabled
    """
    if device is None:
        device = "cuda"
    else:
        device = _device_cls(device)        # an int index: the current GPU; bad strings raise
        if device.type != "cuda":
            raise RuntimeError(f"Invalid device, must be cuda device\nTensor.cuda got "
                               f"'{device}'; use .to('{device}') for other devices")
    return CP.to_device(self, check_target(device))


Tensor.cpu = cpu
Tensor.cuda = cuda


def _cast_method(name, np_dtype, doc):
    def method(self):
        return CP.cast(self, np_dtype)
    method.__name__, method.__doc__ = name, doc
    return method


Tensor.float = _cast_method("float", np.dtype(np.float32), """``self.to(torch.float32)``.

    >>> import chainrule as torch
    >>> torch.tensor([1, 2]).float()
    tensor([1., 2.])
    """)
Tensor.double = _cast_method("double", np.dtype(np.float64), """``self.to(torch.float64)``.

    >>> import chainrule as torch
    >>> torch.tensor([1, 2]).double()
    tensor([1., 2.], dtype=torch.float64)
    """)
Tensor.half = _cast_method("half", np.dtype(np.float16), """``self.to(torch.float16)``.

    >>> import chainrule as torch
    >>> torch.tensor([1, 2]).half()
    tensor([1., 2.], dtype=torch.float16)
    """)
Tensor.long = _cast_method("long", np.dtype(np.int64), """``self.to(torch.int64)``.

    >>> import chainrule as torch
    >>> torch.tensor([1.5, 2.]).long()
    tensor([1, 2])
    """)
Tensor.int = _cast_method("int", np.dtype(np.int32), """``self.to(torch.int32)`` (floats are truncated toward zero).

    >>> import chainrule as torch
    >>> torch.tensor([1.7, -1.7]).int()
    tensor([ 1, -1], dtype=torch.int32)
    """)
Tensor.short = _cast_method("short", np.dtype(np.int16), """``self.to(torch.int16)``.

    >>> import chainrule as torch
    >>> torch.tensor([1.5]).short()
    tensor([1], dtype=torch.int16)
    """)
Tensor.bool = _cast_method("bool", np.dtype(np.bool_), """``self.to(torch.bool)``.

    >>> import chainrule as torch
    >>> torch.tensor([0., 2.]).bool()
    tensor([False,  True])
    """)
Tensor.byte = _cast_method("byte", np.dtype(np.uint8), """``self.to(torch.uint8)``.

    >>> import chainrule as torch
    >>> torch.tensor([1.7, 2.]).byte()
    tensor([1, 2], dtype=torch.uint8)
    """)

_LEGACY = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
           "float16": "torch.HalfTensor", "int64": "torch.LongTensor",
           "int32": "torch.IntTensor", "int16": "torch.ShortTensor", "int8": "torch.CharTensor",
           "uint8": "torch.ByteTensor", "bool": "torch.BoolTensor"}
_FROM_LEGACY = {v: k for k, v in _LEGACY.items()}


def type_(self, dtype=None, non_blocking=False, **kwargs):
    """With no argument, the legacy type name (``'torch.FloatTensor'``); with a dtype, the
    converted tensor."""
    if dtype is None:
        name = _LEGACY[self._data.dtype.name]
        # a GPU tensor's legacy name is torch.cuda.FloatTensor & co., as in PyTorch
        return name if self._data.__class__ is np.ndarray else "torch.cuda." + name[6:]
    if isinstance(dtype, str) and dtype.startswith("torch.cuda."):
        return self.to("cuda").type("torch." + dtype[11:])
    if isinstance(dtype, str) and dtype in _FROM_LEGACY:
        dtype = _FROM_LEGACY[dtype]
    return self.to(to_dtype(dtype))


Tensor.type = type_


def type_as(self, other):
    """``self.to(other.dtype)``.

    >>> import chainrule as torch
    >>> torch.tensor([1, 2]).type_as(torch.tensor([0.5]))
    tensor([1., 2.])
    """
    return self.to(other.dtype)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    """A zero tensor of the given size with ``self``'s dtype (unless ``dtype`` is
    given); ``new_empty`` is the same.

    >>> import chainrule as torch
    >>> torch.tensor([1.], dtype=torch.float64).new_zeros(2)
    tensor([0., 0.], dtype=torch.float64)
    """
    return _new(np.zeros, self, size, dtype, device, requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of the given size with ``self``'s dtype unless ``dtype``
    is given.

    >>> import chainrule as torch
    >>> torch.tensor([1, 2]).new_ones(3)
    tensor([1, 1, 1])
    """
    return _new(np.ones, self, size, dtype, device, requires_grad)


Tensor.type_as = type_as
Tensor.new_zeros = Tensor.new_empty = new_zeros
Tensor.new_ones = new_ones


def _new(fn, self, size, dtype, device, rg):
    dev = _check_like(device, self)
    d = to_dtype(dtype).np if dtype is not None else self._data.dtype
    arr = fn(_size(size), d)
    t = wrap(arr if dev is None else dev.from_host(arr))
    return t.requires_grad_(rg) if rg else t


def _new_device(self, device):
    """The device of a ``new_*`` result: ``device``, or ``self``'s."""
    return device if device is not None else self.device


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A new tensor from ``data`` with ``self``'s dtype unless ``dtype`` is given.

    >>> import chainrule as torch
    >>> torch.tensor([1.], dtype=torch.float64).new_tensor([2, 3])
    tensor([2., 3.], dtype=torch.float64)
    """
    _check_like(device, self)
    return tensor(data, dtype=dtype or self.dtype, device=_new_device(self, device),
                  requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of the given size filled with ``fill_value``, with ``self``'s
    dtype unless ``dtype`` is given.

    >>> import chainrule as torch
    >>> torch.tensor([1, 2]).new_full((2,), 7)
    tensor([7, 7])
    """
    _check_like(device, self)
    return full(size, fill_value, dtype=dtype or self.dtype, device=_new_device(self, device),
                requires_grad=requires_grad)


Tensor.new_tensor = new_tensor
Tensor.new_full = new_full
