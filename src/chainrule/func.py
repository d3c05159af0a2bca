"""Function transforms in the style of ``torch.func`` (and JAX): ``grad``, ``grad_and_value``,
``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``.

A transform takes a Python function of Tensors and returns a new function.  Transforms nest
freely (``grad(grad(f))``, ``jacfwd(jacrev(f))``, ``jacrev(jvp(...))``):

* the reverse-mode transforms (``grad``, ``vjp``, ``jacrev``) run ``f`` on *fresh* versions
  of the differentiated inputs and call ``autograd.grad``.  An input that already requires
  grad (because an enclosing transform, or the user, differentiates it) is passed through
  an alias op so that the inner result stays connected to the outer graph; the backward pass
  then records its own graph (``create_graph=True``) only when something outside the
  transform needs it.
* the forward-mode transforms (``jvp``, ``jacfwd``) open one forward-AD level per call
  (:mod:`chainrule.autograd.forward_ad`; levels nest, an inner level's JVP rules run on
  Tensors that still carry the outer levels' tangents).

At the outermost level the results carry no graph and no tangents of closed levels.

NumPy inputs: every transform also takes NumPy arrays, NumPy float scalars and Python floats
(and tuples/lists/dicts of them) where it takes Tensors -- as primals, tangents and
cotangents.  They become Tensors of the same dtype (a Python float becomes float64, as
NumPy makes it); integer and bool values are refused (only floating point values can be
differentiated).  When no differentiated input is a Tensor, results come back as NumPy
values: ndarrays, and NumPy scalars (``np.float64``) for 0-d results, as NumPy functions
return them.  The function runs on Tensors, so NumPy calls inside it (``np.sin(x)``,
``np.sum(x, axis=0)``, ``a @ x``) are recorded; see "For NumPy users" in the README.

Cost model (the autograd chapter's two accumulation orders): ``jacfwd`` runs ``f`` once per
*input* element (one forward-mode pass each), ``jacrev`` runs ``f`` once and then one
reverse pass per *output* element.  Use ``jacfwd`` for tall Jacobians (few inputs, many
outputs) and ``jacrev`` for wide ones (many inputs, few outputs); ``benchmarks/
jacobian_shapes.py`` measures both.

>>> import chainrule as torch
>>> from chainrule.func import grad, hessian
>>> x = torch.tensor(2.0)
>>> grad(grad(lambda x: x ** 3))(x)
tensor(12.)
>>> hessian(lambda x: (x ** 3).sum())(torch.tensor([1.0, 2.0]))
tensor([[ 6.,  0.],
        [ 0., 12.]])
"""
import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, Literal, ParamSpec, overload

import numpy as np

from ._backend import zeros_as
from ._tensor import Tensor, vbox, wrap as _wrap
from .autograd import forward_ad as _fw
from .autograd.engine import grad as _autograd_grad
from ._grad_mode import SHARED, STATE, enable_grad, notify
from .ops.shape import stack, VIEW

# The transforms are typed precisely for the common case -- ``f(x: Tensor, ...) -> Tensor``
# differentiated in its first argument (argnums=0, no aux) -- and as returning Any for
# the rest (pytrees, several argnums, aux outputs, NumPy arrays).
_P = ParamSpec("_P")
_TFn = Callable[Concatenate[Tensor, _P], Tensor]
_Argnums = int | tuple[int, ...]

__all__ = ["grad", "grad_and_value", "value_and_grad", "elementwise_grad", "vjp", "jvp",
           "jacrev", "jacfwd", "hessian"]


# --- minimal pytrees: tensors inside (nested) tuples, lists and dicts ----------------------

_LEAF = None


