"""Higher-level autograd on functions, as ``torch.autograd.functional``: ``vjp``, ``jvp``,
``jacobian``, ``hessian``, ``vhp``, ``hvp``.

``inputs`` is a Tensor or a tuple of Tensors, and results come back in the same form.
With ``create_graph=False`` (default) results are detached; with ``create_graph=True``
they stay differentiable w.r.t. the inputs (when those require grad).  ``strict=True``
raises when an output is independent of an input instead of returning zeros.
``vectorize`` is accepted: chainrule always loops (one pass per row or column).

``jvp`` and ``hvp`` use forward mode (``hvp`` is forward-over-reverse), ``vjp`` and ``vhp``
reverse mode; ``jacobian`` uses one reverse pass per output element (``strategy=
"reverse-mode"``) or one forward pass per input element (``"forward-mode"``).

>>> import chainrule as torch
>>> from chainrule.autograd.functional import jacobian, hvp
>>> jacobian(lambda x: x ** 2, torch.tensor([1.0, 2.0]))
tensor([[2., 0.],
        [0., 4.]])
>>> hvp(lambda x: (x ** 3).sum(), torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))
(tensor(9.), tensor([ 6., 12.]))
"""
from collections.abc import Callable
from typing import Any

import numpy as np

from . import forward_ad as _fw
from .engine import grad as _grad
from .._grad_mode import enable_grad
from .._tensor import Tensor, wrap
from .._creation import ones_like, zeros, zeros_like
from ..ops.shape import stack
from ..func import _fresh

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _Tensor():
    return Tensor


def _as_tuple(x, arg_name, fn_name):
    """``(tuple_of_tensors, was_tuple)``, checking the types like PyTorch."""
    Tensor = _Tensor()
    was_tuple = isinstance(x, tuple)
    xs = x if was_tuple else (x,)
    for i, el in enumerate(xs):
        if not isinstance(el, Tensor):
            if was_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or "
                                f"a tuple of Tensors but the value at index {i} has type "
                                f"{type(el)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the given {arg_name} has type {type(el)}.")
    return xs, was_tuple


def _untuple(xs, was_tuple):
    return tuple(xs) if was_tuple else xs[0]


def _untuple2(res, out_tuple, in_tuple):
    """Nested results ``res[i][j]`` (output i, input j) in PyTorch's layout."""
    if not in_tuple:
        res = [r[0] for r in res]
    else:
        res = [tuple(r) for r in res]
    return tuple(res) if out_tuple else res[0]


