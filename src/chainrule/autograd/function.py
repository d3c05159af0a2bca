"""Custom differentiable operations: ``chainrule.autograd.Function`` (as
``torch.autograd.Function``).

A subclass gives ``forward`` and ``backward`` (and optionally ``jvp``) as static methods;
``MyFn.apply(*args)`` runs it.  Each subclass gets its own rule-table ``Op`` (not registered
in ``OPS``) whose forward is the user's forward, whose VJP rule calls the user's
``backward`` and whose JVP rule calls the user's ``jvp``; its graph node is named
``<ClassName>Backward`` like PyTorch's.  The engine needs nothing special:

* first-order backward calls ``backward`` with Tensors under ``no_grad`` (the NumPy path);
* under ``create_graph=True`` (or forward mode) ``backward`` runs with grad mode on, on
  Tensors that keep their graph -- saved inputs are the real inputs and saved *outputs*
  are re-attached to this node -- so a backward written with chainrule ops is itself
  differentiable (double backward), unless decorated with :func:`once_differentiable`.

Several differentiable outputs are packed into one flat array (one node), and each output
is an unpacking op of it (its ``grad_fn`` also reads ``<ClassName>Backward``).

>>> import chainrule as torch
>>> class Exp(torch.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         y = x.exp()
...         ctx.save_for_backward(y)
...         return y
...     @staticmethod
...     def backward(ctx, g):
...         (y,) = ctx.saved_tensors
...         return g * y
>>> x = torch.tensor([0.0, 1.0], requires_grad=True)
>>> y = Exp.apply(x); y
tensor([1.0000, 2.7183], grad_fn=<ExpBackward>)
>>> y.sum().backward(); x.grad
tensor([1.0000, 2.7183])
"""
import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .._tensor import Tensor, vbox, wrap
from .._grad_mode import STATE, no_grad
from .._graph import _type_str, FREED_MSG
from ..ops.reduce import sum_to
from .._dtypes import _FROM_NP
from .._creation import zeros, zeros_like
from ..ops.shape import cat
from ..ops._core import NF, Op, TF

__all__ = ["Function", "FunctionCtx", "once_differentiable", "InplaceFunction"]

_F = TypeVar("_F", bound=Callable[..., Any])