def tree_flatten(obj: Any) -> tuple[list[Any], Any]:
    """``(leaves, spec)`` of a nest of tuples/lists/dicts; anything else is a leaf.

    >>> import chainrule as torch
    >>> from chainrule.func import tree_flatten
    >>> leaves, spec = tree_flatten((torch.tensor(1.), {'b': [torch.tensor(2.)], 'a': 3}))
    >>> leaves
    [tensor(1.), tensor(2.), 3]
    """
    leaves = []

    def go(o):
        if isinstance(o, (tuple, list)) and not hasattr(o, "_fields"):
            return (type(o), [go(c) for c in o])
        if isinstance(o, dict):
            keys = list(o)
            return (dict, keys, [go(o[k]) for k in keys])
        leaves.append(o)
        return _LEAF
    spec = go(obj)
    return leaves, spec


def tree_unflatten(spec: Any, leaves: Sequence[Any]) -> Any:
    """Inverse of :func:`tree_flatten`.

    >>> import chainrule as torch
    >>> from chainrule.func import tree_flatten, tree_unflatten
    >>> leaves, spec = tree_flatten((torch.tensor(1.), {'b': [torch.tensor(2.)]}))
    >>> tree_unflatten(spec, [x * 10 for x in leaves])
    (tensor(10.), {'b': [tensor(20.)]})
    """
    it = iter(leaves)

    def go(s):
        if s is _LEAF:
            return next(it)
        if s[0] is dict:
            return {k: go(c) for k, c in zip(s[1], s[2])}
        return s[0](go(c) for c in s[1])
    return go(spec)


def _spec_str(spec):
    if spec is _LEAF:
        return "*"
    if spec[0] is dict:
        return "{" + ", ".join(f"{k!r}: {_spec_str(c)}" for k, c in zip(spec[1], spec[2])) + "}"
    inner = ", ".join(_spec_str(c) for c in spec[1])
    if spec[0] is tuple:
        return "(" + inner + ("," if len(spec[1]) == 1 else "") + ")"
    return "[" + inner + "]"


# --- helpers shared by the transforms -------------------------------------------------------

def _check_argnums(argnums, nargs):
    if isinstance(argnums, bool) or not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    out = []
    for a in nums:
        if isinstance(a, bool) or not isinstance(a, int):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnum={a}, but only {nargs} positional inputs")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums must be unique, got {argnums}")
    return out


def _check_tensor(x, what="Thing passed to transform API"):
    if not isinstance(x, Tensor):
        raise ValueError(f"{what} must be Tensor, got {type(x)}")
    return x


def _fresh(x, own):
    """A version of input ``x`` that requires grad, for a reverse-mode transform.

    If ``x`` already requires grad it is aliased through a recorded view so the transform's
    results stay differentiable w.r.t. ``x`` (nesting); otherwise it becomes a new leaf that
    shares ``x``'s memory and tangents.  ``own`` collects the new leaves' ids."""
    _check_tensor(x)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"only Tensors of floating point dtype can be differentiated, got "
                           f"an input of dtype {x.dtype}; convert it first (x.double()).")
    if x._rg:
        s = x._data.shape
        return VIEW.apply((x,), {"shape": s, "src": s})
    y = _wrap(x._data)
    y._vc = vbox(x)
    y._rg = True
    if x._fw:
        y._fw = {lv: t for lv, t in x._fw.items() if lv in STATE.fw_open}
    own[id(y)] = y
    return y


def _prepare(args, argnums, own):
    """Replace the differentiated arguments by fresh versions.  Returns the new argument
    list, the flat list of fresh tensors and, per argnum, its pytree spec."""
    args = list(args)
    flat, specs = [], []
    for a in argnums:
        leaves, spec = tree_flatten(args[a])
        new = [_fresh(x, own) for x in leaves]
        flat.extend(new)
        specs.append((spec, len(new)))
        args[a] = tree_unflatten(spec, new)
    return args, flat, specs


def _regroup(flat, specs, single):
    """Split a flat list back into one pytree per argnum (a tuple unless ``single``)."""
    out, i = [], 0
    for spec, n in specs:
        out.append(tree_unflatten(spec, flat[i:i + n]))
        i += n
    return out[0] if single else tuple(out)


#: fresh leaves of transforms that have returned: {id: weakref}.  Graphs reaching only
#: these (and the current transform's own leaves) are not needed outside.
_RETIRED = {}


