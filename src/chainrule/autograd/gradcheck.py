"""Checking derivatives against finite differences: ``gradcheck`` and ``gradgradcheck``
(as ``torch.autograd.gradcheck``).

For each differentiable input ``i`` and output ``o`` the full Jacobian is built three ways:

* numerically, by central differences ``(f(x + eps e_k) - f(x - eps e_k)) / (2 eps)``: two
  calls of ``f`` per input element;
* analytically from reverse mode: one VJP (``autograd.grad`` with a one-hot
  ``grad_output``) per output element gives one column;
* with ``check_forward_ad=True``, analytically from forward mode: one JVP (a dual input
  with a one-hot tangent) per input element gives one row.

Jacobians are laid out as PyTorch prints them: shape ``(input numel, output numel)``.
``fast_mode=True`` compares only ``v^T J u`` for random ``u``, ``v``.  Use float64 inputs:
central differences in float32 are too inaccurate for the default tolerances.

>>> import chainrule as torch
>>> from chainrule.autograd import gradcheck
>>> x = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
>>> gradcheck(lambda x: x.sin() * x, (x,), check_forward_ad=True)
True
"""
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor, wrap
from . import forward_ad as _fw
from .engine import grad as _grad
from .._creation import tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck``/``gradgradcheck`` when a check fails (a ``RuntimeError``,
    as in PyTorch)."""


def _tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _is_float(t):
    return isinstance(t, Tensor) and t._data.dtype.kind in "fc"


def _outputs(func, args):
    out = _tuple(func(*args))
    return out


def _flat64(t):
    return np.asarray(t._data, dtype=np.float64).reshape(-1)


def _numerical(func, inputs, diff_idx, n_out_sizes, eps):
    """``num[i][o]``: (numel of input i, numel of output o) central-difference Jacobian."""
    num = {}
    for i in diff_idx:
        x = inputs[i]
        base = np.array(x._data, copy=True)
        flat = base.reshape(-1)
        mats = [np.zeros((flat.size, n)) for n in n_out_sizes]
        for k in range(flat.size):
            vals = []
            for sign in (1, -1):
                p = flat.copy()
                p[k] = p[k] + sign * eps
                xp = wrap(p.reshape(base.shape))
                xp._rg = x._rg
                args = list(inputs)
                args[i] = xp
                outs = _outputs(func, args)
                vals.append([_flat64(o) if _is_float(o) else None for o in outs])
            for o, (a, b) in enumerate(zip(*vals)):
                if o < len(mats) and a is not None:
                    mats[o][k] = (a - b) / (2 * eps)
        num[i] = mats
    return num


def _onehot(t, j):
    a = np.zeros(t._data.size, dtype=t._data.dtype)
    a[j] = 1
    return wrap(a.reshape(t._data.shape))


def _analytical_rev(outs, inputs, diff_idx, check_grad_dtypes, nondet_tol):
    """``an[i][o]`` from one VJP per output element."""
    an = {i: [np.zeros((inputs[i]._data.size, o._data.size if _is_float(o) else 0))
              for o in outs] for i in diff_idx}
    xs = [inputs[i] for i in diff_idx]
    for oi, o in enumerate(outs):
        if not _is_float(o) or not o._rg:
            continue
        for j in range(o._data.size):
            gs = _grad(o, xs, _onehot(o, j), retain_graph=True, allow_unused=True)
            if j == 0 and nondet_tol is not None:
                again = _grad(o, xs, _onehot(o, j), retain_graph=True, allow_unused=True)
                for a, b in zip(gs, again):
                    if a is not None and b is not None and \
                            np.max(np.abs(_flat64(a) - _flat64(b)), initial=0) > nondet_tol:
                        raise GradcheckError(
                            "Backward is not reentrant, i.e., running backward with same input "
                            "and grad_output multiple times gives different values, although "
                            "analytical gradient matches numerical gradient. The tolerance for "
                            f"nondeterminism was {nondet_tol}.")
            for i, x, g in zip(diff_idx, xs, gs):
                if g is None:
                    continue
                if g._data.shape != x._data.shape:
                    raise GradcheckError(f"Gradient for input {i} has shape "
                                         f"{list(g._data.shape)} but the input has shape "
                                         f"{list(x._data.shape)}")
                if check_grad_dtypes and g._data.dtype != x._data.dtype:
                    raise GradcheckError(f"Gradient has dtype mismatch: input {i} is {x.dtype} "
                                         f"but its gradient is {g.dtype}")
                an[i][oi][:, j] = _flat64(g)
    return an


def _analytical_fwd(func, inputs, diff_idx, n_outs):
    """``an[i][o]`` from one JVP per input element."""
    an = {}
    with _fw.dual_level():
        for i in diff_idx:
            x = inputs[i]
            mats = [np.zeros((x._data.size, n)) for n in n_outs]
            for k in range(x._data.size):
                args = list(inputs)
                args[i] = _fw.make_dual(x, _onehot(x, k))
                outs = _outputs(func, args)
                for o, out in enumerate(outs):
                    if o >= len(mats) or not _is_float(out):
                        continue
                    t = _fw.unpack_dual(out).tangent
                    if t is not None:
                        mats[o][k] = _flat64(t)
            an[i] = mats
    return an


def _fmt(m):
    return repr(tensor(m, dtype=None))


def _compare(num, an, outs, diff_idx, atol, rtol, mode):
    for i in diff_idx:
        for o in range(len(outs)):
            n, a = num[i][o], an[i][o]
            if n.shape != a.shape:
                continue
            ok = np.isclose(a, n, rtol=rtol, atol=atol)
            if not ok.all():
                where = [tuple(int(v) for v in p) for p in np.argwhere(~ok)]
                shown = where[:20]
                more = f" (and {len(where) - 20} more)" if len(where) > 20 else ""
                diff = float(np.max(np.abs(a - n)))
                what = "Jacobian mismatch" if mode == "backward" else \
                    "Jacobian computed with forward mode mismatch"
                raise GradcheckError(
                    f"{what} for output {o} with respect to input {i},\n"
                    f"numerical:{_fmt(n)}\nanalytical:{_fmt(a)}\n\n"
                    f"The max per-element difference (slow mode) is: {diff}.\n"
                    f"Entries that differ, as (input element, output element): {shown}{more}.\n"
                    f"Check the {'VJP' if mode == 'backward' else 'JVP'} rule of the ops used "
                    f"(or your Function's {'backward' if mode == 'backward' else 'jvp'}); if "
                    f"the function has a kink or a discontinuity near the input, move the input "
                    f"away from it or lower eps.")


def _fast(func, inputs, diff_idx, outs, eps, atol, rtol, check_backward_ad, check_forward_ad):
    rng = np.random.default_rng(0)
    us = {i: rng.standard_normal(inputs[i]._data.shape) for i in diff_idx}
    vs = [rng.standard_normal(o._data.shape) if _is_float(o) else None for o in outs]
    for i in diff_idx:
        x = inputs[i]
        u = us[i]
        vals = []
        for sign in (1, -1):
            xp = wrap((x._data + sign * eps * u).astype(x._data.dtype))
            xp._rg = x._rg
            args = list(inputs)
            args[i] = xp
            vals.append(_outputs(func, args))
        for o, out in enumerate(outs):
            if vs[o] is None:
                continue
            dnum = (_flat64(vals[0][o]) - _flat64(vals[1][o])) / (2 * eps)
            num = float(np.dot(vs[o].reshape(-1), dnum))
            checks = []
            if check_backward_ad:
                a = 0.0
                if out._rg:
                    (g,) = _grad(out, [x], wrap(vs[o].astype(out._data.dtype)),
                                 retain_graph=True, allow_unused=True)
                    a = 0.0 if g is None else float(np.dot(_flat64(g), u.reshape(-1)))
                checks.append(("Jacobian mismatch", a))
            if check_forward_ad:
                with _fw.dual_level():
                    args = list(inputs)
                    args[i] = _fw.make_dual(x, wrap(u.astype(x._data.dtype)))
                    t = _fw.unpack_dual(_outputs(func, args)[o]).tangent
                    a = 0.0 if t is None else float(np.dot(_flat64(t), vs[o].reshape(-1)))
                checks.append(("Jacobian computed with forward mode mismatch", a))
            for what, a in checks:
                if not np.isclose(a, num, rtol=rtol, atol=atol):
                    raise GradcheckError(
                        f"{what} for output {o} with respect to input {i},\n"
                        f"numerical:{num!r}\nanalytical:{a!r}\n\n"
                        f"(fast mode compares v^T J u for random u, v.) Rerun with "
                        f"fast_mode=False to see the full Jacobians and which entries differ.")


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Compare the analytical derivatives of ``func`` at ``inputs`` (reverse mode, and
    forward mode with ``check_forward_ad=True``) with central finite differences.

    Returns ``True`` on success; on failure raises :class:`GradcheckError` whose message
    shows the numerical and analytical Jacobians and the entries that differ (or returns
    ``False`` with ``raise_exception=False``).  Differentiable inputs are the float
    tensors with ``requires_grad=True``; use float64.

    >>> import chainrule as torch
    >>> from chainrule.autograd import gradcheck
    >>> a = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> gradcheck(torch.exp, (a,))
    True
    """
    try:
        _gradcheck(func, _tuple(inputs), eps, atol, rtol, nondet_tol, check_undefined_grad,
                   check_grad_dtypes, check_forward_ad, check_backward_ad, fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad,
               check_grad_dtypes, check_forward_ad, check_backward_ad, fast_mode):
    diff_idx = [i for i, x in enumerate(inputs) if _is_float(x) and x._rg]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of the them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i]._data.dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          f"point or complex. This check will likely fail if all the inputs are "
                          f"not of double precision floating point or complex. ", stacklevel=3)
    outs = _outputs(func, inputs)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return a Tensor or a tuple of "
                            f"Tensors, got {type(o).__name__}")
    if fast_mode:
        _fast(func, inputs, diff_idx, outs, eps, atol, rtol, check_backward_ad,
              check_forward_ad)
        return
    sizes = [o._data.size if _is_float(o) else 0 for o in outs]
    num = _numerical(func, inputs, diff_idx, sizes, eps)
    if check_backward_ad:
        an = _analytical_rev(outs, inputs, diff_idx, check_grad_dtypes, nondet_tol)
        _compare(num, an, outs, diff_idx, atol, rtol, "backward")
        if check_undefined_grad:
            _check_zero_grad(outs, inputs, diff_idx)
    if check_forward_ad:
        an = _analytical_fwd(func, inputs, diff_idx, sizes)
        _compare(num, an, outs, diff_idx, atol, rtol, "forward")