def _prepare(inputs, create_graph):
    """Inputs that require grad for this call: an alias keeping the connection to the
    caller's graph under ``create_graph``, else detached copies."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(x.detach().requires_grad_(x.is_floating_point()))
    return tuple(out)


def _post(xs, create_graph):
    return tuple(x if x is None or create_graph else x.detach() for x in xs)


def _validate_v(v, other, was_tuple, fn_name):
    if len(v) != len(other):
        if was_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but "
                               f"got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            pre = f"Entry {i} in " if was_tuple else ""
            raise RuntimeError(f"{pre}v has invalid size: should be {b.shape} but got "
                               f"{a.shape}.")


def _check_outputs_rg(outputs, strict):
    if strict:
        for i, o in enumerate(outputs):
            if not o.requires_grad:
                raise RuntimeError(f"Output {i} of the user-provided function does not require "
                                   f"gradients. The outputs must be computed in a differentiable "
                                   f"manner from the input when running in strict mode.")


def _fill(grads, refs, strict, create_graph, what="output of the user-provided function"):
    res = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {what} is independent of input {i}. This is not "
                                   f"allowed in strict mode.")
            g = zeros_like(r)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(f"The gradient with respect to input {i} is independent of the "
                               f"inputs of the user-provided function. This is not allowed in "
                               f"strict mode when create_graph=True.")
        res.append(g)
    return res


def _autograd(outputs, inputs, grad_outputs, create_graph):
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    return list(_grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                      create_graph=create_graph, retain_graph=True, allow_unused=True))


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> Any:
    """``(func(inputs), v^T J)``: vector-Jacobian product by one reverse pass.

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import vjp
    >>> vjp(lambda x: x * 3, torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))
    (tensor([3., 6.]), tensor([3., 3.]))
    """
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "vjp")
        xs = _prepare(xs, create_graph)
        outs, out_tuple = _as_tuple(func(*xs), "outputs of the user-provided function", "vjp")
        _check_outputs_rg(outs, strict)
        if v is not None:
            vs, _ = _as_tuple(v, "v", "vjp")
            _validate_v(vs, outs, out_tuple, "vjp")
        else:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided "
                                   "function returns a single Tensor with a single element.")
            vs = (ones_like(outs[0]),)
        gs = _autograd(outs, xs, vs, create_graph)
        gs = _fill(gs, xs, strict, create_graph)
    return _untuple(_post(outs, create_graph), out_tuple), _untuple(_post(gs, create_graph),
                                                                    in_tuple)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> Any:
    """``(func(inputs), J v)``: Jacobian-vector product by one forward-mode pass.

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import jvp
    >>> jvp(lambda x: x ** 2, torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "jvp")
        if v is not None:
            vs, _ = _as_tuple(v, "v", "jvp")
            _validate_v(vs, xs, in_tuple, "jvp")
        else:
            if len(xs) != 1 or xs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single "
                                   "element.")
            vs = (ones_like(xs[0]),)
        xs = _prepare(xs, create_graph)
        with _fw.dual_level():
            duals = tuple(_fw.make_dual(x, t) for x, t in zip(xs, vs))
            outs, out_tuple = _as_tuple(func(*duals), "outputs of the user-provided function",
                                        "jvp")
            _check_outputs_rg(outs, strict)
            prims, tans = [], []
            for i, o in enumerate(outs):
                p, t = _fw.unpack_dual(o)
                if t is None:
                    if strict:
                        raise RuntimeError(f"The output of the user-provided function is "
                                           f"independent of input {i}. This is not allowed "
                                           f"in strict mode.")
                    t = zeros_like(o)
                prims.append(p)
                tans.append(t)
    return (_untuple(_post(prims, create_graph), out_tuple),
            _untuple(_post(tans, create_graph), out_tuple))


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: for output ``i`` and input ``j`` a Tensor of
    shape ``outputs[i].shape + inputs[j].shape`` (nested tuples when either is a tuple).

    ``strategy="reverse-mode"``: one reverse pass per output element; ``"forward-mode"``
    (PyTorch requires ``vectorize=True`` with it): one forward pass per input element.

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import jacobian
    >>> jacobian(lambda x, y: x * y, (torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])))
    (tensor([[3., 0.],
            [0., 4.]]), tensor([[1., 0.],
            [0., 2.]]))
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                'torch.autograd.functional.jacobian: `create_graph=True` and `strategy='
                '"forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                               '`strategy="forward-mode"` are not supported together (yet). '
                               'Please either set `strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-"
                                      "reverse Hessian is only implemented for `vectorize=True`.")
        return _jacobian_fwd(func, inputs)
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
        xs = _prepare(xs, create_graph)
        outs, out_tuple = _as_tuple(func(*xs), "outputs of the user-provided function",
                                    "jacobian")
        _check_outputs_rg(outs, strict)
        res = []
        for i, o in enumerate(outs):
            rows = [[] for _ in xs]
            flat = o.reshape(-1)
            for e in range(o.numel()):
                if flat.requires_grad:
                    gs = _grad(flat[e], xs, retain_graph=True, create_graph=create_graph,
                               allow_unused=True)
                else:
                    gs = [None] * len(xs)
                for j, (g, x) in enumerate(zip(gs, xs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is "
                                               f"independent of input {j}. This is not allowed "
                                               f"in strict mode.")
                        g = zeros(x.shape, dtype=x.dtype)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(f"The jacobian of the user-provided function is "
                                           f"independent of input {j}. This is not allowed in "
                                           f"strict mode when create_graph=True.")
                    rows[j].append(g)
            per = []
            for j, x in enumerate(xs):
                shape = tuple(o.shape) + tuple(x.shape)
                if rows[j]:
                    J = stack(rows[j], 0).reshape(shape)
                else:
                    J = zeros(shape, dtype=x.dtype)
                per.append(J if create_graph else J.detach())
            res.append(per)
    return _untuple2(res, out_tuple, in_tuple)


def _jacobian_fwd(func, inputs):
    xs, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
    xs = tuple(x.detach() for x in xs)
    cols = [None] * len(xs)
    outs = out_tuple = None
    with _fw.dual_level():
        for j, x in enumerate(xs):
            cols[j] = []
            for e in range(x.numel()):
                t = np.zeros(x._data.size, dtype=x._data.dtype)
                t[e] = 1
                dual = _fw.make_dual(x, wrap(t.reshape(x._data.shape)))
                args = xs[:j] + (dual,) + xs[j + 1:]
                outs, out_tuple = _as_tuple(func(*args), "outputs of the user-provided function",
                                            "jacobian")
                cols[j].append([_fw.unpack_dual(o).tangent for o in outs])
        if outs is None:
            outs, out_tuple = _as_tuple(func(*xs), "outputs of the user-provided function",
                                        "jacobian")
    res = []
    for i, o in enumerate(outs):
        per = []
        for j, x in enumerate(xs):
            shape = tuple(o.shape) + tuple(x.shape)
            parts = [c[i] if c[i] is not None else zeros_like(o) for c in cols[j]]
            per.append(stack(parts, -1).reshape(shape).detach() if parts
                       else zeros(shape, dtype=x.dtype))
        res.append(per)
    return _untuple2(res, out_tuple, in_tuple)


def _single_scalar(func, fn_name):
    def f(*xs):
        out = func(*xs)
        outs, was_tuple = _as_tuple(out, "outputs of the user-provided function", fn_name)
        if was_tuple and len(outs) != 1:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
        if outs[0].numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                               f"contain a single element")
        return outs[0].reshape(())
    return f


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: ``H[i][j]`` of shape
    ``inputs[i].shape + inputs[j].shape`` (a single Tensor for a single input).  Computed
    as the Jacobian (``outer_jacobian_strategy``) of the reverse-mode gradient.

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), torch.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    xs, in_tuple = _as_tuple(inputs, "inputs", "hessian")
    f = _single_scalar(func, "hessian")

    def gradient(*ys):
        if outer_jacobian_strategy == "forward-mode":
            ys = tuple(y if y.requires_grad else _fresh(y, {}) for y in ys)
        with enable_grad():
            out = f(*ys)
            _check_outputs_rg((out,), strict)
            gs = _autograd((out,), ys, (None,), True) if out.requires_grad else [None] * len(ys)
            gs = _fill(gs, ys, strict, False)
        return tuple(gs)

    if outer_jacobian_strategy == "forward-mode":
        res = jacobian(gradient, xs, create_graph=create_graph, strict=strict,
                       vectorize=vectorize, strategy="forward-mode")
    else:
        res = jacobian(gradient, xs, create_graph=create_graph, strict=strict,
                       vectorize=vectorize, strategy="reverse-mode")
    # res[i][j]: derivative of gradient i w.r.t. input j
    if not in_tuple:
        return res[0][0]
    return res


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> Any:
    """``(func(inputs), v^T H)`` by reverse-over-reverse (two reverse passes).

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import vhp
    >>> vhp(lambda x: (x ** 3).sum(), torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
    (tensor(9.), tensor([6., 0.]))
    """
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "vhp")
        xs = _prepare(xs, create_graph)
        vs = _hv_vector(v, xs, in_tuple, "vhp")
        out = _single_scalar(func, "vhp")(*xs)
        _check_outputs_rg((out,), strict)
        gs = _autograd((out,), xs, (None,), True)
        gs = _fill(gs, xs, strict, False)
        hs = _autograd(gs, xs, vs, create_graph)
        hs = _fill(hs, xs, strict, create_graph, what="jacobian of the user-provided function")
    return _post((out,), create_graph)[0], _untuple(_post(hs, create_graph), in_tuple)


