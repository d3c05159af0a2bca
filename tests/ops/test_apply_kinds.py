"""``apply`` runs copies of ``_run`` specialised for one tensor, a tensor with a Python
number and two tensors (``chainrule._specialise``), and each op's own ``op.apply`` (what
the front ends call) runs them specialised for the op's declaration too.  Each must record
exactly what the general ``_run`` records: the same value, node class, inputs, saved values
and saved versions, so the backward, its in-place checks and the graph drawings cannot
tell them apart."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.ops import activation as ACT
from chainrule.ops import arithmetic as AR
from chainrule.ops import matmul as MM
from chainrule.ops import special as SP
from chainrule.ops import unary as U
from chainrule.ops._core import apply, _run


VIA = {"apply": lambda op, args: apply(op, args),           # the dispatch's copies
       "op.apply": lambda op, args: op.apply(args)}         # the op's own copies


@pytest.fixture(params=list(VIA))
def via(request):
    return VIA[request.param]


def apply1(via, op, x):
    return via(op, (x,))                # the one-tensor copy


def apply_ts(via, op, x, number):
    return via(op, (x, number))         # the tensor-with-number copy


def apply_tt(via, op, x, y):
    return via(op, (x, y))              # the two-tensor copy


def general(op, args):
    return _run(op, args, None)         # the source they are generated from

UNARY = [U.EXP, U.LOG, U.SIN, U.COS, U.TANH, U.SQRT, ACT.SIGMOID, ACT.RELU, U.TAN, U.ASIN,
         U.ACOS, U.ATAN, U.SINH, U.COSH, U.ASINH, U.ATANH, U.RSQRT, U.RECIPROCAL, SP.ERF]
BINARY = [AR.ADD, AR.SUB, AR.MUL, AR.DIV]


def _fields(t):
    n = t._node
    if n is None:
        return None
    vers = tuple((i, v, None if b is None else "box") for i, v, b in (n._versions or ()))
    return (n.name(), len(n._next), n._inputs is not None,
            None if n._arrays is None else len(n._arrays), n._out is not None, vers,
            n._params, n._shapes)


def _x(shape=(3,), dtype=cr.float64):
    return cr.tensor(np.linspace(0.15, 0.85, int(np.prod(shape))).reshape(shape),
                     dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("op", UNARY, ids=lambda o: o.name)
@pytest.mark.parametrize("shape", [(3,), ()], ids=["vec", "0d"])
def test_one_tensor_copy_records_what_run_records(via, op, shape):
    x = _x(shape)
    a, b = apply1(via, op, x), general(op, (x,))
    np.testing.assert_array_equal(a._data, b._data)
    assert a._data.dtype == b._data.dtype and a._data.shape == b._data.shape
    assert _fields(a) == _fields(b)
    ga, = cr.autograd.grad(a.sum(), x)
    gb, = cr.autograd.grad(b.sum(), x)
    np.testing.assert_array_equal(ga.numpy(), gb.numpy())


@pytest.mark.parametrize("op", BINARY, ids=lambda o: o.name)
@pytest.mark.parametrize("number", [0.7, 3])
def test_tensor_number_copy_records_what_run_records(via, op, number):
    x = _x((2, 2), cr.float32)
    a, b = apply_ts(via, op, x, number), general(op, (x, number))
    np.testing.assert_array_equal(a._data, b._data)
    assert a._data.dtype == b._data.dtype == np.float32
    assert _fields(a) == _fields(b)
    if op.save_inputs and op.reads is not None and 0 not in op.reads[0]:
        # x * 0.9 keeps only the number (PyTorch saves only the scalar too)
        assert a._node._inputs == (None, number) == b._node._inputs
    ga, = cr.autograd.grad(a.sum(), x, create_graph=True)
    gb, = cr.autograd.grad(b.sum(), x, create_graph=True)
    np.testing.assert_array_equal(ga.detach().numpy(), gb.detach().numpy())
    def saved(t):
        ins = t._node._inputs
        return None if ins is None else [id(v) if isinstance(v, cr.Tensor) else v for v in ins]
    assert saved(a) == saved(b)


_TT_CASES = [(op, shapes) for op in BINARY
             for shapes in (((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 3), (2, 1)), ((3,), ()))]
_TT_CASES.append((MM.MM, ((2, 3), (3, 2))))


@pytest.mark.parametrize("op,shapes", _TT_CASES,
                         ids=[f"{op.name}-{'x'.join(map(str, b)) or '0d'}" for op, (a, b)
                              in _TT_CASES])
@pytest.mark.parametrize("rg", [(True, True), (True, False), (False, True)],
                         ids=["both", "a", "b"])
@pytest.mark.parametrize("bumped", [False, True], ids=["v0", "v1"])
def test_two_tensor_copy_records_what_run_records(via, op, shapes, rg, bumped):
    def make(shape, seed, r):
        t = cr.tensor(np.linspace(0.2, 0.9 + seed, int(np.prod(shape))).reshape(shape),
                      dtype=cr.float64, requires_grad=r)
        t = t * 1.0 if r else t             # a non-leaf, so it can change in place
        if bumped:
            t.mul_(1.0)                     # saved at version 1: a record of its own
        return t
    x, y = make(shapes[0], 0.0, rg[0]), make(shapes[1], 0.5, rg[1])
    a, b = apply_tt(via, op, x, y), general(op, (x, y))
    np.testing.assert_array_equal(a._data, b._data)
    assert _fields(a) == _fields(b)
    assert [id(v) for v in a._node._inputs or ()] == [id(v) for v in b._node._inputs or ()]
    wrt = [t for t in (x, y) if t.requires_grad]
    ga = cr.autograd.grad(a.sum(), wrt, create_graph=True)
    gb = cr.autograd.grad(b.sum(), wrt, create_graph=True)
    for u, v in zip(ga, gb):
        np.testing.assert_array_equal(u.detach().numpy(), v.detach().numpy())
    # and the in-place check sees the same saved inputs
    outcomes = []
    for fn in (lambda o, p, q: apply_tt(via, o, p, q), lambda o, p, q: general(o, (p, q))):
        x2, y2 = make(shapes[0], 0.0, rg[0]), make(shapes[1], 0.5, rg[1])
        r = fn(op, x2, y2)
        (x2 if rg[0] else y2).mul_(2.0)     # change an input that needs a gradient
        try:
            r.sum().backward()
            outcomes.append("ok")
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e)
            outcomes.append("raised")
    assert outcomes[0] == outcomes[1]


def test_apply_kinds_keep_inplace_checks_like_torch():
    # a saved output changed in place, and a saved input changed in place, both raise
    for m in (cr, torch):
        x = m.tensor([0.2, 0.4], dtype=m.float64, requires_grad=True)
        y = x * 1.0
        z = y.exp()                      # saves its output
        z.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
        y2 = x * 1.0
        w = y2.sin()                     # saves its input
        y2.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            w.sum().backward()
        y3 = x * 1.0
        v = y3 * 0.5                     # number operand: y3 not saved, change is fine
        y3.mul_(2)
        v.sum().backward()
        assert np.allclose(x.grad.numpy(), [0.5, 0.5])


def test_apply_kinds_under_no_grad_forward_mode_and_no_grad_inputs():
    x = _x()
    with cr.no_grad():
        assert cr.sin(x)._node is None and not cr.sin(x).requires_grad
        assert (x * 2.0)._node is None
    c = cr.tensor([0.1, 0.2, 0.3], dtype=cr.float64)
    assert cr.tanh(c)._node is None and (c + 1)._node is None
    import chainrule.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor([0.3, 0.6], dtype=cr.float64),
                           cr.tensor([1.0, 2.0], dtype=cr.float64))
        t = fwAD.unpack_dual(cr.sin(d) * 3.0).tangent
    np.testing.assert_allclose(t.numpy(), 3.0 * np.cos([0.3, 0.6]) * [1.0, 2.0])


@pytest.mark.parametrize("which", ["sort", "topk"])
def test_changing_returned_indices_does_not_move_the_gradient(which):
    x = cr.tensor([[3.0, 1.0, 2.0], [0.5, 2.5, 1.5]], dtype=cr.float64, requires_grad=True)
    r = cr.sort(x, dim=1) if which == "sort" else cr.topk(x, 2, dim=1)
    w = cr.tensor(np.arange(r.values.numel(), dtype=np.float64).reshape(r.values.shape) + 1)
    r.indices.zero_()
    (r.values * w).sum().backward()
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    rt = torch.sort(xt, dim=1) if which == "sort" else torch.topk(xt, 2, dim=1)
    (rt.values * torch.tensor(w.numpy())).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("expr", [lambda x: 2 * x, lambda x: 2.5 + x, lambda x: x * 2,
                                  lambda x: np.float64(3.0) * x, lambda x: 2 / x,
                                  lambda x: 3 * x.double(), lambda x: 1 - x,
                                  lambda x: 2.5 - x * 2, lambda x: 2 ** x, lambda x: 0.5 ** x],
                         ids=["rmul", "radd", "mul", "np-rmul", "rdiv", "rmul-double", "rsub",
                              "rsub-chain", "rpow", "rpow-float"])
def test_reflected_operators_order_inputs_like_torch(expr):
    def sig(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = expr(x)
        kinds = tuple(None if n is None else type(n).__name__
                      for n, _ in y.grad_fn.next_functions)
        y.sum().backward()
        return type(y.grad_fn).__name__, kinds, str(y.dtype), y.detach().numpy().tolist(), \
            x.grad.numpy().tolist()
    assert sig(cr) == sig(torch)


@pytest.mark.parametrize("which", ["scatter_add", "index_select", "gather"])
def test_changing_the_index_tensor_after_the_op_does_not_move_the_gradient(which):
    # PyTorch raises here (the index is saved and version-checked); chainrule keeps its
    # own copy of the index, so the gradient is the one of the op as it ran
    def run(m, change):
        x = m.tensor([[1., 2., 3.], [4., 5., 6.]], dtype=m.float64, requires_grad=True)
        src = m.tensor([[10., 20., 30.], [40., 50., 60.]], dtype=m.float64,
                       requires_grad=True)
        idx = m.tensor([[0, 1, 2], [2, 0, 1]])
        w = m.tensor(np.arange(6.).reshape(2, 3) + 1)
        y = {"scatter_add": lambda: m.scatter_add(x, 1, idx, src),
             "index_select": lambda: m.index_select(x, 1, idx[0]),
             "gather": lambda: m.gather(x, 1, idx)}[which]()
        if change:
            idx.zero_()
        (y * w).sum().backward()
        return [None if t.grad is None else t.grad.numpy() for t in (x, src)]
    mine = run(cr, change=True)
    ref = run(torch, change=False)          # torch's gradient of the op as it ran
    for a, b in zip(mine, ref):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)


def test_number_minus_parameter_is_rsub_like_torch():
    names = []
    for m in (cr, torch):
        p = m.nn.Parameter(m.tensor([1.0, 2.0]))
        y = 1 - p
        names.append((y.grad_fn.name(), len(y.grad_fn.next_functions)))
    assert names[0] == names[1] == ("RsubBackward1", 1)


def test_every_op_has_its_own_apply_generated_for_its_declaration():
    """Each registered op's ``op.apply`` is made from the dispatch and ``_run`` with the op's
    declaration folded in: what ``_run`` reads of the op does not appear in the copy (no
    ``save_inputs``/``save_out``/``broadcasts``/``is_view`` loads left), the op is bound,
    and ops with one declaration share one code object."""
    from chainrule.ops import _core
    codes = {}
    for name, op in _core.OPS.items():
        fn = _core._applier(op)
        assert op.apply is fn and fn.__defaults__ == (None, op)
        names = set(fn.__code__.co_names)
        assert not names & {"save_inputs", "save_out", "broadcasts", "is_view"}, name
        codes.setdefault(tuple(sorted(_core._declaration(op).items())), set()).add(fn.__code__)
    assert all(len(c) == 1 for c in codes.values())
    assert len(codes) < len(_core.OPS) / 2          # shared, not one copy per op


def test_op_apply_with_params_and_other_kinds_runs_the_general_path():
    x = _x((2, 3))
    a = AR.MUL.apply((2.0, x))                      # a number first: the general path
    b = general(AR.MUL, (2.0, x))
    assert _fields(a) == _fields(b)
    np.testing.assert_array_equal(a._data, b._data)
