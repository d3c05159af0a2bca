"""The Tensor: a NumPy array plus what reverse and forward mode need.

Slots:
  ``_data``      the ndarray (dtype is always one of chainrule's dtypes)
  ``_rg``        requires_grad
  ``_node``      grad_fn (``None`` for leaves)
  ``_grad``      accumulated gradient of a leaf (or of a non-leaf after ``retain_grad``)
  ``_vc``        version counter: ``None`` (version 0, no counter yet) or a one-element list
                 shared with views/``detach()``, bumped by in-place ops.  Created on first
                 need (``vbox``), so most tensors never allocate one; ``_version`` reads it
  ``_fw``        forward-mode tangents, ``{level: Tensor}``

Rarely set (class-level defaults, stored in the instance ``__dict__`` once set):
  ``_accum``     weak reference to the leaf's ``AccumulateGrad`` node, created on first use
  ``_hooks``     gradient hooks of a leaf
  ``_base``      the tensor this one is a view of
  ``_retains``   retain_grad() was called on this non-leaf
  ``_views``     weak references to this base's views (see _inplace.py)

Most methods (``exp``, ``sum``, ``__add__`` ...) are attached by ``chainrule.ops``.
"""
import threading
import weakref

import numpy as np

from . import _dtypes
from ._device import device_of as _device_of
from ._backend import to_host as _to_host
from ._grad_mode import GRAD_LOCK, SHARED, STATE, notify
from ._graph import accumulator as _accumulator, RemovableHandle, shown as _shown

__all__ = ["Tensor", "wrap", "is_tensor", "Size"]