def _retire(own):
    for i, t in own.items():
        def drop(r, i=i):
            if _RETIRED.get(i) is r:
                del _RETIRED[i]
        _RETIRED[i] = weakref.ref(t, drop)


def _internal(t, own):
    i = id(t)
    if i in own:
        return True
    r = _RETIRED.get(i)
    return r is not None and r() is t


def _depends_on_outside(tensors, own):
    """True if the graph of any of ``tensors`` reaches a leaf requiring grad that is not a
    fresh input of this transform (``own``: {id: tensor}) or of a finished one -- i.e. an
    enclosing transform or the user differentiates the result, so its graph must be kept."""
    stack, seen = [], set()
    for t in tensors:
        if isinstance(t, Tensor) and t._rg:
            if t._node is None:
                if not _internal(t, own):
                    return True
            else:
                stack.append(t._node)
    while stack:
        node = stack.pop()
        if node.op is None:                 # a leaf's accumulator
            if not _internal(node.variable, own):
                return True
            continue
        for n in node._next:
            if n is not None and id(n) not in seen:
                seen.add(id(n))
                stack.append(n)
    return False


def _finalize(t, own):
    """Strip what must not leave the transform: the graph, when it only leads to the
    transform's own fresh inputs, and tangents of forward levels that have been closed."""
    if not isinstance(t, Tensor):
        return t
    fw = t._fw
    if fw:
        fw = {lv: _finalize(tan, own) for lv, tan in fw.items() if lv in STATE.fw_open} or None
    if t._rg and not _depends_on_outside([t], own):
        r = t.detach()
        r._fw = fw
        return r
    if fw is not t._fw:
        t._fw = fw
    return t


def _finalize_tree(obj, own):
    leaves, spec = tree_flatten(obj)
    return tree_unflatten(spec, [_finalize(x, own) for x in leaves])


def _zeros_like(x):
    return _wrap(np.zeros_like(x._data))


def _need_graph(tensors, own):
    """``create_graph`` for the transform's backward: needed when an enclosing transform
    (or the user) differentiates the results, or when forward-mode levels are open (their
    tangents may themselves require grad)."""
    return bool(STATE.fw_level) or _depends_on_outside(tensors, own)


def _split_aux(out, has_aux, api):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) "
                           f"if has_aux is True")
    return out


# --- NumPy values in and out --------------------------------------------------------------

def _is_numpy_leaf(x):
    return isinstance(x, (np.ndarray, np.generic, float, int, complex)) and \
        not isinstance(x, Tensor)


def _leaf_to_tensor(x, what):
    """A NumPy array / NumPy scalar / Python float as a Tensor of the same dtype (Python
    floats: float64).  Integer, bool and complex values are refused, as PyTorch refuses to
    differentiate them."""
    a = np.asarray(x)
    if a.dtype.kind != "f":
        found = f"a Python {type(x).__name__}" if not isinstance(x, (np.ndarray, np.generic)) \
            else f"a NumPy {'array' if isinstance(x, np.ndarray) else 'scalar'} of dtype {a.dtype}"
        raise RuntimeError(f"{what}: only floating point values can be differentiated, got "
                           f"{found} ({x!r}); pass floats instead (e.g. 1.0, or "
                           f"x.astype(np.float64)).")
    return _wrap(a)


def _numpy_in(leaves, what):
    """Convert NumPy leaves to Tensors.  Returns (new leaves, numpy_mode): numpy_mode is True
    when no leaf was a Tensor and at least one was a NumPy value (results go back as NumPy)."""
    out, any_tensor, any_np = [], False, False
    for x in leaves:
        if isinstance(x, Tensor):
            any_tensor = True
        elif _is_numpy_leaf(x):
            any_np = True
            x = _leaf_to_tensor(x, what)
        out.append(x)
    return out, any_np and not any_tensor


