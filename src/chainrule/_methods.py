"""Tensor methods and operators, attached to ``Tensor`` from the op functions.

In-place forms (``add_``, ``x += y``, ``x[i] = v``) keep the tensor object and its memory,
bump its version counter, and -- when a graph is being recorded -- re-point its
``grad_fn`` at a node that computes the new value from a copy of the old one.
"""
import numpy as np

from . import _dtypes
from ._dtypes import to_dtype
from ._device import check_target
from ._tensor import Tensor, bump_version, vbox, wrap
from .autograd.grad_mode import STATE
from .ops import (activation as ACT, arithmetic as AR, comparison as CMP, copies as CP,
                  decompositions as DC, diagonals as DG, einsum as ES, flip_roll as FR,
                  index as I, linalg_norms as NRM, matmul as MM, reduce as R, repeat as RP,
                  rounding as RD, scan as SC, scatter as SCT, shape as S, sorting as SO,
                  special as SP, split as SPL, stats as ST, unary as UN)
from .ops._core import apply
from .autograd.views import _regrow, has_internal_overlap, refresh_views, restand, view_index
from .autograd import engine as _engine
from ._printing import tensor_repr as _tensor_repr
from .ops.unary import reciprocal
from ._creation import _check_like, _rng, _size, full, tensor
from .ops.scatter import masked_fill as _masked_fill
from .ops.repeat import repeat_interleave


def _method(name, fn):
    setattr(Tensor, name, fn)


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

# --- plain methods -----------------------------------------------------------------------

