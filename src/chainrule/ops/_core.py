"""The op machinery: how an op is defined once and run in both modes.

An op is one ``Op`` object holding
  * ``forward(*arrays, **params)`` -- NumPy computation of the value,
  * ``vjps`` -- one VJP rule per input, ``rule(F, g, out, *inputs, **params) -> grad``,
    ``None`` for an input that never gets a gradient,
  * ``jvp`` -- ``rule(F, tangents, out, *inputs, **params) -> tangent`` where
    ``tangents`` has ``None`` for inputs without a tangent.

Rules are written against a namespace ``F`` of array functions.  The engine passes
``NF`` (NumPy, raw arrays: the fast path) when no graph of the backward pass is needed,
and ``TF`` (chainrule ops on Tensors) under ``create_graph=True`` or forward mode, so the
same formula gives first-order gradients fast and higher-order gradients exactly.
Broadcasting is undone centrally (``undo_broadcast`` in the engine), never in a rule.

``defop`` builds an ``Op``; ``unary``/``binary`` cover elementwise ops from their local
derivative, ``linear`` marks ops whose JVP is the op itself.
"""
import zlib
from types import FunctionType as _FunctionType

import numpy as np

from .._backend import DEVICE_ARRAY_TYPES as _DEVICE_ARRAY_TYPES, CPU_BACKEND as _CPU, \
    asarray_as as _asarray_as, backend_of as _backend_of, is_device_array as _is_device_array, \
    same_device_error as _same_device_error
from .._dtypes import DEFAULTS, result_np_dtype
from .._tensor import Tensor, track_view as _track_view, vbox as _vbox, wrap
from .._grad_mode import SHARED, STATE
from .._graph import OpNode as _OpNode, make_node_class
from .._rules import NF, TF
from .._specialise import specialise
from .._creation import tensor

__all__ = ["Op", "defop", "apply", "NF", "TF", "unary_op", "binary_op", "public", "PUBLIC"]

_ndarray = np.ndarray
_asarray = np.asarray
_may_share = np.may_share_memory
_new = object.__new__


class Op:
    """One differentiable (or not) operation: forward, VJP per input and JVP together."""
    __slots__ = ("name", "forward", "vjps", "vjp_all", "jvp", "save_inputs", "save_out",
                 "node_cls", "broadcasts", "is_view", "reads", "arity", "fresh", "apply",
                 "__weakref__")

    def __init__(self, name, forward, vjps=None, jvp=None, save_inputs=True, save_out=False,
                 broadcasts=False, is_view=False, backward_name=None, reads=None):
        self.name = name
        # reads[i]: the inputs VJP rule i reads (None: all).  Only inputs read by the rules
        # of inputs that need a gradient are version-checked, as PyTorch saves only those
        # (x * 2 does not keep x, so changing x in place afterwards is fine)
        self.reads = reads
        self.forward = forward
        if callable(vjps):
            # one rule for all inputs (variadic ops such as cat): returns a gradient per input
            self.vjp_all = vjps
            self.vjps = _EVERY_INPUT
        else:
            self.vjp_all = None
            self.vjps = tuple(vjps) if vjps is not None else None
        # the number of tensor inputs, where the rules fix it (``apply`` skips the other
        # kinds of call for it)
        self.arity = len(self.vjps) if isinstance(self.vjps, tuple) else None
        self.jvp = jvp
        self.save_inputs = save_inputs
        self.save_out = save_out
        self.broadcasts = broadcasts
        self.is_view = is_view
        # a NumPy ufunc never returns its input's memory: ``apply`` skips that check
        self.fresh = isinstance(forward, np.ufunc) and not is_view
        bname = backward_name or (name[:1].upper() + name[1:] + "Backward0")
        self.node_cls = make_node_class(bname, self)
        # ``op.apply(args, params=None)``: ``apply`` for this op, generated for its
        # declaration at its first call (see ``_op_apply``)
        self.apply = _FunctionType(_first_apply.__code__, _first_apply.__globals__, "apply",
                                   (None, self))

    def __repr__(self):
        return f"<chainrule op {self.name}>"

    def __call__(self, *args, **params):
        return self.apply(args, params)