def _cotangents_in(leaves, like, what):
    """NumPy cotangents/tangents as Tensors of the dtype of the matching output/primal
    (a Python float cotangent for a float32 output is float32)."""
    out = []
    for x, ref in zip(leaves, list(like) + [None] * (len(leaves) - len(like))):
        if _is_numpy_leaf(x):
            t = _leaf_to_tensor(x, what)
            if isinstance(ref, Tensor) and ref._data.dtype.kind == "f" \
                    and not isinstance(x, np.ndarray):
                t = _wrap(t._data.astype(ref._data.dtype))
            x = t
        out.append(x)
    return out


def _numpy_args(args, nums, what):
    """``args`` with the NumPy leaves of the differentiated arguments turned into Tensors,
    and whether results go back as NumPy values."""
    args = list(args)
    np_mode, any_tensor = False, False
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        new, m = _numpy_in(leaves, what)
        any_tensor = any_tensor or any(isinstance(x, Tensor) for x in leaves)
        np_mode = np_mode or m
        args[a] = tree_unflatten(spec, new)
    return args, np_mode and not any_tensor


def _to_numpy(t):
    """A result Tensor as a NumPy value (0-d: a NumPy scalar), unless it still carries a
    graph or tangents (an enclosing computation differentiates it: keep it a Tensor)."""
    if isinstance(t, Tensor) and not t._rg and not t._fw:
        a = t._data
        # a gradient may be a read-only broadcast view (sum's): give NumPy users an array
        # they can update in place
        r = a[()] if a.ndim == 0 else a if a.flags.writeable else a.copy()
        if SHARED.observed and r is not a:
            notify("numpy_out", a, r)       # (chainrule.compile replays the conversion)
        return r
    return t


def _numpy_out(obj, np_mode):
    if not np_mode:
        return obj
    leaves, spec = tree_flatten(obj)
    return tree_unflatten(spec, [_to_numpy(x) for x in leaves])


def _as_output(out, np_mode):
    """In NumPy mode a function may return a NumPy value that does not depend on the inputs:
    it is a constant output (zero gradient)."""
    if np_mode and _is_numpy_leaf(out) and not isinstance(out, (int, complex)):
        return _wrap(np.asarray(out))
    return out


# --- reverse mode ----------------------------------------------------------------------------

@overload
def grad_and_value(func: _TFn[_P], argnums: Literal[0] = 0, has_aux: Literal[False] = False
                   ) -> Callable[Concatenate[Tensor, _P], tuple[Tensor, Tensor]]: ...
@overload
def grad_and_value(func: Callable[_P, Any], argnums: _Argnums = 0, has_aux: bool = False
                   ) -> Callable[_P, tuple[Any, Any]]: ...


def grad_and_value(func: Callable[_P, Any], argnums: _Argnums = 0, has_aux: bool = False
                   ) -> Callable[_P, tuple[Any, Any]]:
    """Like :func:`grad` but the new function returns ``(gradient, value)``, or
    ``(gradient, (value, aux))`` with ``has_aux=True`` (as ``torch.func``).

    >>> import chainrule as torch
    >>> from chainrule.func import grad_and_value
    >>> grad_and_value(lambda x: (x ** 2).sum())(torch.tensor([1.0, 2.0]))
    (tensor([2., 4.]), tensor(5.))
    """
    api = "grad_and_value(f)(*args)"

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _check_argnums(argnums, len(args))
        args, np_mode = _numpy_args(args, nums, api)
        own = {}
        with enable_grad():
            args2, flat, specs = _prepare(args, nums, own)
            out, aux = _split_aux(func(*args2, **kwargs), has_aux, api)
            out = _as_output(out, np_mode)
            if not isinstance(out, Tensor):
                raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError(f"{api}: Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.dim()} dims. Maybe you wanted to use the "
                                   f"vjp or jacrev APIs instead?")
            if out._rg:
                create = _need_graph([out], own)
                gs = _autograd_grad(out, flat, create_graph=create, retain_graph=create,
                                    allow_unused=True)
            else:
                gs = [None] * len(flat)
            gs = [_finalize(_zeros_like(x) if g is None else g, own) for g, x in zip(gs, flat)]
        g = _regroup(gs, specs, isinstance(argnums, int))
        out = _finalize(out, own)
        aux = _finalize_tree(aux, own) if has_aux else None
        _retire(own)
        return _numpy_out((g, (out, aux)) if has_aux else (g, out), np_mode)
    return wrapper


