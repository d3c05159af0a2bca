"""Copies and overwrites: ``clone``/``contiguous``, dtype casts (``to``), and the
whole-tensor overwrites behind ``zero_``, ``fill_`` and ``copy_``.  Also the rule
namespaces' ``zeros_like``/``ones_like``, which rules of every family use.
"""

import numpy as np

from .._backend import backend_of, copy_array, to_backend
from .._tensor import Tensor, wrap
from ._core import NF, TF, defop, public
from .. import _creation


# --- whole-tensor overwrites (zero_, fill_, copy_): PyTorch's node names ---------------------
# the old value gets a zero gradient; copy_'s source gets the gradient (summed back to its
# shape by the engine, as the source broadcasts)

ZERO = defop("zero", lambda x: np.zeros_like(x), vjps=(lambda F, g, out, x: F.zeros_like(g),),
             jvp=lambda F, t, out, x: F.zeros_like(t[0]), save_inputs=False,
             backward_name="ZeroBackward0")
FILL = defop("fill", lambda x, value: np.full_like(x, value),
             vjps=(lambda F, g, out, x, value: F.zeros_like(g),),
             jvp=lambda F, t, out, x, value: F.zeros_like(t[0]), save_inputs=False,
             backward_name="FillBackward2")
COPY = defop("copy", lambda x, src: copy_array(np.broadcast_to(src, x.shape)),
             vjps=(lambda F, g, out, x, src: F.zeros_like(g), lambda F, g, out, x, src: g),
             jvp=lambda F, t, out, x, src: F.zeros_like(out) if t[1] is None else t[1],
             save_inputs=False, broadcasts=True, backward_name="CopyBackwards")


# --- dtype cast -----------------------------------------------------------------------------

# PyTorch's _to_copy: a dtype cast and/or a copy to another device (``to``: the target
# backend, ``back``: the source's; both None for a cast on one device)
def _cast_forward(x, dtype, src, to=None, back=None):
    if to is not None:
        x = to_backend(x, to)
    return x.astype(dtype)


def _cast_vjp(F, g, out, x, dtype, src, to=None, back=None):
    g = F.cast(g, src)
    return g if back is None else F.to_device(g, back)


def _cast_jvp(F, t, out, x, dtype, src, to=None, back=None):
    t = t[0] if to is None else F.to_device(t[0], to)
    return F.cast(t, dtype)


CAST = defop("to", _cast_forward, vjps=(_cast_vjp,), jvp=_cast_jvp, save_inputs=False,
             backward_name="ToCopyBackward0")


def cast(x, np_dtype):
    """``x`` converted to NumPy dtype ``np_dtype`` (recorded; the gradient is cast back)."""
    src = x._data.dtype
    if src == np_dtype:
        return x
    if np_dtype.kind != "f":
        return wrap(x._data.astype(np_dtype))   # integer/bool results carry no gradient
    if src.kind != "f":
        out = wrap(x._data.astype(np_dtype))
        return out
    return CAST.apply((x,), {"dtype": np_dtype, "src": src})


def to_device(x, backend):
    """``x`` copied to the device of ``backend`` (an ``_backend.Backend``); ``x`` itself
    when it is there already.  Floating-point copies are recorded (ToCopyBackward0: the
    gradient is copied back)."""
    src = backend_of(x._data)
    if src is backend:
        return x
    d = x._data.dtype
    if d.kind != "f":
        return wrap(to_backend(x._data, backend))
    return CAST.apply((x,), {"dtype": d, "src": d, "to": backend, "back": src})


# --- copies -------------------------------------------------------------------------------

CLONE = defop("clone", lambda x: x.copy(), vjps=(lambda F, g, out, x: g,),
              jvp=lambda F, t, out, x: t[0], save_inputs=False)


@public()
def clone(input, *, memory_format=None):
    """A copy with its own memory; gradients flow back to ``input``.

    >>> import chainrule as torch
    >>> torch.tensor([1., 2.]).clone()
    tensor([1., 2.])
    """
    return CLONE.apply((input,))


@public(function=False)
def contiguous(input, memory_format=None):
    """``input`` itself when its elements are laid out in row-major order, else a
    row-major copy (recorded as ``clone``).

    >>> import chainrule as torch
    >>> x = torch.zeros(2, 3).t()
    >>> x.is_contiguous(), x.contiguous().is_contiguous()
    (False, True)
    """
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


def _tf_like(fn):
    def like(x):
        return getattr(_creation, fn)(x) if isinstance(x, Tensor) else wrap(getattr(np, fn)(x))
    return like


# --- rule namespaces ---------------------------------------------------------------------

NF.zeros_like, NF.ones_like = np.zeros_like, np.ones_like
TF.zeros_like, TF.ones_like = _tf_like("zeros_like"), _tf_like("ones_like")
NF.cast = lambda a, d: a.astype(d, copy=False)
TF.cast = cast
NF.to_device = to_backend
TF.to_device = to_device
# a constant array (an op's param) in a rule: as it is, or a Tensor outside the graph
NF.const = lambda a: a
TF.const = wrap