def _hv_vector(v, xs, in_tuple, fn_name):
    if v is not None:
        vs, _ = _as_tuple(v, "v", fn_name)
        _validate_v(vs, xs, in_tuple, fn_name)
        return vs
    if len(xs) != 1 or xs[0].numel() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")
    return (ones_like(xs[0]),)


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> Any:
    """``(func(inputs), H v)`` by forward-over-reverse: one forward-mode pass through the
    reverse-mode gradient.

    >>> import chainrule as torch
    >>> from chainrule.autograd.functional import hvp
    >>> hvp(lambda x: (x ** 3).sum(), torch.tensor([1.0, 2.0]), torch.tensor([0.0, 1.0]))
    (tensor(9.), tensor([ 0., 12.]))
    """
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "hvp")
        xs = _prepare(xs, create_graph)
        vs = _hv_vector(v, xs, in_tuple, "hvp")
        with _fw.dual_level():
            duals = tuple(_fw.make_dual(x, t) for x, t in zip(xs, vs))
            out = _single_scalar(func, "hvp")(*duals)
            _check_outputs_rg((out,), strict)
            gs = _autograd((out,), duals, (None,), create_graph)
            gs = _fill(gs, xs, strict, False)
            hs = []
            for i, g in enumerate(gs):
                t = _fw.unpack_dual(g).tangent
                if t is None:
                    if strict:
                        raise RuntimeError(f"The jacobian of the user-provided function is "
                                           f"independent of input {i}. This is not allowed in "
                                           f"strict mode.")
                    t = zeros_like(xs[i])
                hs.append(t)
            val = _fw.unpack_dual(out).primal
    return _post((val,), create_graph)[0], _untuple(_post(hs, create_graph), in_tuple)