class FunctionCtx:
    """The ``ctx`` object passed to ``forward``/``setup_context``, ``backward`` and ``jvp``.
    Store anything on it; use the methods below for tensors.

    >>> import chainrule as torch
    >>> class Cube(torch.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         x, = ctx.saved_tensors
    ...         return 3 * x ** 2 * g
    ...
    >>> x = torch.tensor(2., requires_grad=True)
    >>> Cube.apply(x).backward(); x.grad
    tensor(12.)
    """

    def __init__(self) -> None:
        self._saved = None            # [(tensor, version box, version, output index or None)]
        self._saved_fw = None
        self._non_diff = set()
        self.materialize_grads = True
        self.needs_input_grad = ()
        self._in_jvp = False
        self._node_ref = None         # weak reference to this call's node (no cycle)
        self._out_data = None         # the packed output array (to re-attach saved outputs)
        self._out_fw = None           # its tangents
        self._layout = None           # [(offset, size, shape, dtype)] per diff output
        self._cls = None
        self.dirty_tensors = ()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors (inputs, outputs or intermediates; ``None`` allowed) for
        ``backward``; read them back with ``ctx.saved_tensors``.  Modifying one in place
        afterwards makes ``saved_tensors`` raise."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}; store "
                                f"non-tensors as ctx attributes (ctx.value = ...)")
        self._saved = [(t, None if t is None else vbox(t),
                        None if t is None else t._version, None) for t in tensors]

    def save_for_forward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for ``jvp`` (read them with ``ctx.saved_tensors`` inside ``jvp``)."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_forward expects all arguments to be Tensors or None")
        self._saved_fw = tuple(tensors)

    def mark_non_differentiable(self, *args: Any) -> None:
        """Declare outputs that have no gradient (indices, masks): they do not require grad
        and ``backward`` receives zeros for them."""
        self._non_diff.update(id(a) for a in args)

    def mark_dirty(self, *args: Any) -> None:
        """Accepted for compatibility: chainrule records no special in-place handling."""
        self.dirty_tensors = args

    def set_materialize_grads(self, value: bool) -> None:
        """With ``False``, ``backward`` gets ``None`` instead of zeros for outputs without a
        gradient (only for outputs that were marked non-differentiable)."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple[Tensor, ...]:
        """The tensors given to ``save_for_backward`` (inside ``jvp``: to
        ``save_for_forward``), checked against in-place modification."""
        if self._in_jvp:
            return self._saved_fw if self._saved_fw is not None else ()
        if self._saved is None:
            return ()
        node = self._node_ref() if self._node_ref is not None else None
        if node is not None and node._freed:
            raise RuntimeError(FREED_MSG)
        name = self._cls.__name__ + "Backward" if self._cls else "Function"
        out = []
        for t, box, version, k in self._saved:
            if t is None:
                out.append(None)
                continue
            if box[0] != version:
                what = f"output {k} of {name}" if k is not None else f"saved by {name}"
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{_type_str(t._data)}], which is {what}, is at "
                    f"version {box[0]}; expected version {version} instead. Hint: modify a "
                    f"copy (tensor.clone()) or save the tensor after the in-place change.")
            if k is not None and (STATE.enabled or STATE.fw_level):
                t = self._reattached_output(k, t)
            out.append(t)
        return tuple(out)

    @property
    def saved_variables(self) -> tuple[Tensor, ...]:
        return self.saved_tensors

    def _reattached_output(self, k, t):
        """A saved output as a tensor whose grad_fn is this call's node, so that a
        differentiable backward also differentiates through the output."""
        node = self._node_ref() if self._node_ref is not None else None
        if node is None or self._out_data is None:
            return t
        packed = wrap(self._out_data)
        packed._node = node
        packed._rg = True
        packed._fw = self._out_fw
        if self._layout is None:
            return packed
        return self._cls._unpack_op.apply((packed,), _unpack_params(self, self._layout[k]))


# --- the ops behind each Function subclass --------------------------------------------------

def _forward(*data, ctx):
    return ctx._out_data


def _vjp_all(F, g, out, *inputs, ctx):
    cls = ctx._cls
    tensor_mode = isinstance(g, Tensor)
    if not tensor_mode:
        g = np.asarray(g)                    # NumPy path: 0-d results may be NumPy scalars
    outs = ctx._n_outputs
    grads = [None] * outs
    if ctx._layout is None:
        grads[ctx._diff_idx[0]] = g
    else:
        for (off, n, shape, dtype), k in zip(ctx._layout, ctx._diff_idx):
            gk = F.reshape(g[off:off + n], shape)
            if (gk._data.dtype if tensor_mode else gk.dtype) != dtype:
                gk = F.cast(gk, dtype)
            grads[k] = gk
    for k in range(outs):
        if grads[k] is None and ctx.materialize_grads and ctx._out_meta[k] is not None:
            shape, dtype = ctx._out_meta[k]
            grads[k] = np.zeros(shape, dtype=dtype)
    grads = [wrap(x) if isinstance(x, np.ndarray) else x for x in grads]
    fn = cls.backward if cls.backward is not Function.backward else cls.vjp
    res = fn(ctx, *grads)
    if not isinstance(res, tuple):
        res = (res,)
    name = cls.__name__ + "Backward"
    inputs_meta = ctx._in_meta
    n = len(inputs_meta)
    if len(res) < n or any(r is not None for r in res[n:]):
        raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                           f"(expected {n}, got {len(res)}); return one gradient per forward "
                           f"input (None for inputs without gradient)")
    result = []
    for i, (r, meta) in enumerate(zip(res, inputs_meta)):
        if r is None or meta is None:
            result.append(None)
            continue
        if not isinstance(r, Tensor):
            raise TypeError(f"function {name} returned a gradient of type {type(r).__name__} "
                            f"at index {i}; gradients must be Tensors or None")
        shape, dtype = meta
        if r._data.shape != shape:
            try:        # a gradient of a broadcast shape is summed back (as PyTorch does)
                ok = np.broadcast_shapes(shape, r._data.shape) == r._data.shape
            except ValueError:
                ok = False
            if not ok:
                raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} "
                                   f"- got {list(r._data.shape)} but expected shape compatible "
                                   f"with {list(shape)}")
            r = sum_to(r, shape)
        if r._data.dtype != dtype:
            r = r.to(_dt(dtype))
        result.append(r if tensor_mode else r._data)
    return result


def _dt(np_dtype):
    return _FROM_NP[np.dtype(np_dtype)]


def _jvp(F, tangents, out, *inputs, ctx):
    cls = ctx._cls
    if cls.jvp is Function.jvp:
        raise NotImplementedError(f"You must implement the jvp function for custom "
                                  f"autograd.Function to use it with forward mode AD "
                                  f"({cls.__name__} has none).")
    tans = []
    for t, x in zip(tangents, inputs):
        if isinstance(x, Tensor):
            tans.append(zeros_like(x) if t is None else t)
        else:
            tans.append(None)
    ctx._in_jvp = True
    try:
        res = cls.jvp(ctx, *tans)
    finally:
        ctx._in_jvp = False
    if not isinstance(res, tuple):
        res = (res,)
    if len(res) != ctx._n_outputs:
        raise RuntimeError(f"{cls.__name__}.jvp returned {len(res)} tangents but forward "
                           f"returned {ctx._n_outputs} outputs; return one per output")
    parts = []
    for k, (off, n, shape, dtype) in zip(ctx._diff_idx, ctx._layout or
                                         [(0, None, None, None)]):
        r = res[k]
        if r is None:
            r = wrap(np.zeros(ctx._out_meta[k][0], dtype=ctx._out_meta[k][1]))
        if ctx._layout is None:
            return r
        parts.append(r.reshape(-1).to(_dt(ctx._out_data.dtype)))
    return cat(parts)


def _delayed_error(F, g, out, *inputs):
    raise RuntimeError("trying to differentiate twice a function that was marked with "
                       "@once_differentiable")


def _place_np(g, offset, total, dtype):
    a = np.zeros(total, dtype=dtype)
    a[offset:offset + g.size] = g.reshape(-1)
    return a


def _place_t(g, offset, total, dtype):
    d = _dt(dtype)
    flat = g.reshape(-1).to(d)
    parts = []
    if offset:
        parts.append(zeros(offset, dtype=d))
    parts.append(flat)
    if total - offset - flat.numel():
        parts.append(zeros(total - offset - flat.numel(), dtype=d))
    return cat(parts) if len(parts) > 1 else parts[0]


def _make_ops(cls):
    NF._function_place = _place_np
    TF._function_place = _place_t
    name = cls.__name__ + "Backward"
    cls._op = Op(cls.__name__, _forward, _vjp_all, _jvp, save_inputs=False,
                 backward_name=name)
    cls._unpack_op = Op(
        cls.__name__ + "_output",
        lambda x, offset, size, shape, dtype, total, pdtype: x[offset:offset + size].reshape(shape)
        .astype(dtype),
        vjps=(lambda F, g, out, x, offset, size, shape, dtype, total, pdtype:
              F._function_place(g, offset, total, pdtype),),
        jvp=lambda F, t, out, x, offset, size, shape, dtype, total, pdtype:
            F.reshape(t[0][offset:offset + size], shape),
        save_inputs=False, backward_name=name)


def _unpack_params(ctx, layout):
    off, n, shape, dtype = layout
    return {"offset": off, "size": n, "shape": shape, "dtype": dtype,
            "total": ctx._out_data.size, "pdtype": ctx._out_data.dtype}


_DELAYED = None


def _delayed_op():
    global _DELAYED
    if _DELAYED is None:
        _DELAYED = Op("delayed_error", lambda x, *deps: x, _delayed_error,
                      lambda F, t, out, *xs: t[0], save_inputs=False,
                      backward_name="Error")
    return _DELAYED


# --- the user-facing class ----------------------------------------------------------------------

class Function:
    """Base class for custom differentiable operations (see the module docstring).

    Subclasses define static methods ``forward(ctx, *args)`` (or ``forward(*args)`` plus
    ``setup_context(ctx, inputs, output)``), ``backward(ctx, *grad_outputs)`` returning one
    gradient per forward input, and optionally ``jvp(ctx, *input_tangents)``.  Call
    ``MyFn.apply(*args)``; never instantiate.

    >>> import chainrule as torch
    >>> class Square(torch.autograd.Function):
    ...     @staticmethod
    ...     def forward(x):
    ...         return x * x
    ...     @staticmethod
    ...     def setup_context(ctx, inputs, output):
    ...         ctx.save_for_backward(inputs[0])
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * g
    ...     @staticmethod
    ...     def jvp(ctx, t):
    ...         return 2 * ctx.x * t
    >>> x = torch.tensor(3.0, requires_grad=True)
    >>> torch.autograd.grad(Square.apply(x), x)
    (tensor(6.),)
    """
    generate_vmap_rule = False

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        _make_ops(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"{type(self).__name__}: custom Functions are used through their "
                           f"static apply method, e.g. {type(self).__name__}.apply(x); do "
                           f"not instantiate them")

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run the Function on ``args`` and record it for reverse (and forward) mode."""
        if cls.forward is Function.forward:
            raise NotImplementedError(f"{cls.__name__}: You must implement the forward "
                                      f"function for custom autograd.Function.")
        ctx = FunctionCtx()
        ctx._cls = cls
        grad_on = STATE.enabled
        ctx.needs_input_grad = tuple(grad_on and isinstance(a, Tensor) and a._rg for a in args)
        new_style = cls.setup_context is not Function.setup_context
        prev_en, prev_lim = STATE.enabled, STATE.fw_limit
        STATE.enabled = False
        STATE.fw_limit = 0               # tangents come from jvp, not from forward's ops
        try:
            if new_style:
                outputs = cls.forward(*args, **kwargs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.enabled, STATE.fw_limit = prev_en, prev_lim
        if new_style:
            cls.setup_context(ctx, args, outputs)
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        ctx._n_outputs = len(outs)
        ctx._out_meta = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None
                         for o in outs]
        ctx._in_meta = [(a._data.shape, a._data.dtype)
                        if isinstance(a, Tensor) and a._data.dtype.kind == "f" else None
                        for a in args]
        diff = [k for k, o in enumerate(outs) if isinstance(o, Tensor)
                and o._data.dtype.kind == "f" and id(o) not in ctx._non_diff]
        ctx._diff_idx = diff
        record = grad_on and any(isinstance(a, Tensor) and a._rg for a in args)
        forward = bool(STATE.fw_level) and any(isinstance(a, Tensor) and a._fw for a in args)
        if not diff or not (record or forward):
            return outputs
        # mark saved outputs (so backward can re-attach them to this node)
        if ctx._saved:
            idx = {id(o): k for k, o in enumerate(outs) if isinstance(o, Tensor)}
            ctx._saved = [(t, b, v, idx.get(id(t))) for t, b, v, _ in ctx._saved]
        if len(diff) == 1:
            ctx._out_data = outs[diff[0]]._data
        else:
            dtype = np.result_type(*[outs[k]._data.dtype for k in diff])
            layout, off = [], 0
            for k in diff:
                d = outs[k]._data
                layout.append((off, d.size, d.shape, d.dtype))
                off += d.size
            ctx._layout = layout
            ctx._out_data = np.concatenate([outs[k]._data.reshape(-1).astype(dtype)
                                            for k in diff]) if off else np.zeros(0, dtype)
        packed = cls._op.apply(args, {"ctx": ctx})
        if packed._node is not None:
            ctx._node_ref = weakref.ref(packed._node)
            if ctx._saved:
                # something to free: backward without retain_graph releases it, and a
                # second backward then raises PyTorch's "backward through the graph a
                # second time" error
                packed._node._out = ctx._out_data
        ctx._out_fw = packed._fw
        result = list(outs)
        if ctx._layout is None:
            k = diff[0]
            packed._vc = vbox(outs[k])     # in-place on the output is detected
            result[k] = packed
        else:
            for layout, k in zip(ctx._layout, diff):
                o = cls._unpack_op.apply((packed,), _unpack_params(ctx, layout))
                o._vc = vbox(outs[k])
                result[k] = o
        return tuple(result) if is_tuple else result[0]


