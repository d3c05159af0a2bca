"""Views and in-place ops: keeping every view's ``grad_fn`` in step with its base.

A view (``y[0]``, ``y.view(4)``, ``y.T`` ...) shares memory and the version counter with its
base.  When the base or one of its views is changed in place, the values of all the other
views change too, so their graph must change with them.  As PyTorch does, a view's
``grad_fn`` is then re-derived from its base's current one (``AsStridedBackward0``): the
view is read out of the base at the memory positions it occupies.

The bases remember their live views (weak references, registered by ``apply`` through
``_tensor.track_view`` for views made while grad mode is on); ``refresh_views`` runs after
every in-place op.
"""
import numpy as np

from .grad_mode import STATE
from ..ops._core import apply
from ..ops.index import AS_STRIDED
from ..ops.reduce import broadcast_to

__all__ = ["view_index", "refresh_views", "has_internal_overlap", "restand"]

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
    ``base``, found from their memory layout (both are ndarrays sharing memory)."""
    start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
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
    return np.unravel_index(flat, base.shape)


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
            fresh = apply(AS_STRIDED, (base,), {"idx": idx, "shape": base._data.shape})
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
