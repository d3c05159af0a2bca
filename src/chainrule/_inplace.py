"""In-place changes, version counters and views: one module for what happens when a tensor
is changed in place.

In-place forms (``add_``, ``x += y``, ``x[i] = v``, ``zero_`` ...) keep the tensor object
and its memory, bump its version counter, and -- when a graph is being recorded --
re-point its ``grad_fn`` at a node that computes the new value from a copy of the old one.

A view (``y[0]``, ``y.view(4)``, ``y.T`` ...) shares memory and the version counter with its
base.  When the base or one of its views is changed in place, the values of all the other
views change too, so their graph must change with them.  As PyTorch does, a view's
``grad_fn`` is then re-derived from its base's current one (``AsStridedBackward0``): the
view is read out of the base at the memory positions it occupies.  The bases remember their
live views (weak references, registered by ``apply`` through ``_tensor.track_view`` for
views made while grad mode is on); ``refresh_views`` runs after every in-place op.

The in-place methods are bound onto Tensor here; ``_methods`` binds the rest and uses
``inplace`` for the op-table families' ``name_`` forms.
"""
import numpy as np

from ._backend import backend_of, copy_array, index_on, like_device
from . import _dtypes
from ._creation import _rng, tensor
from ._tensor import Tensor, bump_version, vbox, wrap
from ._grad_mode import SHARED, STATE, notify
from .ops import copies as CP, index as I, matmul as MM, shape as S
from .ops.index import AS_STRIDED
from .ops.reduce import broadcast_to

__all__ = ["inplace", "view_index", "refresh_views", "has_internal_overlap", "restand"]


def _offsets(a, start):
    """Byte offset of every element of ``a`` from ``start``."""
    off = np.full(a.shape, start, dtype=np.intp)
    for k in range(a.ndim):
        shape = [1] * a.ndim
        shape[k] = a.shape[k]
        off = off + (np.arange(a.shape[k], dtype=np.intp) * a.strides[k]).reshape(shape)
    return off


def view_index(base, view):
    """The advanced index (tuple of int arrays) that reads ``view``'s elements out of
    ``base``, found from their memory layout (both are arrays sharing memory; for device
    arrays the layout is read on the host and the index put on the device)."""
    start = _address(view) - _address(base)
    voff = _offsets(view, start)
    item = base.itemsize
    if base.flags.c_contiguous:
        flat = voff // item
    else:
        boff = _offsets(base, 0).ravel()
        order = np.argsort(boff, kind="stable")
        sorted_off = boff[order]
        j = np.searchsorted(sorted_off, voff.ravel()).clip(0, max(boff.size - 1, 0))
        flat = order[j].reshape(view.shape)
        if boff.size and not np.array_equal(sorted_off[j], voff.ravel()):
            raise RuntimeError("internal error: a view's elements do not lie in its base")
    if base.size and (flat.size and (flat.min() < 0 or flat.max() >= base.size)):
        raise RuntimeError("internal error: a view's elements do not lie in its base")
    return index_on(base, np.unravel_index(flat, base.shape))


def _address(a):
    """The address of ``a``'s first element (a device array's: its memory pointer)."""
    if a.__class__ is np.ndarray:
        return a.__array_interface__["data"][0]
    return a.data.ptr


def has_internal_overlap(a):
    """True if several elements of ``a`` share one memory location (an expanded tensor)."""
    return any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape))


def _regrow(view):
    """Give ``view`` a fresh ``grad_fn`` reading it out of its base's current graph."""
    base = view._base
    if not base._rg and not base._fw:
        return
    prev = STATE.enabled
    STATE.enabled = True
    try:
        if base._data.ndim == 0:
            # every element of a view of a 0-d base is the base's one value (no advanced
            # index can address a 0-d array)
            fresh = broadcast_to(base, view._data.shape)
        else:
            idx = view_index(base._data, view._data)
            fresh = AS_STRIDED.apply((base,), {"idx": idx, "shape": base._data.shape})
    finally:
        STATE.enabled = prev
    if fresh._node is not None:
        restand(view, fresh._node)             # (moves retain_grad() to the new node)
    if base._fw:
        view._fw = fresh._fw              # forward-mode tangents follow the base too


def refresh_views(t, skip=None):
    """After an in-place change of ``t`` (a base or a view): re-derive the ``grad_fn`` of
    every live view of the same base (except ``skip``)."""
    base = t._base if t._base is not None else t
    views = getattr(base, "_views", None)
    if not views:
        return
    live = []
    for r in views:
        v = r()
        if v is not None:
            live.append(r)
            if v is not skip and v is not t:
                _regrow(v)
    views[:] = live