@overload
def grad(func: _TFn[_P], argnums: Literal[0] = 0, has_aux: Literal[False] = False
         ) -> _TFn[_P]: ...
@overload
def grad(func: Callable[_P, Any], argnums: _Argnums = 0, has_aux: bool = False
         ) -> Callable[_P, Any]: ...


def grad(func: Callable[_P, Any], argnums: _Argnums = 0, has_aux: bool = False
         ) -> Callable[_P, Any]:
    """Gradient transform: ``grad(f)(*args)`` is the gradient of the scalar ``f(*args)``
    w.r.t. ``args[argnums]`` (a pytree of Tensors; a tuple of them when ``argnums`` is a
    tuple).  With ``has_aux=True`` ``f`` returns ``(output, aux)`` and the new function
    returns ``(gradient, aux)``.  One reverse pass per call; nests freely.

    >>> import chainrule as torch
    >>> from chainrule.func import grad
    >>> x = torch.tensor([0.0, 1.0])
    >>> grad(lambda x: torch.sin(x).sum())(x)
    tensor([1.0000, 0.5403])
    >>> grad(grad(lambda x: x ** 4))(torch.tensor(1.0))
    tensor(12.)
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g
    return wrapper


@overload
def value_and_grad(func: _TFn[_P], argnums: Literal[0] = 0, has_aux: Literal[False] = False
                   ) -> Callable[Concatenate[Tensor, _P], tuple[Tensor, Tensor]]: ...
@overload
def value_and_grad(func: Callable[_P, Any], argnums: _Argnums = 0, has_aux: bool = False
                   ) -> Callable[_P, tuple[Any, Any]]: ...


def value_and_grad(func: Callable[_P, Any], argnums: _Argnums = 0, has_aux: bool = False
                   ) -> Callable[_P, tuple[Any, Any]]:
    """Like :func:`grad_and_value` with the pair the other way round, as JAX's and HIPS
    autograd's ``value_and_grad``: the new function returns ``(value, gradient)``, or
    ``((value, aux), gradient)`` with ``has_aux=True``.  Made for optimisers that want both,
    such as ``scipy.optimize.minimize(value_and_grad(f), x0, jac=True)`` (NumPy in, NumPy
    out).

    >>> import numpy as np
    >>> from chainrule.func import value_and_grad
    >>> value, g = value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
    >>> print(value, g)
    5.0 [2. 4.]
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return value, g
    return wrapper


@overload
def elementwise_grad(func: _TFn[_P], argnums: Literal[0] = 0) -> _TFn[_P]: ...
@overload
def elementwise_grad(func: Callable[_P, Any], argnums: _Argnums = 0) -> Callable[_P, Any]: ...