class _EveryInput:
    """``vjps`` of an op with a single all-inputs rule: every input is differentiable."""
    __slots__ = ()

    def __getitem__(self, i):
        return True


_EVERY_INPUT = _EveryInput()


class _AllBut:
    """Input indices except those in ``skip``: what a variadic op's rules read when the
    rule of input ``i`` reads every other input (einsum).  Supports what ``apply`` does
    with ``reads`` entries: ``+`` with a tuple or another ``_AllBut`` (a union) and ``in``."""
    __slots__ = ("skip",)

    def __init__(self, skip):
        self.skip = skip

    def __contains__(self, i):
        return i not in self.skip

    def __add__(self, other):
        if isinstance(other, _AllBut):
            return _AllBut(self.skip & other.skip)
        return _AllBut(self.skip - set(other))

    __radd__ = __add__


class _OthersRead:
    """``reads`` of a variadic op whose rule for input ``i`` reads all inputs but ``i``."""
    __slots__ = ()

    def __getitem__(self, i):
        return _AllBut(frozenset((i,)))


OTHERS_READ = _OthersRead()

#: every registered op by name (the rule table; tests iterate over it)
OPS = {}


class Public:
    """One public front end, as its op module declares it with ``public``."""
    __slots__ = ("fn", "names", "function", "method", "inplace")

    def __init__(self, fn, names, function, method, inplace):
        self.fn, self.names, self.function = fn, names, function
        self.method, self.inplace = method, inplace

    def __repr__(self):
        return f"<public {'/'.join(self.names)} from {self.fn.__module__}>"


#: every public front end, in the order the op modules declare them.  ``chainrule``'s
#: exports and ``Tensor``'s methods and in-place methods are bound from this list and from
#: nothing else (``chainrule/_methods.py``, ``chainrule/__init__.py``)
PUBLIC = []


def public(*names, function=True, method=True, inplace=False):
    """Declare an op's public names once, where its front end is defined.

    The function is exported as ``chainrule.<name>`` for its own name or each of ``names``
    (unless ``function=False``), bound as the method ``Tensor.<name>`` (``method=True``; a
    function given as ``method`` is bound instead, with ``self`` first; ``False`` binds
    none) and, with ``inplace=True``, as the in-place method ``Tensor.<name>_``.

    >>> from chainrule.ops._core import PUBLIC
    >>> [p.names for p in PUBLIC if p.fn.__name__ == "asin"]
    [('asin', 'arcsin')]
    """
    def declare(fn):
        PUBLIC.append(Public(fn, names or (fn.__name__,), function, method, inplace))
        return fn
    return declare


def defop(name, forward, vjps=None, jvp=None, **kw):
    """Register an op and return it.

    ``vjps``: sequence of rules ``(F, g, out, *inputs, **params) -> grad`` (``None`` entries
    for non-differentiable inputs), or one callable returning a gradient per input (for
    variadic ops like ``cat``).  ``jvp``: ``(F, tangents, out, *inputs, **params)``.
    Keyword options: ``save_inputs`` (rules read the inputs), ``save_out`` (rules read the
    output), ``broadcasts`` (inputs may broadcast, gradients are summed back), ``is_view``,
    ``backward_name`` (PyTorch's node name, default ``<Name>Backward0``), ``reads`` (per
    input, the indices of the inputs its VJP rule reads; default: all).
    """
    op = Op(name, forward, vjps, jvp, **kw)
    OPS[name] = op
    return op