class InplaceFunction(Function):
    """Accepted for compatibility (``inplace`` flag stored, no special handling).

    >>> import chainrule as torch
    >>> class Double(torch.autograd.InplaceFunction):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return x * 2
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         return g * 2
    ...
    >>> x = torch.tensor(1., requires_grad=True)
    >>> Double.apply(x).backward(); x.grad
    tensor(2.)
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()


def once_differentiable(fn: _F) -> _F:
    """Decorator for ``backward``: it runs without recording a graph, and differentiating
    its result again (double backward) raises an error instead of silently giving wrong
    values.

    >>> import chainrule as torch
    >>> from chainrule.autograd.function import once_differentiable
    >>> class Cube(torch.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     @once_differentiable
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * g
    >>> x = torch.tensor(2.0, requires_grad=True)
    >>> torch.autograd.grad(Cube.apply(x), x)
    (tensor(12.),)
    """
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not STATE.enabled:
            return outputs
        deps = tuple(a for a in args if isinstance(a, Tensor) and a._rg)
        if not deps:
            return outputs
        op = _delayed_op()
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        outs = tuple(op.apply((o,) + deps) if isinstance(o, Tensor)
                     and o._data.dtype.kind == "f" else o for o in outs)
        return outs if is_tuple else outs[0]
    return wrapper