for _mod, _names in (
        (UN, ("exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "sign")),
        (ACT, ("sigmoid", "relu")),
        (RD, ("floor", "ceil", "trunc", "floor_divide", "remainder", "fmod")),
        (AR, ("neg", "negative", "add", "sub", "mul", "div", "true_divide", "pow")),
        (CMP, ("maximum", "minimum", "clamp", "clip", "eq", "ne", "lt", "le", "gt", "ge",
               "greater", "less", "greater_equal", "less_equal", "not_equal", "logical_and",
               "logical_or", "logical_xor", "logical_not", "bitwise_not", "isnan", "isinf",
               "isfinite", "allclose", "isclose", "equal"))):
    for _name in _names:
        _method(_name, getattr(_mod, _name))
for _name in ("sum", "mean", "max", "min", "argmax", "argmin", "all", "any", "expand",
              "expand_as", "broadcast_to", "count_nonzero"):
    _method(_name, getattr(R, _name))
for _name in ("reshape", "view", "view_as", "reshape_as", "unsqueeze", "squeeze", "flatten",
              "ravel", "permute", "transpose", "swapaxes", "swapdims", "t"):
    _method(_name, getattr(S, _name))
for _name in ("clone", "contiguous"):
    _method(_name, getattr(CP, _name))
for _name in ("matmul", "dot", "mv", "mm", "bmm", "inner"):
    _method(_name, getattr(MM, _name))
_method("norm", NRM.norm)
for _name in ("gather", "nonzero", "masked_select"):
    _method(_name, getattr(I, _name))

Tensor.where = lambda self, condition, other: CMP.where(condition, self, other)
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
    if dev is not None and check_target(dev) is not None:
        copy = True             # 'cpu:0' is not the tensor's device('cpu'): PyTorch copies
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
            return apply(CP.CAST, (self,), {"dtype": d, "src": src})
        return wrap(self._data.copy())
    return CP.cast(self, d)


Tensor.to = to
Tensor.float = lambda self: CP.cast(self, np.dtype(np.float32))
Tensor.double = lambda self: CP.cast(self, np.dtype(np.float64))
Tensor.half = lambda self: CP.cast(self, np.dtype(np.float16))
Tensor.long = lambda self: CP.cast(self, np.dtype(np.int64))
Tensor.int = lambda self: CP.cast(self, np.dtype(np.int32))
Tensor.short = lambda self: CP.cast(self, np.dtype(np.int16))
Tensor.bool = lambda self: CP.cast(self, np.dtype(np.bool_))
Tensor.byte = lambda self: CP.cast(self, np.dtype(np.uint8))

_LEGACY = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
           "float16": "torch.HalfTensor", "int64": "torch.LongTensor",
           "int32": "torch.IntTensor", "int16": "torch.ShortTensor", "int8": "torch.CharTensor",
           "uint8": "torch.ByteTensor", "bool": "torch.BoolTensor"}
_FROM_LEGACY = {v: k for k, v in _LEGACY.items()}


def type_(self, dtype=None, non_blocking=False, **kwargs):
    """With no argument, the legacy type name (``'torch.FloatTensor'``); with a dtype, the
    converted tensor."""
    if dtype is None:
        return _LEGACY[self._data.dtype.name]
    if isinstance(dtype, str) and dtype in _FROM_LEGACY:
        dtype = _FROM_LEGACY[dtype]
    return self.to(to_dtype(dtype))


Tensor.type = type_
Tensor.type_as = lambda self, other: self.to(other.dtype)
Tensor.new_zeros = lambda self, *size, dtype=None, device=None, requires_grad=False: \
    _new(np.zeros, self, size, dtype, device, requires_grad)
Tensor.new_ones = lambda self, *size, dtype=None, device=None, requires_grad=False: \
    _new(np.ones, self, size, dtype, device, requires_grad)
Tensor.new_empty = Tensor.new_zeros


def _new(fn, self, size, dtype, device, rg):
    _check_like(device)
    d = to_dtype(dtype).np if dtype is not None else self._data.dtype
    t = wrap(fn(_size(size), d))
    return t.requires_grad_(rg) if rg else t


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    _check_like(device)
    return tensor(data, dtype=dtype or self.dtype, device="cpu", requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    _check_like(device)
    return full(size, fill_value, dtype=dtype or self.dtype, device="cpu",
                requires_grad=requires_grad)


Tensor.new_tensor = new_tensor
Tensor.new_full = new_full


# --- in-place ops ----------------------------------------------------------------------

def _check_inplace(self, name, graph=False):
    if self._node is None and self._rg and STATE.enabled:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation "
            f"({name}). Wrap the update in `with torch.no_grad():` (as optimisers do) or use "
            f"the out-of-place form.")
    base = self._base
    if base is not None and STATE.enabled and (graph or base._rg):
        if base._node is None and base._rg:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place "
                f"operation ({name}). Wrap the update in `with torch.no_grad():` or use the "
                f"out-of-place form (x[i] = x[i] + v is fine on non-leaf tensors).")
        if base._rg and not self._rg:
            raise RuntimeError(
                f"{name}: a view created in no_grad mode is being modified in place with grad "
                f"mode enabled, which would hide the change from autograd. Create the view "
                f"with grad mode on, or use the out-of-place form.")
    if (base is not None or not self._data.flags.writeable) and \
            has_internal_overlap(self._data):
        # also without grad, and for expanded gradients that autograd.grad returns (as
        # torch's are): NumPy's read-only broadcast would raise ValueError
        raise RuntimeError(
            f"{name}: unsupported operation: more than one element of the written-to "
            f"tensor refers to a single memory location (an expanded tensor). Please "
            f"clone() the tensor before performing the operation.")


def _needs_graph(self, others):
    if STATE.enabled:
        if self._rg or any(isinstance(o, Tensor) and o._rg for o in others):
            return True
    if STATE.fw_level and (self._fw or any(isinstance(o, Tensor) and o._fw for o in others)):
        return True
    return False


def _shadow(self):
    """The current value of ``self`` as a separate tensor in the same place in the graph."""
    old = wrap(np.array(self._data, copy=True))
    old._node = self._node
    old._rg = self._rg
    old._fw = self._fw
    return old