def unary_op(name, forward, deriv, save_inputs=True, save_out=False, vjp=None, jvp=None,
             **kw):
    """An elementwise op ``y = f(x)`` from its derivative ``deriv(F, out, x) -> f'(x)``:
    VJP is ``g * f'(x)`` and JVP ``t * f'(x)``.  ``vjp``/``jvp``: the same rules written
    out as ``vjp(F, g, out, x)``/``jvp(F, tangents, out, x)`` (a call less per step on hot
    ops, or a form that is not a plain product, as relu's)."""
    if vjp is None:
        def vjp(F, g, out, x, **p):
            return g * deriv(F, out, x, **p)

    if jvp is None:
        def jvp(F, tangents, out, x, **p):
            return tangents[0] * deriv(F, out, x, **p)
    return defop(name, forward, (vjp,), jvp, save_inputs=save_inputs, save_out=save_out, **kw)


def binary_op(name, forward, da, db, save_inputs=True, save_out=False, vjps=None, **kw):
    """A broadcasting elementwise op ``y = f(a, b)`` from its partial derivatives
    ``da(F, out, a, b)`` and ``db(F, out, a, b)``.  ``vjps``: the two VJPs written out
    (``g * da(...)``, ``g * db(...)``), to save a call per backward step on hot ops."""
    if vjps is None:
        def vjp_a(F, g, out, a, b):
            return g * da(F, out, a, b)

        def vjp_b(F, g, out, a, b):
            return g * db(F, out, a, b)
        vjps = (vjp_a, vjp_b)

    def jvp(F, tangents, out, a, b):
        ta, tb = tangents
        r = None if ta is None else ta * da(F, out, a, b)
        if tb is not None:
            r2 = tb * db(F, out, a, b)
            r = r2 if r is None else r + r2
        return r
    return defop(name, forward, vjps, jvp, save_inputs=save_inputs,
                 save_out=save_out, broadcasts=True, **kw)


def linear_jvp(fn):
    """JVP of an op that is linear in its (single) tensor input: apply the op to the
    tangent.  ``fn(F, t, **params)``."""
    def jvp(F, tangents, out, x, **p):
        return fn(F, tangents[0], **p)
    return jvp


# --- running an op ------------------------------------------------------------------------

def _shares_input(out, data):
    """Whether ``out`` (an array with a ``.base``) shares memory with an input array."""
    for a in data:
        if (a.__class__ is _ndarray or _is_device_array(a)) and _may_share(out, a):
            return True
    return False


def _on_two_devices(op, data, params):
    """``op``'s forward raised TypeError (the exception being handled): PyTorch's error
    when the inputs are on two devices; a 0-d CPU input joins a device op (as PyTorch
    lets a CPU scalar tensor do) by being copied there; any other TypeError stands.
    Returns the output and the input arrays it was computed from."""
    err = _same_device_error(data)
    if err is not None:
        raise err from None
    dev = [a for a in data if a.__class__ is not _ndarray and _backend_of(a) is not _CPU]
    if not dev:
        raise
    data = tuple([_asarray_as(dev[0], a) if a.__class__ is _ndarray else a for a in data])
    # (the copies are what the node saves: its rules then run on the device too)
    return (op.forward(*data, **params) if params else op.forward(*data)), data


def apply(op, args, params=None):
    """Run ``op`` on ``args`` (Tensors and constants): the one recording path.

    Every op call ends here: the forward runs on the inputs' arrays, the result is wrapped
    in a new Tensor, a graph node is recorded when an input requires grad in grad mode,
    tangents are propagated when an input carries them, and this thread's observers
    (``viz.record``, anomaly traces; see ``grad_mode.observe``) are told.  ``params``
    holds the op's non-tensor arguments, passed to the forward and the rules as keywords.
    The work is written once, in ``_run``; ``apply`` as it runs is generated from this
    dispatch and ``_run``'s source, with the common kinds of call (one tensor, a tensor
    and a Python number, two tensors; no params) as copies of ``_run`` specialised for
    them and inlined, so that no kind of call pays for another's tests (see
    ``chainrule._specialise``).  Front ends call ``op.apply(args, params)``: the same,
    generated once more per op declaration (see ``_op_apply``).

    >>> import chainrule as torch
    >>> from chainrule.ops._core import OPS, apply
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> apply(OPS["mul"], (x, 3.0)), OPS["mul"].apply((x, 3.0))
    (tensor([3., 6.], grad_fn=<MulBackward0>), tensor([3., 6.], grad_fn=<MulBackward0>))
    """
    if SHARED.observed and not STATE.nested:    # some thread has observers: this one?
        return _apply_observed(op, args, params)
    if not params:
        n = op.arity        # an op is called with one input per rule (None: any number)
        if n is None:
            n = len(args)
        if n == 2:
            a, b = args
            cb = b.__class__
            if a.__class__ is Tensor:
                if cb is Tensor:
                    return _run_tt(op, args, params)
                if cb is float or cb is int:
                    return _run_tn(op, args, params)
        elif n == 1:
            a, = args
            if a.__class__ is Tensor:
                return _run_t(op, args, params)
    return _run(op, args, params)