def _check_zero_grad(outs, inputs, diff_idx):
    """Backward with all-zero output gradients must give zero (or no) input gradients."""
    pairs = [o for o in outs if _is_float(o) and o._rg]
    if not pairs:
        return
    xs = [inputs[i] for i in diff_idx]
    zeros = [wrap(np.zeros_like(o._data)) for o in pairs]
    gs = _grad(pairs, xs, zeros, retain_graph=True, allow_unused=True)
    for i, g in zip(diff_idx, gs):
        if g is not None and np.any(g._data != 0):
            raise GradcheckError(f"Expected backward function to handle undefined (zero) output "
                                 f"gradients: with all-zero grad_outputs the gradient of input "
                                 f"{i} is not zero.")


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool | None = False) -> bool:
    """Check second derivatives: ``gradcheck`` of the function
    ``(inputs, grad_outputs) -> autograd.grad(func(inputs), inputs, grad_outputs,
    create_graph=True)``.  ``check_rev_over_rev`` checks it by reverse mode,
    ``check_fwd_over_rev`` by forward mode (forward-over-reverse).  ``grad_outputs``
    default to random normal tensors (fixed seed).

    >>> import chainrule as torch
    >>> from chainrule.autograd import gradgradcheck
    >>> a = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> gradgradcheck(lambda x: x ** 3, (a,), check_fwd_over_rev=True)
    True
    """
    inputs = _tuple(inputs)
    outs = _outputs(func, inputs)
    diff_outs = [o for o in outs if _is_float(o) and o._rg]
    if grad_outputs is None:
        rng = np.random.default_rng(12345)
        grad_outputs = tuple(wrap(rng.standard_normal(o._data.shape).astype(o._data.dtype))
                             .requires_grad_() for o in diff_outs)
    else:
        grad_outputs = _tuple(grad_outputs)
    n_go = len(grad_outputs)
    diff_in = [i for i, x in enumerate(inputs) if _is_float(x) and x._rg]

    def vjp_func(*args):
        xs, gos = args[:len(args) - n_go], args[len(args) - n_go:]
        o = [t for t in _outputs(func, xs) if _is_float(t) and t._rg]
        gs = _grad(o, [xs[i] for i in diff_in], list(gos), create_graph=True,
                   allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp_func, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, fast_mode=fast_mode)
