"""Copies and overwrites: ``clone``/``contiguous``, dtype casts (``to``), and the
whole-tensor overwrites behind ``zero_``, ``fill_`` and ``copy_``.  Also the rule
namespaces' ``zeros_like``/``ones_like``, which rules of every family use.
"""

import numpy as np

from .._tensor import Tensor, wrap
from ._core import NF, TF, defop
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
COPY = defop("copy", lambda x, src: np.array(np.broadcast_to(src, x.shape)),
             vjps=(lambda F, g, out, x, src: F.zeros_like(g), lambda F, g, out, x, src: g),
             jvp=lambda F, t, out, x, src: F.zeros_like(out) if t[1] is None else t[1],
             save_inputs=False, broadcasts=True, backward_name="CopyBackwards")


# --- dtype cast -----------------------------------------------------------------------------

CAST = defop("to", lambda x, dtype, src: x.astype(dtype),
             vjps=(lambda F, g, out, x, dtype, src: F.cast(g, src),),
             jvp=lambda F, t, out, x, dtype, src: F.cast(t[0], dtype),
             save_inputs=False, backward_name="ToCopyBackward0")


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


# --- copies -------------------------------------------------------------------------------

CLONE = defop("clone", lambda x: np.array(x, copy=True), vjps=(lambda F, g, out, x: g,),
              jvp=lambda F, t, out, x: t[0], save_inputs=False)


def clone(input, *, memory_format=None):
    """A copy with its own memory; gradients flow back to ``input``.

    >>> import chainrule as torch
    >>> torch.tensor([1., 2.]).clone()
    tensor([1., 2.])
    """
    return CLONE.apply((input,))


def contiguous(input, memory_format=None):
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
# a constant array (an op's param) in a rule: as it is, or a Tensor outside the graph
NF.const = lambda a: a
TF.const = wrap
