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
import numpy as np

from .._dtypes import DEFAULTS, result_np_dtype
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import SHARED, STATE
from ..autograd.graph import OpNode as _OpNode, make_node_class
from ..autograd.views import track_view as _track_view
from .._tensor import vbox as _vbox

__all__ = ["Op", "defop", "apply", "apply1", "apply_ts", "NF", "TF", "unary_op", "binary_op"]

_ndarray = np.ndarray
_asarray = np.asarray
_may_share = np.may_share_memory
_new = object.__new__


class _Namespace:
    """Array functions for rules; ``NF`` holds NumPy versions, ``TF`` chainrule ones."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"<rule namespace {self._name}>"


NF = _Namespace("numpy")
TF = _Namespace("chainrule")


class Op:
    """One differentiable (or not) operation: forward, VJP per input and JVP together."""
    __slots__ = ("name", "forward", "vjps", "vjp_all", "jvp", "save_inputs", "save_out",
                 "node_cls", "broadcasts", "is_view", "reads", "__weakref__")

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
        self.jvp = jvp
        self.save_inputs = save_inputs
        self.save_out = save_out
        self.broadcasts = broadcasts
        self.is_view = is_view
        bname = backward_name or (name[:1].upper() + name[1:] + "Backward0")
        self.node_cls = make_node_class(bname, self)

    def __repr__(self):
        return f"<chainrule op {self.name}>"

    def __call__(self, *args, **params):
        return apply(self, args, params)


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
        if a.__class__ is _ndarray and _may_share(out, a):
            return True
    return False


def apply(op, args, params=None):
    """Run ``op`` on ``args`` (Tensors and constants) and record a graph node if needed."""
    n = len(args)
    if n == 1:
        a = args[0]
        if a.__class__ is Tensor or isinstance(a, Tensor):
            data = (a._data,)
            rg = a._rg
            fw = a._fw
        else:
            data = (a,)
            rg = fw = False
    elif n == 2:
        a, b = args
        ca = a.__class__
        cb = b.__class__
        # Python numbers are told apart without an isinstance call (x * 0.9 is common)
        ta = ca is Tensor or (ca is not float and ca is not int and isinstance(a, Tensor))
        tb = cb is Tensor or (cb is not float and cb is not int and isinstance(b, Tensor))
        data = (a._data if ta else a, b._data if tb else b)
        rg = (ta and a._rg) or (tb and b._rg)
        fw = (ta and a._fw) or (tb and b._fw)
    else:
        data = tuple([a._data if isinstance(a, Tensor) else a for a in args])
        rg = any([a._rg for a in args if isinstance(a, Tensor)])
        fw = STATE.fw_level
    out = op.forward(*data, **params) if params else op.forward(*data)
    if out.__class__ is not _ndarray:
        out = _asarray(out)
    if out.base is not None and not op.is_view and _shares_input(out, data):
        out = out.copy()        # np.flip, einsum('ij->ji') return views: an in-place change
        #                         of the result must not write into an input
    t = _new(Tensor)            # wrap(out), inlined (one call less per op)
    t._data = out
    t._rg = False
    t._node = None
    t._grad = None
    t._vc = None
    t._fw = None
    # a view op's result is a view only when NumPy did not copy (x[[0, 0]], a reshape of
    # a transposed array copy; PyTorch gives those no _base and their own version counter)
    if op.is_view and out.base is not None and (_may_share(out, data[0]) or not out.size):
        # (an empty view shares no memory NumPy can see, but is still a view, as in PyTorch)
        src = args[0]
        t._vc = _vbox(src)
        t._base = src if src._base is None else src._base
        _track_view(t)              # so in-place changes of the base re-derive its grad_fn
    if rg and STATE.enabled and op.vjps is not None:
        # record the node (written out here rather than in a helper: a call less per op)
        node = _new(_OpNode)
        node.op = op
        vjps = op.vjps
        save = op.save_inputs
        versions = None
        if n == 1:                          # one input, and it requires grad
            if vjps[0] is not None:
                pa = a._node or a._grad_accumulator()
                pa._uses += 1
                nxt = (pa,)
                if save and (op.reads is None or 0 in op.reads[0]):
                    vc = a._vc
                    versions = _V0 if vc is None or not vc[0] else ((0, vc[0], None),)
            else:
                nxt = (None,)
                if save and op.reads is None:
                    vc = a._vc
                    versions = _V0 if vc is None or not vc[0] else ((0, vc[0], None),)
            if op.broadcasts and a._data.shape != out.shape:
                node._shapes = (a._data.shape,)
        elif n == 2:
            pa = (a._node or a._grad_accumulator()) if ta and a._rg and vjps[0] is not None \
                else None
            pb = (b._node or b._grad_accumulator()) if tb and b._rg and vjps[1] is not None \
                else None
            if pa is not None:
                pa._uses += 1
            if pb is not None:
                pb._uses += 1
            nxt = (pa, pb)
            if save:
                reads = op.reads
                if reads is None:
                    keep = _BOTH
                else:               # only the inputs read by the rules that will run
                    keep = (reads[0] if nxt[0] is not None else ()) + \
                        (reads[1] if nxt[1] is not None else ())
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
            # (node._shapes is left at its class default None when no shape changed)
            if op.broadcasts:
                if ta and tb:
                    oshape = out.shape
                    sa = a._data.shape
                    sb = b._data.shape
                    if sa != oshape or sb != oshape:
                        node._shapes = (sa, sb)
                elif (ta and (cb is float or cb is int)) or (tb and (ca is float or ca is int)):
                    pass                    # a Python number never changes the other's shape
                else:
                    oshape = out.shape
                    sa = a._data.shape if ta else None
                    sb = b._data.shape if tb else None
                    if (ta and sa != oshape) or (tb and sb != oshape):
                        node._shapes = (sa, sb)
        else:
            nxt = []
            i = 0
            for a in args:
                if a.__class__ is Tensor or isinstance(a, Tensor):
                    if a._rg and vjps[i] is not None:
                        pa = a._node or a._grad_accumulator()
                        pa._uses += 1
                        nxt.append(pa)
                    else:
                        nxt.append(None)
                    if save:
                        vc = a._vc
                        e = ((i, 0 if vc is None else vc[0], None),)
                        versions = e if versions is None else versions + e
                else:
                    nxt.append(None)
                i += 1
            nxt = tuple(nxt)
        if n > 2:
            shapes = None
            if op.broadcasts:
                oshape = out.shape
                for a in args:
                    if isinstance(a, Tensor) and a._data.shape != oshape:
                        shapes = tuple(a._data.shape if isinstance(a, Tensor) else None
                                       for a in args)
                        break
            if shapes is not None:
                node._shapes = shapes
        if versions is not None and n > 2 and op.reads is not None:
            reads = op.reads
            keep = ()
            i = 0
            for nx in nxt:
                if nx is not None:
                    keep += reads[i]
                i += 1
            versions = tuple([v for v in versions if v[0] in keep]) or None
        node._next = nxt
        node._uses = 0
        if save:
            node._inputs = args
            node._arrays = data
            if n == 2 and op.reads is not None and \
                    ((ta and (cb is float or cb is int) and 0 not in keep) or
                     (tb and (ca is float or ca is int) and 1 not in keep)):
                # tensor with a number whose rules read only the number (x * 0.9): keep the
                # number alone, as PyTorch does (and as apply_ts does)
                node._inputs = node._arrays = (None, b) if ta else (a, None)
        else:
            node._inputs = node._arrays = None
        if op.save_out:
            node._out = out
            # the output's counter is kept by the node (the node must not keep ``t``)
            vc = t._vc
            if vc is None:
                vc = t._vc = [0]
            e = ((-1, vc[0], vc),)
            versions = e if versions is None else versions + e
        else:
            node._out = None
        node._versions = versions
        if params:
            node._params = params
        node._freed = False
        if SHARED.anomaly and STATE.anomaly:     # some thread has it on: is it this one?
            node._trace = _capture_trace()
        t._node = node
        t._rg = True
    if fw:              # an input carries tangents (of levels open in this thread or not)
        _forward_tangents(op, args, params, t)
        if t._fw and t._node is not None and op.save_out:
            t._node._out_fw = t._fw       # the saved output keeps its tangents
    return t


def apply1(op, a):
    """``apply(op, (a,))`` for a Tensor ``a`` and an op whose forward makes a fresh array
    from one array without parameters (elementwise math such as ``sin``): the same
    result and node, with the general case's checks left out.  Hot path."""
    if a._fw or SHARED.anomaly:       # tangents to propagate (any level), or node traces
        return apply(op, (a,))
    d = a._data
    out = op.forward(d)
    if out.__class__ is not _ndarray:
        out = _asarray(out)         # (0-d inputs give NumPy scalars)
    t = _new(Tensor)
    t._data = out
    t._rg = False
    t._node = None
    t._grad = None
    t._vc = None
    t._fw = None
    if a._rg and STATE.enabled:
        vjps = op.vjps
        if vjps is None:
            return t
        node = _new(_OpNode)
        node.op = op
        if vjps[0] is not None:
            pa = a._node or a._grad_accumulator()
            pa._uses += 1
            node._next = (pa,)
        else:
            node._next = (None,)
        node._uses = 0
        versions = None
        if op.save_inputs:
            node._inputs = (a,)
            node._arrays = (d,)
            if op.reads is None or 0 in op.reads[0]:
                vc = a._vc
                versions = _V0 if vc is None or not vc[0] else ((0, vc[0], None),)
        else:
            node._inputs = node._arrays = None
        if op.save_out:
            node._out = out
            vc = t._vc = [0]
            e = ((-1, 0, vc),)
            versions = e if versions is None else versions + e
        else:
            node._out = None
        node._versions = versions
        node._freed = False
        t._node = node
        t._rg = True
    return t