def _commit(self, result, name):
    """Write ``result`` into ``self``'s memory and make ``self`` stand for it in the graph."""
    r = result._data
    if r.dtype != self._data.dtype:
        if not np.can_cast(r.dtype, self._data.dtype, "same_kind"):
            raise RuntimeError(
                f"{name}: result type {_dtypes._FROM_NP[r.dtype].name.capitalize()} can't be "
                f"cast to the desired output type "
                f"{_dtypes._FROM_NP[self._data.dtype].name.capitalize()}. Use the out-of-place "
                f"form, or convert the tensor first.")
        result = result.to(self.dtype) if result._rg else wrap(r.astype(self._data.dtype))
        r = result._data
    if r.shape != self._data.shape:
        raise RuntimeError(f"{name}: output with shape {list(self._data.shape)} doesn't match "
                           f"the broadcast shape {list(r.shape)}")
    tracked = result._node is not None or result._fw is not None
    base_before = None
    if self._base is not None and tracked:
        base_before = _shadow(self._base)     # the base's values and graph before the write
    if r is not self._data:
        self._data[...] = r
    bump_version(self)
    node = result._node
    if node is not None and node._versions is not None:
        # an op that saved its output (exp_, tanh_, sigmoid_) saved what is now ``self``:
        # a later in-place change of ``self`` must make its backward raise, as in PyTorch
        box = result._vc
        mine = vbox(self)
        node._versions = tuple([(i, mine[0], mine) if i < 0 and b is box and b is not None
                                else (i, v, b) for i, v, b in node._versions])
    if result._fw is not None:
        self._fw = result._fw
    if base_before is not None:
        _commit_view(self, result, base_before)
    elif tracked:
        if result._node is not None:
            restand(self, result._node)
        refresh_views(self)                   # views of self now read its new value


def _seed_base_tangents(base, base_before):
    """Forward mode: a dual made by ``make_dual(p, t)`` is a view of ``p`` holding the
    tangent that ``p`` lacks.  Before a view of ``p`` is changed in place, give ``p``'s old
    value that tangent, so the rest of the dual keeps its tangent (``x[0] += s`` zeroed the
    tangent of the other rows)."""
    for r in getattr(base, "_views", ()):
        v = r()
        if v is None or not v._fw or v._data.shape != base._data.shape or \
                v._data.strides != base._data.strides or \
                v._data.__array_interface__["data"][0] != base._data.__array_interface__["data"][0]:
            continue
        fw = dict(base_before._fw) if base_before._fw else {}
        for level, tan in v._fw.items():
            fw.setdefault(level, tan)
        base_before._fw = fw


def _commit_view(view, result, base_before):
    """An in-place change of a view: the base becomes ``base_before`` with the view's
    positions overwritten by ``result`` (PyTorch's CopySlices), and every view of the base,
    this one included, is re-read out of the base's new graph."""
    base = view._base
    if STATE.fw_level:
        _seed_base_tangents(base, base_before)
    if base._data.ndim == 0:
        # a view of a 0-d base is its one element: the base becomes the new value
        new_base = apply(CP.COPY, (base_before, S.reshape(result, ())))
    else:
        idx = view_index(base._data, view._data)
        new_base = apply(I.SETITEM, (base_before, result),
                         {"idx": idx, "vshape": result._data.shape})
    if new_base._node is not None:
        restand(base, new_base._node)
    if new_base._fw is not None:
        base._fw = new_base._fw
    refresh_views(base, skip=view)
    _regrow(view)

_UFUNC_INPLACE = {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply,
                  "div_": np.true_divide}


def _apply_inplace(self, name, fn, *args):
    """``fn(self, *args)`` written into ``self`` by the in-place machinery (for the
    ``inplace=True`` forms of ops defined below this module)."""
    return inplace(name, fn)(self, *args)


Tensor._apply_inplace = _apply_inplace


def inplace(name, fn):
    """An in-place method ``x.name(*args)`` from an out-of-place function ``fn(x, *args)``."""
    uf = _UFUNC_INPLACE.get(name)

    def method(self, *args, **kwargs):
        if uf is not None and len(args) == 1 and not kwargs and self._base is None \
                and not self._fw:
            # fast path (optimiser updates under no_grad): nothing to record, the other
            # operand has self's dtype and shape (or is a Python number and self is float),
            # so compute straight into self's memory -- same values as the general path
            # (neither operand carries forward-AD tangents)
            o = args[0]
            d = self._data
            if not (STATE.enabled and (self._rg or (isinstance(o, Tensor) and o._rg))):
                try:            # a read-only (expanded) self takes the checked path below
                    if o.__class__ is Tensor:
                        od = o._data
                        if od.dtype is d.dtype and od.shape == d.shape and d.dtype.kind == "f" \
                                and not o._fw:
                            uf(d, od, out=d)
                            bump_version(self)
                            return self
                    elif (o.__class__ is float or o.__class__ is int and
                          -0x8000000000000000 <= o <= 0xFFFFFFFFFFFFFFFF) and d.dtype.kind == "f":
                        uf(d, o, out=d)
                        bump_version(self)
                        return self
                except ValueError:
                    if d.flags.writeable:
                        raise
        graph = _needs_graph(self, args)
        _check_inplace(self, name, graph)
        if graph:
            result = fn(_shadow(self), *args, **kwargs)
        else:
            prev = STATE.enabled
            STATE.enabled = False
            try:
                result = fn(self, *args, **kwargs)
            finally:
                STATE.enabled = prev
        _commit(self, result, name)
        return self
    method.__name__ = name
    method.__doc__ = f"In-place version of ``{name[:-1]}`` (returns ``self``)."
    return method