def _apply_observed(op, args, params):
    """``apply`` in a thread with observers: run the op, then tell each observer
    (``op_ran``).  Ops run inside the op (its JVP rule's, say) are not told:
    ``STATE.nested`` is up while it runs."""
    st = STATE
    st.nested += 1
    try:
        t = apply(op, args, params)
    finally:
        st.nested -= 1
    for ob in st.observers:
        ran = getattr(ob, "op_ran", None)
        if ran is not None:
            ran(op, args, params, t)
    return t


def _run(op, args, params):
    """The work of ``apply``, written once for every kind of call.

    1. The inputs' arrays (``d0``, ``d1``; ``data`` for three or more), and whether an
       input requires grad (``rg``) or carries tangents (``fw``).  ``ta``/``tb``: the
       first/second input is a Tensor; ``nb``: the second is a Python number.
    2. The forward, and the result wrapped in a new Tensor (a view of its input for a view
       op, a copy when a non-view op returned memory of an input).
    3. When an input requires grad in grad mode: the node -- the input nodes (``_next``),
       what the VJP rules read (saved inputs and/or output, with their versions), the
       input shapes when broadcasting must be undone, and ``params``.
    4. Tangents, when an input carries them.
    """
    n = len(args)
    if n == 1:
        a = args[0]
        ta = a.__class__ is Tensor or isinstance(a, Tensor)
        tb = nb = False
        d0 = a._data if ta else a
        rg = ta and a._rg
        fw = ta and a._fw
    elif n == 2:
        a, b = args
        ca = a.__class__
        cb = b.__class__
        # Python numbers are told apart without an isinstance call (x * 0.9 is common)
        ta = ca is Tensor or (ca is not float and ca is not int and isinstance(a, Tensor))
        nb = cb is float or cb is int
        tb = cb is Tensor or (not nb and isinstance(b, Tensor))
        d0 = a._data if ta else a
        d1 = b._data if tb else b
        if ta:
            rg = (a._rg or b._rg) if tb else a._rg
            fw = (a._fw or b._fw) if tb else a._fw
        else:
            rg = tb and b._rg
            fw = tb and b._fw
    else:
        ta = tb = nb = False
        data = tuple([a._data if isinstance(a, Tensor) else a for a in args])
        d0 = data[0] if n else None
        rg = any([a._rg for a in args if isinstance(a, Tensor)])
        fw = STATE.fw_level
    # (``forward`` read as an attribute, then called: ``op.forward(...)`` would be a method
    # lookup, which Python 3.11 does not specialise for a slot: about 25 ns more per op)
    forward = op.forward
    try:
        # (the arrays passed as they are for one and two inputs: no tuple to make and unpack)
        if n == 1:
            out = forward(d0, **params) if params else forward(d0)
        elif n == 2:
            out = forward(d0, d1, **params) if params else forward(d0, d1)
        else:
            out = forward(*data, **params) if params else forward(*data)
    except TypeError:               # tensors on two devices: PyTorch's error
        out, data = _on_two_devices(op, (d0,) if n == 1 else (d0, d1) if n == 2 else data,
                                    params)
        d0 = data[0]
        if n == 2:
            d1 = data[1]
    if out.__class__ is not _ndarray:
        # (0-d inputs give NumPy scalars; a device array stays as it is.  The dict of
        # device array classes is empty while no device is in use: no lookup per op then)
        if not _DEVICE_ARRAY_TYPES or out.__class__ not in _DEVICE_ARRAY_TYPES:
            out = _asarray(out)
    t = _new(Tensor)                # wrap(out), inlined (one call less per op); _node and
    t._data = out                   # _rg are set once, below
    t._grad = None
    t._vc = None
    t._fw = None
    if not op.fresh and out.base is not None:   # (a ufunc's result is always new)
        if op.is_view:
            # a view op's result is a view only when NumPy did not copy (x[[0, 0]], a
            # reshape of a transposed array; PyTorch gives those no _base and their own
            # version counter).  An empty view shares no memory NumPy can see, but is
            # still a view, as in PyTorch
            if _may_share(out, d0) or not out.size:
                src = args[0]
                t._vc = _vbox(src)
                t._base = src if src._base is None else src._base
                _track_view(t)      # so in-place changes of the base re-derive its grad_fn
        elif _shares_input(out, (d0,) if n == 1 else (d0, d1) if n == 2 else data):
            # np.flip, einsum('ij->ji') return views: an in-place change of the result
            # must not write into an input
            out = t._data = out.copy()
    if rg and STATE.enabled and op.vjps is not None:
        node = _new(_OpNode)
        node.op = op
        node._shapes = node._pre_hooks = node._out_fw = None
        versions = None
        if n == 1:
            if op.vjps[0] is not None:
                pa = a._node or a._grad_accumulator()
                pa._uses += 1
                node._next = (pa,)
            else:
                node._next = _NO_NEXT
            # the input is version-checked when the rule that runs reads it
            if op.save_inputs and (op.reads is None or (op.vjps[0] is not None and
                                                        0 in op.reads[0])):
                vc = a._vc
                versions = _V0 if vc is None or not vc[0] else ((0, vc[0], None),)
            if op.save_inputs:
                node._inputs = args
                node._arrays = (d0,)
            else:
                node._inputs = node._arrays = None
            if op.broadcasts and d0.shape != out.shape:
                node._shapes = (d0.shape,)
        elif n == 2:
            pa = (a._node or a._grad_accumulator()) if ta and a._rg and op.vjps[0] is not None \
                else None
            pb = (b._node or b._grad_accumulator()) if tb and b._rg and op.vjps[1] is not None \
                else None
            if pa is not None:
                pa._uses += 1
            if pb is not None:
                pb._uses += 1
            node._next = (pa, pb)
            if op.save_inputs:
                if op.reads is None:
                    keep = _BOTH
                elif tb:            # only the inputs read by the rules that will run
                    keep = (op.reads[0] if pa is not None else ()) + \
                        (op.reads[1] if pb is not None else ())
                else:
                    keep = op.reads[0] if pa is not None else ()
                if ta and 0 in keep:
                    vc = a._vc
                    versions = _V0 if vc is None or not vc[0] else ((0, vc[0], None),)
                if tb and 1 in keep:
                    vc = b._vc
                    if vc is None or not vc[0]:
                        versions = _V1 if versions is None else \
                            (_V01 if versions is _V0 else versions + _V1)
                    else:
                        e = ((1, vc[0], None),)
                        versions = e if versions is None else versions + e
                if ta and nb and 0 not in keep:
                    # a tensor with a number whose rules read only the number (x * 0.9):
                    # keep the number alone, as PyTorch does (``a`` is not kept alive)
                    node._inputs = node._arrays = (None, b)
                elif tb and not ta and (ca is float or ca is int) and 1 not in keep:
                    node._inputs = node._arrays = (a, None)
                else:
                    node._inputs = args
                    node._arrays = (d0, d1)
            else:
                node._inputs = node._arrays = None
            if op.broadcasts and not nb:    # (a number never changes the other's shape)
                so = out.shape
                sa = d0.shape if ta else None
                sb = d1.shape if tb else None
                if (ta and sa != so) or (tb and sb != so):
                    node._shapes = (sa, sb)
        else:
            nxt = []
            i = 0
            for a in args:
                if a.__class__ is Tensor or isinstance(a, Tensor):
                    if a._rg and op.vjps[i] is not None:
                        pa = a._node or a._grad_accumulator()
                        pa._uses += 1
                        nxt.append(pa)
                    else:
                        nxt.append(None)
                else:
                    nxt.append(None)
                i += 1
            node._next = nxt = tuple(nxt)
            if op.save_inputs:
                keep = None
                if op.reads is not None:
                    keep = ()
                    for i, nx in enumerate(nxt):
                        if nx is not None:
                            keep += op.reads[i]
                for i, a in enumerate(args):
                    if (keep is None or i in keep) and isinstance(a, Tensor):
                        vc = a._vc
                        e = ((i, 0 if vc is None else vc[0], None),)
                        versions = e if versions is None else versions + e
                node._inputs = args
                node._arrays = data
            else:
                node._inputs = node._arrays = None
            if op.broadcasts:
                so = out.shape
                if any([isinstance(a, Tensor) and a._data.shape != so for a in args]):
                    node._shapes = tuple([a._data.shape if isinstance(a, Tensor) else None
                                          for a in args])
        node._uses = 0
        if op.save_out:
            node._out = out
            # the output's counter is kept by the node (the node must not keep ``t``); only
            # a view has one already (its base's)
            if op.is_view and t._vc is not None:
                vc = t._vc
                e = ((-1, vc[0], vc),)
            else:
                vc = t._vc = [0]
                e = ((-1, 0, vc),)
            versions = e if versions is None else versions + e
        else:
            node._out = None
        node._versions = versions
        node._params = params
        node._freed = False
        t._node = node
        t._rg = True
    else:
        t._node = None
        t._rg = False
    if fw:              # an input carries tangents (of levels open in this thread or not)
        _forward_tangents(op, args, params, t)
        if t._fw and t._node is not None and op.save_out:
            t._node._out_fw = t._fw       # the saved output keeps its tangents
    return t