def apply_ts(op, a, b):
    """``apply(op, (a, b))`` for a Tensor ``a``, a Python number ``b`` that needs no dtype
    promotion, and an elementwise op whose forward makes a fresh array (``x * 0.9``):
    the same result and node, with the general case's checks left out.  Hot path.

    (``apply1`` and this repeat each other on purpose: one function with an optional
    second operand measured ~2 % more instructions per op on the elementwise chain.)"""
    if a._fw or SHARED.anomaly:
        return apply(op, (a, b))
    d = a._data
    out = op.forward(d, b)
    if out.__class__ is not _ndarray:
        out = _asarray(out)
    t = _new(Tensor)
    t._data = out
    t._rg = False
    t._node = None
    t._grad = None
    t._vc = None
    t._fw = None
    if a._rg and STATE.enabled:
        vjps = op.vjps
        if vjps is None or vjps[0] is None:
            return apply(op, (a, b))    # (not the ops this is for)
        node = _new(_OpNode)
        node.op = op
        pa = a._node or a._grad_accumulator()
        pa._uses += 1
        node._next = (pa, None)
        node._uses = 0
        versions = None
        if op.save_inputs:
            reads = op.reads
            if reads is None or 0 in reads[0]:
                node._inputs = (a, b)
                node._arrays = (d, b)
                vc = a._vc
                versions = _V0 if vc is None or not vc[0] else ((0, vc[0], None),)
            else:
                # a's rule reads only the number (x * 0.9, x / 2): keep the number alone,
                # as PyTorch does; ``a`` is not kept alive by the graph
                node._inputs = node._arrays = (None, b)
        else:
            node._inputs = node._arrays = None
        if op.save_out:
            node._out = out
            vc = t._vc = [0]
            e = ((-1, 0, vc),)
            versions = e if versions is None else versions + e
        else:
            node._out = None
        node._versions = versions
        node._freed = False
        t._node = node
        t._rg = True
    return t