def restand(t, node):
    """Make ``t`` stand for ``node``'s output in the graph (after an in-place change)."""
    old, retains = t._node, t._retains
    t._node = node
    t._rg = True
    t._retains = False
    if retains:
        # retain_grad() follows the tensor: .grad becomes the gradient of the new value
        if old is not None and old._pre_hooks:
            old._pre_hooks[:] = [h for h in old._pre_hooks
                                 if not (getattr(h, "retain", False) and h.ref() is t)]
        t.retain_grad()


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
    old = wrap(copy_array(self._data))
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
        new_base = CP.COPY.apply((base_before, S.reshape(result, ())))
    else:
        idx = view_index(base._data, view._data)
        new_base = I.SETITEM.apply((base_before, result),
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
                            if SHARED.observed:
                                notify("wrote", self, uf, o)
                            uf(d, od, out=d)
                            bump_version(self)
                            return self
                    elif (o.__class__ is float or o.__class__ is int and
                          -0x8000000000000000 <= o <= 0xFFFFFFFFFFFFFFFF) and d.dtype.kind == "f":
                        if SHARED.observed:
                            notify("wrote", self, uf, o)
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
        _commit(self, CP.ZERO.apply((_shadow(self),)), "zero_")
        return self
    if SHARED.observed:
        notify("wrote", self, "fill", 0)
    self._data.fill(0)
    bump_version(self)
    return self


def _own_expanded(self):
    """Give an expanded tensor that is no view of another (e.g. an ``autograd.grad``
    result) memory of its own, so that zero_/fill_ -- which write one value everywhere and
    which torch allows on expanded tensors -- can write it."""
    d = self._data
    if self._base is None and d.__class__ is np.ndarray and not d.flags.writeable \
            and has_internal_overlap(d):
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
            _commit(self, CP.COPY.apply((_shadow(self), value.to(self.dtype))), "fill_")
            return self
        value = value.item()
    _check_inplace(self, "fill_")
    if _needs_graph(self, ()):
        _commit(self, CP.FILL.apply((_shadow(self),), {"value": value}), "fill_")
        return self
    if SHARED.observed:
        notify("wrote", self, "fill", value)
    self._data.fill(value)
    bump_version(self)
    return self


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast to this dtype) into this tensor in place."""
    _check_inplace(self, "copy_")
    if not isinstance(src, Tensor):
        src = tensor(src)
    if src._data.__class__ is not self._data.__class__:
        src = CP.to_device(src, backend_of(self._data))    # another device: copied over
    try:
        np.broadcast_to(src._data, self._data.shape)
    except ValueError:
        raise RuntimeError(f"copy_: the source's shape {list(src._data.shape)} can't be "
                           f"broadcast to the destination's shape {list(self._data.shape)}. "
                           f"Reshape the source first.") from None
    if _needs_graph(self, (src,)):
        s = src.to(self.dtype) if src._data.dtype != self._data.dtype else src
        _commit(self, CP.COPY.apply((_shadow(self), s)), "copy_")
        return self
    if SHARED.observed:
        notify("wrote", self, "copy", src)
    self._data[...] = src._data
    bump_version(self)
    return self


Tensor.zero_ = zero_
Tensor.fill_ = fill_
Tensor.copy_ = copy_


def _rng_fill(name, sample, doc):
    def method(self, *args, generator=None, **kwargs):
        _check_inplace(self, name)
        # (drawn on the host; a device tensor gets them copied in)
        self._data[...] = like_device(self._data, np.asarray(
            sample(_rng(generator), self._data.shape, *args, **kwargs)))
        bump_version(self)
        return self
    method.__name__, method.__doc__ = name, doc
    return method


Tensor.uniform_ = _rng_fill("uniform_", lambda rng, shape, a=0.0, b=1.0: rng.uniform(a, b, shape),
    """Fill in place with uniform draws from the interval ``[from, to)`` (default
    ``[0, 1)``).

    >>> import chainrule as torch
    >>> x = torch.empty(100).uniform_(2, 3)
    >>> bool(((x >= 2) & (x < 3)).all())
    True
    """)
Tensor.normal_ = _rng_fill("normal_", lambda rng, shape, mean=0.0, std=1.0: rng.normal(mean, std, shape),
    """Fill in place with draws from the normal distribution with mean ``mean`` and
    standard deviation ``std``.

    >>> import chainrule as torch
    >>> x = torch.empty(1000).normal_(5.0, 0.1)
    >>> bool((x.mean() - 5).abs() < 0.05)
    True
    """)
Tensor.bernoulli_ = _rng_fill("bernoulli_", lambda rng, shape, p=0.5: rng.random(shape) < p,
    """Fill in place with 0/1 draws that are 1 with probability ``p`` (default 0.5).

    >>> import chainrule as torch
    >>> torch.zeros(3).bernoulli_(1.0)
    tensor([1., 1., 1.])
    """)


def __setitem__(self, idx, value):
    idx = I.normalize_index(idx, like=self._data)
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
        result = op.apply((_shadow(self), value), {"idx": idx, "vshape": vshape})
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