_NO_NEXT = (None,)
_BOTH = (0, 1)
# saved-version records ``(input index, version at save time, counter or None)``; the
# counter is read through the saved input itself (``node._inputs[i]``) unless given (the
# output's).  Shared records for inputs saved at version 0: no allocation per op
_V0 = ((0, 0, None),)
_V1 = ((1, 0, None),)
_V01 = ((0, 0, None), (1, 0, None))

# ``apply`` as it runs: the dispatch above with copies of ``_run`` specialised per kind of
# call inlined (the dispatch has bound ``a`` and ``b`` already); other calls run ``_run``
_AB = {"bound": ("a", "b")}
_KINDS = {
    "_run_t": (_run, dict(params=None, n=1, ta=True, tb=False, nb=False), {"bound": ("a",)}),
    "_run_tn": (_run, dict(params=None, n=2, ta=True, tb=False, nb=True, pb=None), _AB),
    "_run_tt": (_run, dict(params=None, n=2, ta=True, tb=True, nb=False), _AB)}
_dispatch = apply
apply = specialise(apply, "apply", inline=_KINDS)


# Each op's own ``op.apply(args, params=None)``, which the front ends call: the same
# dispatch and copies, generated for the op's declaration as well -- what ``_run`` reads
# of the op (``save_inputs``, ``save_out``, ``reads``, which inputs have rules,
# ``broadcasts``, ``is_view``, ``fresh``) becomes constants, so a call tests nothing the op decides
# already, and the op is a default argument (no ``apply`` frame between the front end and
# the work).  Ops with the same declaration share one code object, made at the first call
# of one of them and kept in ``__pycache__`` like ``apply``'s.
def _op_apply(args, params=None, op=None):
    return _dispatch(op, args, params)