_ndarray = np.ndarray


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``torch.Size([2, 3])``.

    >>> import chainrule as torch
    >>> s = torch.zeros(2, 3).shape
    >>> s, s[1], s.numel()
    (torch.Size([2, 3]), 3, 6)
    """
    __slots__ = ()

    def __repr__(self):
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """A multi-dimensional array that can record operations for automatic differentiation.

    Create tensors with ``chainrule.tensor``, ``arange``, ``zeros`` etc.

    >>> import chainrule as torch
    >>> x = torch.arange(4.0, requires_grad=True)
    >>> y = 2 * torch.dot(x, x)
    >>> y.backward()
    >>> x.grad
    tensor([ 0.,  4.,  8., 12.])
    """
    # the fields every op sets are slots; rarely set ones are class-level defaults that an
    # instance overrides in its ``__dict__`` (made only then): four stores less per op.
    # (Like PyTorch's tensors, instances also accept user attributes.)
    __slots__ = ("_data", "_rg", "_node", "_grad", "_vc", "_fw", "__dict__", "__weakref__")
    _accum = None
    _hooks = None
    _base = None
    _retains = False
    __array_priority__ = 1000  # so ndarray (op) Tensor defers to Tensor's reflected op

    # ``Tensor(data)``'s constructor is bound by ``_creation`` (it is written with the
    # factories); ``backward``, ``__repr__`` and the op methods by ``_methods``.

    # --- core attributes ---------------------------------------------------------------
    @property
    def requires_grad(self):
        """Whether gradients flow to this tensor.  Settable on leaves only."""
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        if self._node is not None:
            hint = ("" if value else " If you want to use a computed variable in a subgraph "
                    "that doesn't require differentiation use var_no_grad = var.detach().")
            raise RuntimeError("you can only change requires_grad flags of leaf variables." + hint)
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place on a leaf and return ``self``.

        >>> import chainrule as torch
        >>> torch.zeros(2).requires_grad_()
        tensor([0., 0.], requires_grad=True)
        """
        requires_grad = bool(requires_grad)
        if self._node is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point and complex dtype can require gradients "
                f"(got {self.dtype}). Convert first, e.g. x.float().requires_grad_().")
        self._rg = requires_grad
        return self

    @property
    def grad_fn(self):
        """The graph node that produced this tensor (``None`` for leaves)."""
        node = self._node
        return None if node is None else _shown(node)

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (all tensors that don't require
        grad are leaves)."""
        return self._node is None

    @property
    def grad(self):
        """The gradient accumulated by ``backward()`` (``None`` until then)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"grad of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: expected "
                                   f"{list(self._data.shape)}, got {list(value._data.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: expected "
                                   f"{self.dtype}, got {value.dtype}. Convert it first, e.g. "
                                   f"x.grad = g.to(x.dtype)")
        if SHARED.observed:
            notify("grad_set", self, value)
        self._grad = value

    @grad.deleter
    def grad(self):
        if SHARED.observed:
            notify("grad_set", self, None)
        self._grad = None

    @property
    def _version(self):
        """How many times this tensor's memory was changed in place (shared with its views
        and ``detach()``-ed copies), as PyTorch's ``x._version``."""
        vc = self._vc
        return 0 if vc is None else vc[0]

    _version_counter = _version

    @property
    def data(self):
        """A tensor sharing this one's memory, outside the graph and -- unlike ``detach()``
        -- with its own version counter: in-place changes through ``.data`` are invisible to
        autograd (no "modified by an inplace operation" error), as in PyTorch."""
        return wrap(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError("Tensor.data must be set to a Tensor")
        if SHARED.observed:
            notify("value_read", self, "the .data setter")
        self._data = value._data

    @property
    def retains_grad(self):
        return bool(self._retains)

    def _grad_accumulator(self):
        acc = self._accum() if self._accum is not None else None
        if acc is None:
            # made under a lock: two threads recording on this leaf at once must get the
            # same node (else autograd.grad(..., leaf) in one of them finds its leaf unused)
            _ACCUM_LOCK.acquire()
            try:
                acc = self._accum() if self._accum is not None else None
                if acc is None:
                    acc = _accumulator(self)
                    self._accum = weakref.ref(acc)
            finally:
                _ACCUM_LOCK.release()
        return acc

    # --- shape and type ----------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape as ``torch.Size``, or one dimension's length.

        >>> import chainrule as torch
        >>> torch.zeros(2, 3).size()
        torch.Size([2, 3])
        """
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim, "size")]

    def dim(self):
        """Number of dimensions.

        >>> import chainrule as torch
        >>> torch.zeros(2, 3).dim()
        2
        """
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        """Number of elements (``nelement`` is the same).

        >>> import chainrule as torch
        >>> torch.zeros(2, 3).numel()
        6
        """
        return self._data.size

    nelement = numel

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self):
        return _dtypes._FROM_NP[self._data.dtype]

    @property
    def device(self):
        """The device the tensor lives on (read from its stored array: ``cpu`` for a NumPy
        array, ``cuda:0`` for the CUDA backend's).

        >>> import chainrule as torch
        >>> torch.zeros(2).device
        device(type='cpu')
        """
        return _device_of(self._data)

    @property
    def is_cuda(self):
        """True if the tensor is on a CUDA device (its array is the CUDA backend's)."""
        return _device_of(self._data)._type == "cuda"

    @property
    def is_cpu(self):
        """True if the tensor is on the CPU (its array is a NumPy array)."""
        return _device_of(self._data)._type == "cpu"

    def get_device(self):
        """The CUDA device index, or -1 for a CPU tensor.

        >>> import chainrule as torch
        >>> torch.zeros(2).get_device()
        -1
        """
        d = _device_of(self._data)
        return -1 if d._type == "cpu" else d._index

    def is_floating_point(self):
        """True for a floating dtype.

        >>> import chainrule as torch
        >>> torch.tensor([1.]).is_floating_point()
        True
        """
        return self._data.dtype.kind == "f"

    def is_complex(self):
        """Always False: chainrule has no complex dtypes."""
        return False

    def element_size(self):
        """Bytes per element.

        >>> import chainrule as torch
        >>> torch.zeros(2, dtype=torch.float64).element_size()
        8
        """
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def is_contiguous(self, memory_format=None):
        """True if the elements are laid out in row-major order without gaps.

        >>> import chainrule as torch
        >>> x = torch.zeros(2, 3)
        >>> x.is_contiguous(), x.t().is_contiguous()
        (True, False)
        """
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim=None):
        """Elements to step in each dimension (or in dimension ``dim``) to reach the
        next element.

        >>> import chainrule as torch
        >>> torch.zeros(2, 3).stride(), torch.zeros(2, 3).stride(0)
        ((3, 1), 3)
        """
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_dim(dim, self._data.ndim, "stride")]

    def data_ptr(self):
        """The address of the first element (as ``Tensor.data_ptr``)."""
        a = self._data
        if a.__class__ is not _ndarray:
            return a.data.ptr           # a device array (CuPy's MemoryPointer)
        return a.__array_interface__["data"][0]

    # cpu() and cuda() (recorded copies between devices) are bound by _methods

    # --- conversion to Python / NumPy --------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number.

        >>> import chainrule as torch
        >>> torch.tensor([2.5]).item()
        2.5
        """
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               f"to Scalar. Use .tolist() for all values, or index one "
                               f"element first (e.g. x[0].item()).")
        if SHARED.observed:
            notify("value_read", self, "item()")
        return self._data.reshape(()).item()

    def tolist(self):
        """The values as (nested) Python lists; a 0-d tensor gives a number."""
        if SHARED.observed:
            notify("value_read", self, "tolist()")
        return self._data.tolist()

    def numpy(self, *, force=False):
        """The NumPy array behind this tensor (shares memory).

        >>> import chainrule as torch
        >>> torch.ones(2).numpy()
        array([1., 1.], dtype=float32)
        """
        if self._data.__class__ is not _ndarray:
            if force:                   # numpy(force=True) copies a device tensor to host
                return _to_host(self._data)
            raise TypeError(f"can't convert {_device_of(self._data)} device type tensor to "
                            f"numpy. Use Tensor.cpu() to copy the tensor to host memory "
                            f"first.")
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if SHARED.observed:
            notify("value_read", self, "numpy()")
        return self._data.copy() if force and self._rg else self._data

    def __array__(self, dtype=None, copy=None):
        if self._data.__class__ is not _ndarray:
            raise TypeError(f"can't convert {_device_of(self._data)} device type tensor to "
                            f"numpy. Use Tensor.cpu() to copy the tensor to host memory "
                            f"first.")
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if SHARED.observed:
            notify("value_read", self, "a NumPy conversion (__array__)")
        if dtype is not None:
            return self._data.astype(dtype, copy=False)
        return self._data

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._scalar("index"))

    def __bool__(self):
        if self._data.size != 1:
            what = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous. "
                               f"Reduce it first, e.g. with .any() or .all() "
                               f"(this tensor has {self._data.size} elements).")
        if SHARED.observed:
            notify("value_read", self, "bool() (an if or while on a tensor)")
        return bool(self._data.reshape(()))

    def _scalar(self, what):
        if self._data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                               f"(this tensor has {self._data.size} elements; {what}() needs 1)")
        if SHARED.observed:
            notify("value_read", self, f"{what}()")
        return self._data.reshape(()).item()

    def __complex__(self):
        return complex(self._scalar("complex"))

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)


    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __reduce_ex__(self, proto):
        return (_rebuild, (self._data.copy(), self._rg))

    def __deepcopy__(self, memo):
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        t = _rebuild(self._data.copy(), self._rg)
        if self._grad is not None:
            t._grad = _rebuild(self._grad._data.copy(), False)
        memo[id(self)] = t
        return t

    # --- graph ---------------------------------------------------------------------------
    def detach(self):
        """A new tensor sharing this one's memory and version counter, outside the graph.

        >>> import chainrule as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> (x * 2).detach()
        tensor([2., 2.])
        """
        t = wrap(self._data)
        t._vc = vbox(self)
        return t

    def detach_(self):
        """Detach this tensor from the graph in place (it becomes a leaf)."""
        if self._base is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._node = None
        self._rg = False
        self._fw = None
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after ``backward()``.

        >>> import chainrule as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> y = x * 3; y.retain_grad(); y.sum().backward(); y.grad
        tensor([1., 1.])
        """
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is None or self._retains:
            return
        if SHARED.observed:
            notify("hooked", self, "retain_grad()")
        self._retains = True
        ref = weakref.ref(self)
        self._node.register_prehook(_RetainGrad(ref))

    def register_hook(self, hook):
        """Register ``hook(grad)`` to run when this tensor's gradient is computed; it may
        return a replacement.  Returns a handle with ``.remove()``.

        >>> import chainrule as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> (x * 2).sum().backward(); x.grad
        tensor([20., 20.])
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if SHARED.observed:
            notify("hooked", self, "register_hook()")
        if self._node is not None:
            return self._node.register_prehook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

_ACCUM_LOCK = threading.Lock()     # see Tensor._grad_accumulator


class _RetainGrad:
    """Pre-hook that stores a non-leaf's gradient in its ``.grad`` (runs after user hooks)."""
    __slots__ = ("ref",)
    retain = True

    def __init__(self, ref):
        self.ref = ref

    def __call__(self, grad):
        t = self.ref()
        if t is not None:
            with GRAD_LOCK:                 # (backward may run in several threads at once)
                if t._grad is None:
                    t._grad = grad if STATE.enabled and grad._node is not None else grad.detach()
                else:
                    t._grad = t._grad + grad
        return None


_new = object.__new__


def wrap(data):
    """A new leaf Tensor around ``data`` (an ndarray of a supported dtype).  Hot path."""
    t = _new(Tensor)
    t._data = data
    t._rg = False
    t._node = None
    t._grad = None
    t._vc = None
    t._fw = None
    return t


def vbox(t):
    """``t``'s version counter (a one-element list), created on first need: before it is
    shared with a view or a detached copy, or kept to check a saved output."""
    vc = t._vc
    if vc is None:
        vc = t._vc = [0]
    return vc


def bump_version(t):
    """Count an in-place change of ``t``'s memory (seen by its views and saved copies)."""
    if SHARED.observed:
        notify("bumped", t)
    vc = t._vc
    if vc is None:
        t._vc = [1]             # nobody shares a counter that does not exist yet
    else:
        vc[0] += 1


def _init_from(t, data, node):
    t._data = data
    t._rg = False
    t._node = node
    t._grad = None
    t._vc = None
    t._fw = None


def _rebuild(data, rg):
    t = wrap(data)
    t._rg = rg
    return t


def is_tensor(obj):
    """True if ``obj`` is a chainrule Tensor.

    >>> import chainrule as torch
    >>> torch.is_tensor(torch.zeros(1)), torch.is_tensor([0.0])
    (True, False)
    """
    return isinstance(obj, Tensor)


def _dim(d, ndim, opname):
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{opname}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {d})")
    return d % n if ndim else 0


def track_view(t):
    """Remember view ``t`` in its base's list of views (called by ``apply``)."""
    if not STATE.enabled:
        return
    base = t._base
    try:
        views = base._views
    except AttributeError:
        views = base._views = []
    views.append(weakref.ref(t))
    if len(views) % 64 == 0:                     # drop dead references now and then
        views[:] = [r for r in views if r() is not None]