for _name, _fn in (("add_", AR.add), ("sub_", AR.sub), ("mul_", AR.mul), ("div_", AR.div),
                   ("pow_", AR.pow), ("clamp_", CMP.clamp), ("clip_", CMP.clamp), ("neg_", AR.neg),
                   ("exp_", UN.exp), ("log_", UN.log), ("sin_", UN.sin), ("cos_", UN.cos),
                   ("tanh_", UN.tanh), ("sqrt_", UN.sqrt), ("sigmoid_", ACT.sigmoid),
                   ("relu_", ACT.relu), ("abs_", UN.abs), ("floor_", RD.floor),
                   ("ceil_", RD.ceil), ("sign_", UN.sign), ("floor_divide_", RD.floor_divide),
                   ("remainder_", RD.remainder), ("fmod_", RD.fmod)):
    _method(_name, inplace(_name, _fn))

Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_
Tensor.__ifloordiv__ = Tensor.floor_divide_
Tensor.__imod__ = Tensor.remainder_


def _imatmul(self, other):
    return inplace("__imatmul__", MM.matmul)(self, other)


Tensor.__imatmul__ = _imatmul


def zero_(self):
    """Fill with zeros in place (e.g. ``x.grad.zero_()`` between backward passes).

    >>> import chainrule as torch
    >>> torch.ones(2).zero_()
    tensor([0., 0.])
    """
    _own_expanded(self)
    _check_inplace(self, "zero_")
    if _needs_graph(self, ()):
        _commit(self, apply(CP.ZERO, (_shadow(self),)), "zero_")
        return self
    self._data.fill(0)
    bump_version(self)
    return self


def _own_expanded(self):
    """Give an expanded tensor that is no view of another (e.g. an ``autograd.grad``
    result) memory of its own, so that zero_/fill_ -- which write one value everywhere and
    which torch allows on expanded tensors -- can write it."""
    d = self._data
    if self._base is None and not d.flags.writeable and has_internal_overlap(d):
        self._data = np.array(d)