def _declaration(op):
    """What ``_run`` reads of ``op``, as constants for its one- and two-input copies
    (``op.vjps``: which inputs have a rule; ``op.reads`` only when it is a plain table)."""
    c = {"op.save_inputs": bool(op.save_inputs), "op.save_out": bool(op.save_out),
         "op.broadcasts": bool(op.broadcasts), "op.is_view": bool(op.is_view),
         "op.fresh": bool(op.fresh),
         "op.arity": op.arity}
    v = op.vjps
    if v is None or v is _EVERY_INPUT:
        c["op.vjps"] = None if v is None else (True, True)
    elif isinstance(v, tuple):
        c["op.vjps"] = tuple(None if f is None else True for f in v[:2])
    r = op.reads
    if r is None or (isinstance(r, tuple) and all(
            isinstance(e, tuple) and all(type(k) is int for k in e) for e in r[:2])):
        c["op.reads"] = None if r is None else tuple(r[:2])
    return c


_APPLIERS = {}      # declaration -> code of its ``op.apply``


def _applier(op):
    decl = _declaration(op)
    key = tuple(sorted(decl.items()))
    code = _APPLIERS.get(key)
    if code is None:
        tag = zlib.crc32(repr(key).encode())
        code = _APPLIERS[key] = specialise(
            _op_apply, f"_apply_{tag:08x}",
            inline={"_dispatch": (_dispatch, decl), **_KINDS}).__code__
    fn = op.apply = _FunctionType(code, _op_apply.__globals__, "apply", (None, op))
    fn.__qualname__ = f"{op.name}.apply"
    fn.__doc__ = f"``apply(op, args, params)`` for op {op.name!r} (generated; see _op_apply)"
    return fn