def apply_tt(op, a, b):
    """``apply(op, (a, b))`` for two Tensors of class ``Tensor`` and an op whose forward
    makes a fresh array from the two arrays without parameters (``a + b``, ``a @ b``): the
    same result and node, with the general case's checks left out.  Hot path (a
    two-tensor ``apply`` runs ~240 bytecodes, most of them for cases these ops never
    have)."""
    if a._fw or b._fw or SHARED.anomaly:
        return apply(op, (a, b))
    da = a._data
    db = b._data
    out = op.forward(da, db)
    if out.__class__ is not _ndarray:
        out = _asarray(out)
    t = _new(Tensor)
    t._data = out
    t._rg = False
    t._node = None
    t._grad = None
    t._vc = None
    t._fw = None
    if (a._rg or b._rg) and STATE.enabled:
        vjps = op.vjps
        if vjps is None:
            return t
        node = _new(_OpNode)
        node.op = op
        pa = pb = None
        if a._rg and vjps[0] is not None:
            pa = a._node or a._grad_accumulator()
            pa._uses += 1
        if b._rg and vjps[1] is not None:
            pb = b._node or b._grad_accumulator()
            pb._uses += 1
        node._next = (pa, pb)
        node._uses = 0
        versions = None
        if op.save_inputs:
            reads = op.reads
            if reads is None:
                keep = _BOTH
            else:               # only the inputs read by the rules that will run
                keep = (reads[0] if pa is not None else ()) + \
                    (reads[1] if pb is not None else ())
            if 0 in keep:
                vc = a._vc
                versions = _V0 if vc is None or not vc[0] else ((0, vc[0], None),)
            if 1 in keep:
                vc = b._vc
                if vc is None or not vc[0]:
                    versions = _V1 if versions is None else \
                        (_V01 if versions is _V0 else versions + _V1)
                else:
                    e = ((1, vc[0], None),)
                    versions = e if versions is None else versions + e
            node._inputs = (a, b)
            node._arrays = (da, db)
        else:
            node._inputs = node._arrays = None
        if op.broadcasts:
            sa = da.shape
            sb = db.shape
            so = out.shape
            if sa != so or sb != so:
                node._shapes = (sa, sb)
        if op.save_out:
            node._out = out
            vc = t._vc = [0]
            e = ((-1, 0, vc),)
            versions = e if versions is None else versions + e
        else:
            node._out = None
        node._versions = versions
        node._freed = False
        t._node = node
        t._rg = True
    return t


_BOTH = (0, 1)
# saved-version records ``(input index, version at save time, counter or None)``; the
# counter is read through the saved input itself (``node._inputs[i]``) unless given (the
# output's).  Shared records for inputs saved at version 0: no allocation per op
_V0 = ((0, 0, None),)
_V1 = ((1, 0, None),)
_V01 = ((0, 0, None), (1, 0, None))


def _capture_trace():
    import traceback
    return traceback.format_stack()[:-2]


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
    from .._creation import tensor
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