def elementwise_grad(func: Callable[_P, Any], argnums: _Argnums = 0) -> Callable[_P, Any]:
    """Derivative of an elementwise function at every point of its input (HIPS autograd's
    ``elementwise_grad``): the gradient of ``func(x).sum()``, which for a function acting on
    each element separately is the vector of derivatives ``f'(x_i)``.  Nests to any order.

    >>> import numpy as np
    >>> from chainrule.func import elementwise_grad
    >>> x = np.array([0.0, 1.0])
    >>> elementwise_grad(np.tanh)(x)                      # 1 - tanh(x) ** 2
    array([1.        , 0.41997434])
    >>> elementwise_grad(elementwise_grad(np.sin))(x)     # -sin(x)
    array([-0.        , -0.84147098])
    """
    def total(*args, **kwargs):
        out = func(*args, **kwargs)
        if not isinstance(out, Tensor):
            return out
        return out.sum()
    total = functools.wraps(func)(total) if hasattr(func, "__name__") else total
    return grad(total, argnums)


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False
        ) -> tuple[Any, ...]:
    """Vector-Jacobian product: returns ``(func(*primals), vjp_fn)`` (plus ``aux`` with
    ``has_aux``) where ``vjp_fn(cotangents)`` (same structure as the output) returns the
    tuple of gradients, one per primal.  ``vjp_fn`` may be called many times; each call
    is one reverse pass.

    >>> import chainrule as torch
    >>> from chainrule.func import vjp
    >>> out, vjp_fn = vjp(lambda x: x ** 2, torch.tensor([1.0, 2.0]))
    >>> vjp_fn(torch.tensor([1.0, 10.0]))
    (tensor([ 2., 40.]),)
    """
    primals, np_mode = _numpy_args(primals, range(len(primals)), "vjp(f, *primals)")
    own = {}
    with enable_grad():
        args2, flat, specs = _prepare(primals, tuple(range(len(primals))), own)
        out, aux = _split_aux(func(*args2), has_aux, "vjp(f, *primals)")
        out = _as_output(out, np_mode)
        out_leaves, out_spec = tree_flatten(out)
        for o in out_leaves:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"vjp(f, *primals): expected f(*primals) to return only "
                                   f"tensors, got unsupported type {type(o)}")
        create = _need_graph(out_leaves, own)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        c_leaves, c_spec = tree_flatten(cotangents)
        c_leaves = _cotangents_in(c_leaves, out_leaves, "vjp_fn(cotangents)")
        if c_spec != out_spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{_spec_str(c_spec)}, primal output: {_spec_str(out_spec)}")
        pairs = [(o, c) for o, c in zip(out_leaves, c_leaves) if o._rg]
        cg = create_graph
        if cg is None:
            cg = create or any(isinstance(c, Tensor) and (c._rg or c._fw) for _, c in pairs)
        with enable_grad():
            if pairs:
                for o, c in pairs:
                    _check_tensor(c, "cotangent")
                gs = _autograd_grad([o for o, _ in pairs], flat, [c for _, c in pairs],
                                    retain_graph=retain_graph, create_graph=cg,
                                    allow_unused=True)
            else:
                gs = [None] * len(flat)
            gs = [_finalize(_zeros_like(x) if g is None else g, own) for g, x in zip(gs, flat)]
        return _numpy_out(_regroup(gs, specs, False), np_mode)

    result = _numpy_out(_finalize_tree(out, own), np_mode)
    aux = _numpy_out(_finalize_tree(aux, own), np_mode) if has_aux else None
    _retire(own)
    return (result, vjp_fn, aux) if has_aux else (result, vjp_fn)


def _onehot(like, i):
    """A one-hot array of ``like``'s shape, dtype and device (1 at flat position ``i``)."""
    a = zeros_as(like, (like.size,))
    a[i] = 1
    return _wrap(a.reshape(like.shape))


@overload
def jacrev(func: _TFn[_P], argnums: Literal[0] = 0, *, has_aux: Literal[False] = False,
           chunk_size: int | None = None) -> _TFn[_P]: ...