def _first_apply(args, params=None, op=None):
    return _applier(op)(args, params)


def _forward_tangents(op, args, params, t):
    """Forward mode: compute ``t``'s tangent at every open dual level its inputs carry."""
    st = STATE
    limit = st.fw_limit
    OPEN = st.fw_open
    levels = set()
    for a in args:
        if isinstance(a, Tensor) and a._fw:
            levels.update(lv for lv in a._fw if lv < limit and lv in OPEN)
    if not levels or op.vjps is None:       # no levels, or a non-differentiable op
        return
    if op.jvp is None:
        raise NotImplementedError(f"{op.name}: forward-mode AD (JVP) is not implemented for this op")
    for level in sorted(levels):
        tangents = tuple(a._fw.get(level) if isinstance(a, Tensor) and a._fw else None
                         for a in args)
        if all(x is None for x in tangents):
            continue
        st.fw_limit = level             # lower levels still propagate through the rule
        try:
            tan = op.jvp(TF, tangents, t, *args, **(params or {}))
        finally:
            st.fw_limit = limit
        if tan is None:
            continue
        if not isinstance(tan, Tensor):
            tan = wrap(_asarray(tan, dtype=t._data.dtype))
        if tan._data.shape != t._data.shape:
            tan = TF.broadcast_to(tan, t._data.shape)
        if tan._data.dtype != t._data.dtype:
            tan = tan.to(t.dtype)
        if t._fw is None:
            t._fw = {}
        t._fw[level] = tan


# --- argument normalisation shared by op front-ends -------------------------------------

def as_operand(x):
    """Python scalars stay as they are (NumPy treats them as weak); lists/arrays become
    constant Tensors."""
    if isinstance(x, (Tensor, int, float, bool)):
        return x
    return tensor(x)


def promote(*xs):
    """Cast Tensor operands to PyTorch's result dtype (recorded, so gradients come back in
    each input's own dtype).  Python scalars are left alone."""
    arrays = [x._data if isinstance(x, Tensor) else x for x in xs]
    dt = result_np_dtype(arrays)
    return tuple(x.to(dt) if isinstance(x, Tensor) and x._data.dtype != dt else x for x in xs), dt


def float_dtype_of(x):
    """The floating dtype an integer tensor turns into for ops like sin (the default)."""
    d = x._data.dtype
    return d if d.kind == "f" else DEFAULTS.float.np