def fill_(self, value):
    """Fill with ``value`` in place."""
    _own_expanded(self)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        if _needs_graph(self, (value,)):
            _check_inplace(self, "fill_")
            # through COPY, so the result always has a node: with a constant value the old
            # graph of self used to stay attached (its inputs got gradients of the
            # overwritten values)
            _commit(self, apply(CP.COPY, (_shadow(self), value.to(self.dtype))), "fill_")
            return self
        value = value.item()
    _check_inplace(self, "fill_")
    if _needs_graph(self, ()):
        _commit(self, apply(CP.FILL, (_shadow(self),), {"value": value}), "fill_")
        return self
    self._data.fill(value)
    bump_version(self)
    return self


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast to this dtype) into this tensor in place."""
    _check_inplace(self, "copy_")
    if not isinstance(src, Tensor):
        src = tensor(src)
    try:
        np.broadcast_to(src._data, self._data.shape)
    except ValueError:
        raise RuntimeError(f"copy_: the source's shape {list(src._data.shape)} can't be "
                           f"broadcast to the destination's shape {list(self._data.shape)}. "
                           f"Reshape the source first.") from None
    if _needs_graph(self, (src,)):
        s = src.to(self.dtype) if src._data.dtype != self._data.dtype else src
        _commit(self, apply(CP.COPY, (_shadow(self), s)), "copy_")
        return self
    self._data[...] = src._data
    bump_version(self)
    return self


def masked_fill(self, mask, value):
    """Elements where ``mask`` is true replaced by ``value`` (see ``ops.scatter``)."""
    return _masked_fill(self, mask, value)


Tensor.zero_ = zero_
Tensor.fill_ = fill_
Tensor.copy_ = copy_
Tensor.masked_fill = masked_fill
Tensor.masked_fill_ = inplace("masked_fill_", masked_fill)


def _rng_fill(name, sample):
    def method(self, *args, generator=None, **kwargs):
        _check_inplace(self, name)
        self._data[...] = sample(_rng(generator), self._data.shape, *args, **kwargs)
        bump_version(self)
        return self
    method.__name__ = name
    return method


Tensor.uniform_ = _rng_fill("uniform_", lambda rng, shape, a=0.0, b=1.0: rng.uniform(a, b, shape))
Tensor.normal_ = _rng_fill("normal_", lambda rng, shape, mean=0.0, std=1.0: rng.normal(mean, std, shape))
Tensor.bernoulli_ = _rng_fill("bernoulli_", lambda rng, shape, p=0.5: rng.random(shape) < p)


def __setitem__(self, idx, value):
    idx = I.normalize_index(idx)
    if not isinstance(value, Tensor):
        if isinstance(value, (int, float, bool)):
            value = value
        else:
            value = tensor(value)
    if isinstance(value, Tensor) and value._data.dtype != self._data.dtype:
        value = value.to(self.dtype)
    if isinstance(value, Tensor) and value._data.ndim and value._data.shape[0] == 1:
        # leading size-1 dims beyond the target's rank are dropped, as PyTorch does
        # (x[i] = net(y) with a (1, 1) result)
        target = self._data[idx].ndim
        while value._data.ndim > target and value._data.shape[0] == 1:
            value = value.reshape(value._data.shape[1:])
    if _needs_graph(self, (value,)):
        _check_inplace(self, "setitem", True)
        vshape = value._data.shape if isinstance(value, Tensor) else ()
        op = I.SETITEM if I._is_basic(idx) else I.INDEX_PUT
        result = apply(op, (_shadow(self), value), {"idx": idx, "vshape": vshape})
        _commit(self, result, "setitem")
        return
    _check_inplace(self, "setitem")
    try:
        self._data[idx] = value._data if isinstance(value, Tensor) else value
    except ValueError as e:
        if not isinstance(value, Tensor):
            raise
        raise RuntimeError(
            f"setitem: the value of shape {list(value._data.shape)} cannot be broadcast to "
            f"the indexed shape {list(self._data[idx].shape)} ({e}). Reshape the value or "
            f"index a region of its shape.") from None
    bump_version(self)


Tensor.__setitem__ = __setitem__


# --- op-table families: unary math, activations, scans, statistics, sorting ----------------

def _op_table_methods():
    unary = ("tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "log1p", "expm1",
             "log2", "log10", "exp2", "rsqrt", "square", "reciprocal")
    special = ("atan2", "erf", "hypot", "copysign", "xlogy", "logit", "sinc", "nan_to_num", "lerp")
    for mod, names in ((UN, unary + ("arcsin", "arccos", "arctan", "arcsinh", "arctanh")),
                       (SP, special + ("arctan2",)), (RD, ("round",))):
        for name in names:
            _method(name, getattr(mod, name))
    for mod, names in ((UN, unary), (SP, special), (RD, ("round",))):
        for name in names:
            _method(name + "_", inplace(name + "_", getattr(mod, name)))
    for name in ("softmax", "log_softmax", "logsumexp"):
        _method(name, getattr(ACT, name))
    for name in ("prod", "cumsum", "cumprod"):
        _method(name, getattr(SC, name))
    Tensor.cumsum_ = inplace("cumsum_", SC.cumsum)
    Tensor.cumprod_ = inplace("cumprod_", SC.cumprod)
    for name in ("var", "std", "amax", "amin", "median"):
        _method(name, getattr(ST, name))
    for name in ("sort", "argsort", "msort", "topk"):
        _method(name, getattr(SO, name))


_op_table_methods()


# --- op-table families: linear algebra, indexing and rearranging ----------------------------

def _linalg_index_methods():
    for mod, names in ((ES, ("outer", "ger")),
                       (DG, ("trace", "diag", "diagonal", "diag_embed", "tril", "triu")),
                       (DC, ("inverse", "det"))):
        for name in names:
            _method(name, getattr(mod, name))
    Tensor.tril_ = inplace("tril_", DG.tril)
    Tensor.triu_ = inplace("triu_", DG.triu)
    for mod, names in ((SCT, ("scatter_add",)), (I, ("index_select",)),
                       (FR, ("flip", "fliplr", "flipud", "roll")), (RP, ("repeat",)),
                       (SPL, ("split", "chunk", "narrow", "unbind"))):
        for name in names:
            _method(name, getattr(mod, name))
    Tensor.scatter_add_ = inplace("scatter_add_", SCT.scatter_add)
    writes = ("scatter", "index_add", "index_copy", "index_fill", "masked_scatter")
    for mod, names in ((I, ("take", "take_along_dim")), (SCT, writes)):
        for name in names:
            _method(name, getattr(mod, name))
    for name in writes:
        _method(name + "_", inplace(name + "_", getattr(SCT, name)))
    Tensor.tile = lambda self, *dims: RP.tile(self, dims[0] if len(dims) == 1 else dims)
    Tensor.tile.__doc__ = RP.tile.__doc__
    Tensor.split = lambda self, split_size, dim=0: SPL.split(self, split_size, dim)
    Tensor.split.__doc__ = SPL.split.__doc__


_linalg_index_methods()


def _repeat_methods():
    _method("repeat_interleave", repeat_interleave)


_repeat_methods()


def _shape_more_methods():
    for mod, names in ((SPL, ("select", "tensor_split")),
                       (S, ("movedim", "moveaxis", "unflatten")), (RD, ("frac",))):
        for name in names:
            _method(name, getattr(mod, name))
    for name in ("hsplit", "vsplit", "dsplit"):
        fn = getattr(SPL, name)

        def method(self, *indices_or_sections, _fn=fn, **kwargs):
            # x.hsplit(2), x.hsplit([1, 2]) and x.hsplit(1, 2) (indices as varargs)
            a = indices_or_sections
            if not a:
                return _fn(self, **kwargs)
            return _fn(self, a[0] if len(a) == 1 else list(a), **kwargs)
        method.__name__ = name
        method.__doc__ = fn.__doc__
        _method(name, method)
    Tensor.trunc_ = inplace("trunc_", RD.trunc)
    Tensor.frac_ = inplace("frac_", RD.frac)


_shape_more_methods()


# --- docstrings of the methods defined without one ------------------------------------------

_METHOD_DOCS = {
    "bernoulli_": """Fill in place with 0/1 draws that are 1 with probability ``p`` (default 0.5).

        >>> import chainrule as torch
        >>> torch.zeros(3).bernoulli_(1.0)
        tensor([1., 1., 1.])
        """,
    "bool": """``self.to(torch.bool)``.

        >>> import chainrule as torch
        >>> torch.tensor([0., 2.]).bool()
        tensor([False,  True])
        """,
    "byte": """``self.to(torch.uint8)``.

        >>> import chainrule as torch
        >>> torch.tensor([1.7, 2.]).byte()
        tensor([1, 2], dtype=torch.uint8)
        """,
    "contiguous": "``self`` (chainrule tensors are always usable as contiguous).",
    "data_ptr": "The address of the first element (as ``Tensor.data_ptr``).",
    "dim": """Number of dimensions.

        >>> import chainrule as torch
        >>> torch.zeros(2, 3).dim()
        2
        """,
    "double": """``self.to(torch.float64)``.

        >>> import chainrule as torch
        >>> torch.tensor([1, 2]).double()
        tensor([1., 2.], dtype=torch.float64)
        """,
    "element_size": """Bytes per element.

        >>> import chainrule as torch
        >>> torch.zeros(2, dtype=torch.float64).element_size()
        8
        """,
    "expand_as": """``self.expand(other.size())``: a broadcast view of ``other``'s shape.

        >>> import chainrule as torch
        >>> torch.tensor([[1], [2]]).expand_as(torch.zeros(2, 3))
        tensor([[1, 1, 1],
                [2, 2, 2]])
        """,
    "float": """``self.to(torch.float32)``.

        >>> import chainrule as torch
        >>> torch.tensor([1, 2]).float()
        tensor([1., 2.])
        """,
    "half": """``self.to(torch.float16)``.

        >>> import chainrule as torch
        >>> torch.tensor([1, 2]).half()
        tensor([1., 2.], dtype=torch.float16)
        """,
    "int": """``self.to(torch.int32)`` (floats are truncated toward zero).

        >>> import chainrule as torch
        >>> torch.tensor([1.7, -1.7]).int()
        tensor([ 1, -1], dtype=torch.int32)
        """,
    "is_complex": "Always False: chainrule has no complex dtypes.",
    "is_contiguous": """True if the elements are laid out in row-major order without gaps.

        >>> import chainrule as torch
        >>> x = torch.zeros(2, 3)
        >>> x.is_contiguous(), x.t().is_contiguous()
        (True, False)
        """,
    "is_floating_point": """True for a floating dtype.

        >>> import chainrule as torch
        >>> torch.tensor([1.]).is_floating_point()
        True
        """,
    "long": """``self.to(torch.int64)``.

        >>> import chainrule as torch
        >>> torch.tensor([1.5, 2.]).long()
        tensor([1, 2])
        """,
    "new_zeros": """A zero tensor of the given size with ``self``'s dtype (unless ``dtype`` is
        given); ``new_empty`` is the same.

        >>> import chainrule as torch
        >>> torch.tensor([1.], dtype=torch.float64).new_zeros(2)
        tensor([0., 0.], dtype=torch.float64)
        """,
    "new_full": """A tensor of the given size filled with ``fill_value``, with ``self``'s
        dtype unless ``dtype`` is given.

        >>> import chainrule as torch
        >>> torch.tensor([1, 2]).new_full((2,), 7)
        tensor([7, 7])
        """,
    "new_ones": """A tensor of ones of the given size with ``self``'s dtype unless ``dtype``
        is given.

        >>> import chainrule as torch
        >>> torch.tensor([1, 2]).new_ones(3)
        tensor([1, 1, 1])
        """,
    "new_tensor": """A new tensor from ``data`` with ``self``'s dtype unless ``dtype`` is given.

        >>> import chainrule as torch
        >>> torch.tensor([1.], dtype=torch.float64).new_tensor([2, 3])
        tensor([2., 3.], dtype=torch.float64)
        """,
    "normal_": """Fill in place with draws from the normal distribution with mean ``mean`` and
        standard deviation ``std``.

        >>> import chainrule as torch
        >>> x = torch.empty(1000).normal_(5.0, 0.1)
        >>> bool((x.mean() - 5).abs() < 0.05)
        True
        """,
    "numel": """Number of elements (``nelement`` is the same).

        >>> import chainrule as torch
        >>> torch.zeros(2, 3).numel()
        6
        """,
    "reshape_as": """``self.reshape(other.shape)``.

        >>> import chainrule as torch
        >>> torch.arange(4).reshape_as(torch.zeros(2, 2))
        tensor([[0, 1],
                [2, 3]])
        """,
    "short": """``self.to(torch.int16)``.

        >>> import chainrule as torch
        >>> torch.tensor([1.5]).short()
        tensor([1], dtype=torch.int16)
        """,
    "stride": """Elements to step in each dimension (or in dimension ``dim``) to reach the
        next element.

        >>> import chainrule as torch
        >>> torch.zeros(2, 3).stride(), torch.zeros(2, 3).stride(0)
        ((3, 1), 3)
        """,
    "type_as": """``self.to(other.dtype)``.

        >>> import chainrule as torch
        >>> torch.tensor([1, 2]).type_as(torch.tensor([0.5]))
        tensor([1., 2.])
        """,
    "uniform_": """Fill in place with uniform draws from the interval ``[from, to)`` (default
        ``[0, 1)``).

        >>> import chainrule as torch
        >>> x = torch.empty(100).uniform_(2, 3)
        >>> bool(((x >= 2) & (x < 3)).all())
        True
        """,
    "view_as": """``self.view(other.shape)``: a view sharing memory with ``self``.

        >>> import chainrule as torch
        >>> torch.arange(4).view_as(torch.zeros(2, 2))
        tensor([[0, 1],
                [2, 3]])
        """,
    "where": """``torch.where(condition, self, other)``.

        >>> import chainrule as torch
        >>> torch.tensor([1., 2.]).where(torch.tensor([True, False]), torch.tensor(0.))
        tensor([1., 0.])
        """,
}
for _name, _doc in _METHOD_DOCS.items():
    getattr(Tensor, _name).__doc__ = _doc