@overload
def jacrev(func: Callable[_P, Any], argnums: _Argnums = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable[_P, Any]: ...


def jacrev(func: Callable[_P, Any], argnums: _Argnums = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable[_P, Any]:
    """Jacobian by reverse mode: ``f`` runs once, then **one reverse pass per output
    element** (each pass gives one row of the Jacobian).  Cheap for wide Jacobians (many
    inputs, few outputs).  Each output leaf's Jacobian has shape
    ``output.shape + input.shape``; the result mirrors the output pytree, with a tuple over
    ``argnums`` inside when ``argnums`` is a tuple.  ``chunk_size`` is accepted and ignored.

    >>> import chainrule as torch
    >>> from chainrule.func import jacrev
    >>> jacrev(lambda x: x.sin())(torch.tensor([0.0, 0.0]))
    tensor([[1., 0.],
            [0., 1.]])
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _check_argnums(argnums, len(args))
        args, np_mode = _numpy_args(args, nums, "jacrev(f, ...)(*args)")
        own = {}
        with enable_grad():
            args2, flat, specs = _prepare(args, nums, own)
            out, aux = _split_aux(func(*args2, **kwargs), has_aux, "jacrev(f, ...)(*args)")
            out = _as_output(out, np_mode)
            out_leaves, out_spec = tree_flatten(out)
            for o in out_leaves:
                if not isinstance(o, Tensor):
                    raise RuntimeError(f"jacrev(f, ...)(*args): expected f(*args) to return "
                                       f"only tensors, got unsupported type {type(o)}")
            create = _need_graph(out_leaves, own)
            jacs = []
            for o in out_leaves:
                rows = [[] for _ in flat]
                n = o._data.size
                if o._rg:
                    for j in range(n):
                        seed = _onehot(o._data, j)
                        gs = _autograd_grad(o, flat, seed, retain_graph=True,
                                            create_graph=create, allow_unused=True)
                        for k, g in enumerate(gs):
                            rows[k].append(g)
                jac = []
                for k, x in enumerate(flat):
                    jac.append(_assemble(rows[k], n, x, o._data.shape + x._data.shape, 0))
                jacs.append(_regroup([_finalize(j, own) for j in jac], specs,
                                     isinstance(argnums, int)))
        result = _numpy_out(tree_unflatten(out_spec, jacs), np_mode)
        aux = _numpy_out(_finalize_tree(aux, own), np_mode) if has_aux else None
        _retire(own)
        return (result, aux) if has_aux else result
    return wrapper


def _assemble(parts, n, x, shape, dim):
    """Stack per-element results (``None``: zero) along ``dim`` into ``shape``."""
    dtype = x._data.dtype
    if n == 0 or not parts or all(p is None for p in parts):
        return _wrap(zeros_as(x._data, shape, dtype))
    like = next(p for p in parts if p is not None)
    parts = [_zeros_like(like) if p is None else p for p in parts]
    return stack(parts, dim).reshape(shape)


# --- forward mode ------------------------------------------------------------------------------

def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> tuple[Any, ...]:
    """Jacobian-vector product by forward mode: returns ``(func(*primals), J @ tangents)``
    (plus ``aux`` with ``has_aux``).  One forward pass, in a new forward-AD level.

    >>> import chainrule as torch
    >>> from chainrule.func import jvp
    >>> jvp(lambda x: x ** 2, (torch.tensor([1.0, 2.0]),), (torch.tensor([1.0, 0.0]),))
    (tensor([1., 4.]), tensor([2., 0.]))
    """
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid "
                           f"to call f(*primals).")
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    p_leaves, np_mode = _numpy_in(p_leaves, api)
    if p_spec == t_spec:
        t_leaves = _cotangents_in(t_leaves, p_leaves, api)
    if p_spec != t_spec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python "
                           f"structure. For example, if primals is a tuple of 3 tensors, "
                           f"tangents also must be. Got primals with structure "
                           f"{_spec_str(p_spec)} and tangents with structure "
                           f"{_spec_str(t_spec)}")
    for x in p_leaves + t_leaves:
        _check_tensor(x)
    with _fw.dual_level() as level:
        duals = [_fw.make_dual(p, t, level=level) for p, t in zip(p_leaves, t_leaves)]
        out, aux = _split_aux(func(*tree_unflatten(p_spec, duals)), has_aux, api)
        o_leaves, o_spec = tree_flatten(_as_output(out, np_mode))
        tans = []
        for o in o_leaves:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                                   f"unsupported type {type(o)}")
            t = o._fw.get(level) if o._fw else None
            tans.append(_zeros_like(o) if t is None else t)
    own = {}
    result = (tree_unflatten(o_spec, [_finalize(o, own) for o in o_leaves]),
              tree_unflatten(o_spec, [_finalize(t, own) for t in tans]))
    if has_aux:
        result = result + (_finalize_tree(aux, own),)
    return _numpy_out(result, np_mode)


@overload
def jacfwd(func: _TFn[_P], argnums: Literal[0] = 0, has_aux: Literal[False] = False, *,
           randomness: str = "error") -> _TFn[_P]: ...
@overload
def jacfwd(func: Callable[_P, Any], argnums: _Argnums = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[_P, Any]: ...


def jacfwd(func: Callable[_P, Any], argnums: _Argnums = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[_P, Any]:
    """Jacobian by forward mode: **one forward pass of ``f`` per input element** (each
    pass, with a one-hot tangent, gives one column of the Jacobian).  Cheap for tall
    Jacobians (few inputs, many outputs).  Result layout as :func:`jacrev`.

    >>> import chainrule as torch
    >>> from chainrule.func import jacfwd
    >>> jacfwd(lambda x: torch.stack([x.sum(), (x * x).sum()]))(torch.tensor([1.0, 2.0]))
    tensor([[1., 1.],
            [2., 4.]])
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _check_argnums(argnums, len(args))
        args, np_mode = _numpy_args(args, nums, "jacfwd(f, ...)(*args)")
        leaves_per, flat = [], []
        for a in nums:
            leaves, spec = tree_flatten(args[a])
            for x in leaves:
                _check_tensor(x)
            leaves_per.append((spec, len(leaves)))
            flat.extend(leaves)
        pos = []                                  # (argnum index, leaf index) of each flat
        for i, (spec, n) in enumerate(leaves_per):
            pos.extend((i, j) for j in range(n))
        cols = [None] * len(flat)                 # cols[k][oi] = list of tangents
        out = aux = None
        with _fw.dual_level() as level:
            def run(k, e):
                call = list(args)
                if k is not None:
                    leaves = [list(tree_flatten(args[a])[0]) for a in nums]
                    ai, li = pos[k]
                    x = leaves[ai][li]
                    leaves[ai][li] = _fw.make_dual(x, _onehot(x._data, e),
                                                   level=level)
                    for (spec, _), a, lv in zip(leaves_per, nums, leaves):
                        call[a] = tree_unflatten(spec, lv)
                o, a = _split_aux(func(*call, **kwargs), has_aux, "jacfwd(f, ...)(*args)")
                return _as_output(o, np_mode), a

            for k, x in enumerate(flat):
                cols[k] = None
                for e in range(x._data.size):
                    o, a = run(k, e)
                    if out is None:
                        out, aux = o, a
                    o_leaves = tree_flatten(o)[0]
                    if cols[k] is None:
                        cols[k] = [[] for _ in o_leaves]
                    for oi, ol in enumerate(o_leaves):
                        if not isinstance(ol, Tensor):
                            raise RuntimeError(f"jacfwd(f, ...)(*args): expected f(*args) to "
                                               f"return only tensors, got unsupported type "
                                               f"{type(ol)}")
                        cols[k][oi].append(ol._fw.get(level) if ol._fw else None)
            if out is None:                        # no input elements at all
                out, aux = run(None, None)
        o_leaves, o_spec = tree_flatten(out)
        own = {}
        jacs = []
        for oi, o in enumerate(o_leaves):
            per = []
            for k, x in enumerate(flat):
                parts = cols[k][oi] if cols[k] is not None else []
                j = _assemble(parts, x._data.size, x, o._data.shape + x._data.shape, -1)
                per.append(_finalize(j, own))
            jacs.append(_regroup(per, leaves_per, isinstance(argnums, int)))
        result = _numpy_out(tree_unflatten(o_spec, jacs), np_mode)
        if has_aux:
            return result, _numpy_out(_finalize_tree(aux, own), np_mode)
        return result
    return wrapper


@overload
def hessian(func: _TFn[_P], argnums: Literal[0] = 0) -> _TFn[_P]: ...
@overload
def hessian(func: Callable[_P, Any], argnums: _Argnums = 0) -> Callable[_P, Any]: ...


def hessian(func: Callable[_P, Any], argnums: _Argnums = 0) -> Callable[_P, Any]:
    """Hessian of a scalar function: ``jacfwd(jacrev(func, argnums), argnums)``
    (forward-over-reverse: one reverse pass per forward pass, one forward pass per input
    element).

    >>> import chainrule as torch
    >>> from chainrule.func import hessian
    >>> hessian(lambda x: (x[0] * x[1]) ** 2)(torch.tensor([1.0, 2.0]))
    tensor([[8., 8.],
            [8., 2.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)
