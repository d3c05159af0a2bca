"""Differential tests: random small programs (``diffprog``) run on chainrule and on PyTorch
in float64 must give the same values, first-order gradients (``backward(gradient=...)`` and
``autograd.grad``), second-order gradients (grad of a projected ``create_graph`` gradient),
forward-mode JVPs and forward-over-reverse HVPs; float32 runs keep PyTorch's dtypes.  When
PyTorch's backward raises (a saved tensor modified in place), chainrule raises the same
exception class.  Programs come from fixed seeds, so the run is deterministic.

Engine-semantics tests at the end compare retain_graph, hooks, retain_grad, ``inputs=``,
no_grad/detach, integer tensors and in-place-after-save behaviour with PyTorch directly.
"""
import os

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as t_fw

import chainrule as cr
import chainrule.autograd.forward_ad as c_fw
from diffprog import describe, make_program, run

N_PROGRAMS = int(os.environ.get("CHAINRULE_DIFF_PROGRAMS", 120))   # raise to hunt locally
RTOL, ATOL = 1e-7, 1e-9


def _np(t):
    return None if t is None else t.detach().numpy(force=True)   # force: torch ZeroTensors


def _leaves(lib, arrays, dtype, rg=True):
    rgs = getattr(arrays, "rg", None) or [True] * len(arrays)
    return [lib.tensor(a, dtype=dtype, requires_grad=rg and r) for a, r in zip(arrays, rgs)]


def _rg(ls, arrays):
    """The leaves created with requires_grad=True (one that did not may require grad by
    now, after an in-place change with a grad-requiring operand)."""
    rgs = getattr(arrays, "rg", None) or [True] * len(arrays)
    return [x for x, r in zip(ls, rgs) if r]


def _close(a, b, what, prog, zeros_for_none=False, rtol=RTOL, atol=ATOL, shape_of=None):
    if zeros_for_none:
        if a is None and shape_of is not None:
            a = np.zeros(shape_of)
        if b is None and shape_of is not None:
            b = np.zeros(shape_of)
    if a is None or b is None:
        assert a is None and b is None, f"{what}: chainrule {a!r} vs torch {b!r}\n{prog}"
        return
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}\n{prog}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{what}\n{prog}")


def _weights(seed, pool, outs):
    rng = np.random.default_rng(seed + 7)
    return [np.round(rng.uniform(-1, 1, tuple(pool[i].shape)), 6) for i in outs]


def _program(seed):
    leaves, program, outs = make_program(seed)
    return leaves, program, outs, describe(leaves, program, outs)


def _outcome(fn):
    """``("ok", value)`` or ``("raised", exception class)``."""
    try:
        return "ok", fn()
    except (RuntimeError, ValueError, TypeError, IndexError) as e:
        return "raised", type(e)


def _same_outcome(c, t, prog):
    if t[0] == "raised":
        assert c[0] == "raised" and issubclass(c[1], t[1]), \
            f"torch raised {t[1].__name__}, chainrule gave {c}\n{prog}"
        return False
    assert c[0] == "ok", f"chainrule raised {c[1].__name__}, torch did not\n{prog}"
    return True


# --- values and first-order gradients -------------------------------------------------------

@pytest.mark.parametrize("seed", range(N_PROGRAMS))
def test_values_and_backward(seed):
    leaves, program, outs, prog = _program(seed)
    tl = _leaves(torch, leaves, torch.float64)
    cl = _leaves(cr, leaves, cr.float64)
    tp = run(torch, program, tl)
    cp = run(cr, program, cl)
    for k, (a, b) in enumerate(zip(cp, tp)):
        _close(_np(a), _np(b), f"value of v{k}", prog)
        assert a.requires_grad == b.requires_grad, f"requires_grad of v{k}\n{prog}"
    if not outs:
        return
    w = _weights(seed, tp, outs)

    def go(lib, pool, ls):
        inner = [t for t in pool[len(ls):] if t.requires_grad]
        for t in inner:
            t.retain_grad()
        lib.autograd.backward([pool[i] for i in outs],
                              [lib.tensor(x, dtype=lib.float64) for x in w])
        return [_np(x.grad) for x in ls + inner]
    t = _outcome(lambda: go(torch, tp, tl))
    c = _outcome(lambda: go(cr, cp, cl))
    if _same_outcome(c, t, prog):
        for k, (a, b) in enumerate(zip(c[1], t[1])):
            _close(a, b, f"backward: .grad of v{k} (leaves, then retain_grad intermediates)",
                   prog)
        # the engine's general loop: backward(inputs=the leaves), anomaly mode on odd seeds
        cl2 = _leaves(cr, leaves, cr.float64)
        cp2 = run(cr, program, cl2)
        rl = _rg(cl2, leaves)
        with cr.autograd.set_detect_anomaly(bool(seed % 2)):
            cr.autograd.backward([cp2[i] for i in outs],
                                 [cr.tensor(x, dtype=cr.float64) for x in w], inputs=rl)
        want = [g for g, r in zip(t[1], leaves.rg) if r]
        for k, (a, b) in enumerate(zip(rl, want)):
            _close(_np(a.grad), b, f"backward(inputs=leaves): grad of leaf {k}", prog)


@pytest.mark.parametrize("seed", range(1000, 1000 + N_PROGRAMS))
def test_grad_and_second_order(seed):
    leaves, program, outs, prog = _program(seed)
    if not outs:
        return
    rng = np.random.default_rng(seed + 11)
    vs = [np.round(rng.uniform(-1, 1, np.shape(a)), 6) for a, r in zip(leaves, leaves.rg) if r]

    def go(lib, second):
        ls = _leaves(lib, leaves, lib.float64)
        pool = run(lib, program, ls)
        w = _weights(seed, pool, outs)
        ls = _rg(ls, leaves)
        gs = lib.autograd.grad([pool[i] for i in outs], ls,
                               [lib.tensor(x, dtype=lib.float64) for x in w],
                               allow_unused=True, create_graph=second)
        if not second:
            return [_np(g) for g in gs]
        terms = [(g * lib.tensor(v, dtype=lib.float64)).sum() for g, v in zip(gs, vs)
                 if g is not None and g.requires_grad]
        if not terms:       # no gradient depends on the inputs: the second order is 0
            return [_np(g) for g in gs], [None] * len(ls)
        s = terms[0]
        for x in terms[1:]:
            s = s + x
        hs = lib.autograd.grad(s, ls, allow_unused=True)
        return [_np(g) for g in gs], [_np(h) for h in hs]

    t = _outcome(lambda: go(torch, False))
    c = _outcome(lambda: go(cr, False))
    if not _same_outcome(c, t, prog):
        return
    for k, (a, b) in enumerate(zip(c[1], t[1])):
        _close(a, b, f"autograd.grad: leaf {k}", prog)
    t = _outcome(lambda: go(torch, True))
    c = _outcome(lambda: go(cr, True))
    if not _same_outcome(c, t, prog):
        return
    (cg, ch), (tg, th) = c[1], t[1]
    for k, (a, b) in enumerate(zip(cg, tg)):
        _close(a, b, f"create_graph grad: leaf {k}", prog)
    # whether a create_graph gradient that is constant requires grad may differ; a missing
    # second-order gradient is compared as zeros
    for k, (a, b) in enumerate(zip(ch, th)):
        _close(a, b, f"second order: leaf {k}", prog, zeros_for_none=True,
               shape_of=vs[k].shape, rtol=1e-6, atol=1e-8)


# --- forward mode -------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(2000, 2000 + N_PROGRAMS))
def test_jvp(seed):
    leaves, program, outs, prog = _program(seed)
    rng = np.random.default_rng(seed + 13)
    tans = [np.round(rng.uniform(-1, 1, np.shape(a)), 6) for a in leaves]

    def go(lib, fw):
        with fw.dual_level():
            ls = [fw.make_dual(lib.tensor(a, dtype=lib.float64), lib.tensor(v, dtype=lib.float64))
                  for a, v in zip(leaves, tans)]
            pool = run(lib, program, ls)
            return [(_np(fw.unpack_dual(x).primal), _np(fw.unpack_dual(x).tangent))
                    for x in pool]
    t = _outcome(lambda: go(torch, t_fw))
    c = _outcome(lambda: go(cr, c_fw))
    if not _same_outcome(c, t, prog):
        return
    for k, ((cv, ct), (tv, tt)) in enumerate(zip(c[1], t[1])):
        _close(cv, tv, f"primal of v{k}", prog)
        _close(ct, tt, f"tangent of v{k}", prog, zeros_for_none=True, shape_of=tv.shape)


@pytest.mark.parametrize("seed", range(3000, 3000 + N_PROGRAMS // 2))
def test_forward_over_reverse(seed):
    leaves, program, outs, prog = _program(seed)
    if not outs:
        return
    rng = np.random.default_rng(seed + 17)
    tans = [np.round(rng.uniform(-1, 1, np.shape(a)), 6) for a in leaves]

    def go(lib, fw):
        ls = _leaves(lib, leaves, lib.float64)
        with fw.dual_level():
            ds = [fw.make_dual(x, lib.tensor(v, dtype=lib.float64)) for x, v in zip(ls, tans)]
            pool = run(lib, program, ds)
            w = _weights(seed, pool, outs)
            gs = lib.autograd.grad([pool[i] for i in outs], _rg(ds, leaves),
                                   [lib.tensor(x, dtype=lib.float64) for x in w],
                                   allow_unused=True, create_graph=True)
            return [None if g is None else (_np(fw.unpack_dual(g).primal),
                                            _np(fw.unpack_dual(g).tangent)) for g in gs]
    t = _outcome(lambda: go(torch, t_fw))
    c = _outcome(lambda: go(cr, c_fw))
    if not _same_outcome(c, t, prog):
        return
    for k, (a, b) in enumerate(zip(c[1], t[1])):
        assert (a is None) == (b is None), f"grad of leaf {k}: None on one side\n{prog}"
        if a is not None:
            _close(a[0], b[0], f"gradient of leaf {k}", prog)
            _close(a[1], b[1], f"HVP for leaf {k}", prog, zeros_for_none=True,
                   shape_of=b[0].shape, rtol=1e-6, atol=1e-8)


# --- float32 -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4000, 4000 + N_PROGRAMS // 2))
def test_float32_dtypes(seed):
    leaves, program, outs, prog = _program(seed)

    def go(lib):
        ls = _leaves(lib, leaves, lib.float32)
        pool = run(lib, program, ls)
        res = [(str(x.dtype), _np(x)) for x in pool]
        if outs:
            w = _weights(seed, pool, outs)
            lib.autograd.backward([pool[i] for i in outs],
                                  [lib.tensor(x, dtype=lib.float32) for x in w])
        return res, [(str(x.grad.dtype), _np(x.grad)) if x.grad is not None else None
                     for x in ls]
    t = _outcome(lambda: go(torch))
    c = _outcome(lambda: go(cr))
    if not _same_outcome(c, t, prog):
        return
    (cv, cg), (tv, tg) = c[1], t[1]
    for k, ((cd, ca), (td, ta)) in enumerate(zip(cv, tv)):
        assert cd == td, f"dtype of v{k}: {cd} vs torch {td}\n{prog}"
        _close(ca, ta, f"float32 value of v{k}", prog, rtol=2e-4, atol=2e-4)
    for k, (a, b) in enumerate(zip(cg, tg)):
        assert (a is None) == (b is None), f"float32 grad of leaf {k}\n{prog}"
        if a is not None:
            assert a[0] == b[0], f"dtype of grad of leaf {k}: {a[0]} vs torch {b[0]}\n{prog}"
            _close(a[1], b[1], f"float32 grad of leaf {k}", prog, rtol=2e-3, atol=2e-3)


# --- regressions found by the programs above -----------------------------------------------

def _both(fn):
    """Run ``fn(lib)`` on chainrule and torch; return both results as arrays."""
    return [[_np(x) for x in fn(lib)] for lib in (cr, torch)]


def _assert_same(fn):
    c, t = _both(fn)
    for k, (a, b) in enumerate(zip(c, t)):
        _close(a, b, f"result {k}", fn.__doc__ or "")


def test_copying_index_and_reshape_results_are_not_views():
    """x[[0, 0]] and reshape of a transposed tensor copy (as in PyTorch): changing them in
    place is allowed, and changing their source later does not invalidate their graph."""
    def f(lib):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True, dtype=lib.float64)
        a = x * 1
        b = a[[0, 0, 1]]
        c = a.T.reshape(-1)
        s = b.exp()                 # saves its output
        r = c.sigmoid()             # saves its output
        b.mul_(2)                   # not a view: allowed
        c.add_(1)
        a.add_(3)                   # must not bump the copies' versions
        (s.sum() + r.sum() + (b * c.sum()).sum() + a.sum()).backward()
        return [a, b, c, x.grad]
    _assert_same(f)


def test_flip_result_changed_in_place_leaves_input_alone():
    """np.flip returns a view; torch.flip a copy: y.mul_ must not write into x."""
    def f(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=lib.float64)
        y = lib.flip(x, (0,))
        y.mul_(2)
        (y * y).sum().backward()
        return [x, y, x.grad]
    _assert_same(f)


def test_where_saves_only_its_condition():
    """Changing a branch of where in place afterwards is fine (PyTorch saves only the
    condition)."""
    def f(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=lib.float64)
        y = lib.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True,
                       dtype=lib.float64)
        a = x / (y * y + 0.5)
        w = lib.where(a > y * 0.1, a, y * 1.5)
        a.sigmoid_()
        (w * a).sum().backward()
        return [w, a, x.grad, y.grad]
    _assert_same(f)


def test_output_saved_by_an_inplace_op_then_changed_raises():
    """exp_/tanh_/sigmoid_ save their output, which is the tensor itself: changing it in
    place again makes backward raise as in PyTorch (chainrule used to keep a stale copy)."""
    for lib in (cr, torch):
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        y = (x * 1).tanh_()
        y.clamp_(-0.3, 0.4)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()

    def f(lib):         # without a later change it is fine
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        y = (x * 1).exp_()
        z = y * 2
        (y + z).sum().backward()
        return [y, x.grad]
    _assert_same(f)


def test_views_of_a_0d_base_follow_an_inplace_change():
    """unsqueeze/expand views of a 0-d tensor changed in place (used to raise ValueError)."""
    def f(lib):
        x = lib.tensor(0.7, dtype=lib.float64, requires_grad=True)
        y = x * 2
        v = y.unsqueeze(0)
        e = y.expand(3)
        y.mul_(x)
        (v * 3.0).sum().backward(retain_graph=True)
        g = x.grad.clone()
        x.grad = None
        (e * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        return [v, e, g, x.grad]
    _assert_same(f)


def test_masked_fill_and_solve_do_not_keep_unread_inputs():
    """PyTorch's masked_fill saves only the mask and linalg.solve only A and the solution:
    changing the other input in place afterwards is fine."""
    def f(lib):
        x = lib.tensor([[0.5, -1.0, 2.0]], dtype=lib.float64, requires_grad=True)
        v = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        a = x * 1
        m1 = a.masked_fill(a > 0, 0.25)
        m2 = a.masked_fill(a < 0, v * 2)
        a.mul_(3)
        A = lib.tensor([[2.0, 1.0], [0.5, 3.0]], dtype=lib.float64, requires_grad=True)
        B = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        b = B * 1
        s = lib.linalg.solve(A, b)
        b.mul_(2)
        (m1.sum() + (m2 * m2).sum() + (s * s).sum() + a.sum()).backward()
        return [m1, m2, s, x.grad, v.grad, A.grad, B.grad]
    _assert_same(f)


def test_inplace_on_an_expanded_tensor_raises_runtime_error_without_grad():
    """add_/setitem/copy_ on expand() output raise RuntimeError as in PyTorch (was NumPy's
    ValueError 'assignment destination is read-only' when no grad was involved)."""
    for lib in (cr, torch):
        for f in (lambda e: e.add_(1), lambda e: e.__setitem__(0, 1.0),
                  lambda e: e.copy_(lib.ones(2, 3, dtype=lib.float64))):
            e = lib.tensor([[0.5], [-1.0]], dtype=lib.float64).expand(2, 3)
            with pytest.raises(RuntimeError, match="more than one element"):
                f(e)


# --- engine semantics, compared with PyTorch ------------------------------------------------

def _f64(lib, data, rg=True):
    return lib.tensor(data, dtype=lib.float64, requires_grad=rg)


def test_retain_graph_accumulates_then_frees():
    def f(lib):
        x = _f64(lib, [0.3, -1.2, 2.0])
        y = (x.sin() * x).exp()
        g = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64)
        y.backward(g, retain_graph=True)
        first = x.grad.clone()
        y.backward(g, retain_graph=True)
        y.backward(g)                       # frees the graph
        with pytest.raises(RuntimeError):
            y.backward(g)
        return [first, x.grad]
    _assert_same(f)


def test_hooks_on_intermediates_in_create_graph_mode():
    """A hook that scales an intermediate's gradient by a tensor depending on x: the
    second derivative sees the hook's dependence on x."""
    def f(lib):
        x = _f64(lib, [0.5, -0.7, 1.3])
        h = x * x
        h.register_hook(lambda g: g * h)        # returns a replacement gradient
        u = h.tanh()
        u.register_hook(lambda g: g + 1.0)
        (gx,) = lib.autograd.grad(u.sum(), x, create_graph=True)
        (hx,) = lib.autograd.grad((gx * lib.tensor([1.0, 2.0, -1.0], dtype=lib.float64)).sum(), x)
        return [gx, hx]
    _assert_same(f)


def test_retain_grad_on_several_intermediates():
    def f(lib):
        x = _f64(lib, [[0.5, -0.7, 1.3], [0.1, 0.2, -0.3]])
        a = x * 2
        b = a.sum(0)
        c = a * b                           # a used twice
        d = c[1:]
        for t in (a, b, c, d):
            t.retain_grad()
        (d.pow(2).sum() + c.mean()).backward()
        return [a.grad, b.grad, c.grad, d.grad, x.grad]
    _assert_same(f)


def test_grad_wrt_intermediates_and_unused_inputs():
    def f(lib):
        x = _f64(lib, [0.5, -0.7, 1.3])
        w = _f64(lib, 2.0)
        unused = _f64(lib, [1.0, 2.0])
        a = x.exp()
        b = a * w
        off_path = x * 3
        y = (b.sin() + a).sum()
        gs = lib.autograd.grad(y, [a, x, b, w, unused, off_path], retain_graph=True,
                               allow_unused=True)
        gm = lib.autograd.grad(y, [unused, w], materialize_grads=True)
        return list(gs) + list(gm)
    _assert_same(f)
    for lib in (cr, torch):
        x = _f64(lib, [0.5])
        z = _f64(lib, [1.0])
        with pytest.raises(RuntimeError):
            lib.autograd.grad((x * 2).sum(), [x, z])


def test_backward_inputs_subset():
    def f(lib):
        x = _f64(lib, [0.5, -0.7])
        w = _f64(lib, [[1.0, 2.0], [3.0, -1.0]])
        h = w @ x
        y = (h.tanh() * x).sum()
        y.backward(inputs=[w], retain_graph=True)
        wg = w.grad.clone()
        y.backward(inputs=[x, h])
        return [wg, w.grad, x.grad, h.grad]
    _assert_same(f)


def test_no_grad_and_detach_inside_a_program():
    def f(lib):
        x = _f64(lib, [0.5, -0.7, 1.3])
        with lib.no_grad():
            scale = x.sum() * 2
            z = x * 3
        y = x * scale + z.detach() * x + x.detach().exp() * x
        with lib.enable_grad():
            y2 = y * y
        y2.sum().backward()
        return [y, x.grad, lib.tensor(float(z.requires_grad))]
    _assert_same(f)


def test_same_leaf_in_two_graphs_and_requires_grad_toggling():
    def f(lib):
        x = _f64(lib, [0.5, -0.7, 1.3])
        y1 = (x * x).sum()
        y2 = x.sin().prod()
        y2.backward()
        y1.backward()
        g1 = x.grad.clone()
        x.requires_grad_(False)
        c = x * 2                          # a constant
        x.requires_grad_(True)
        x.grad = None
        (c * x).sum().backward()
        return [g1, x.grad, lib.tensor(float(c.requires_grad))]
    _assert_same(f)


def test_mixed_dtypes_accumulate_in_each_leafs_dtype():
    def f(lib):
        a = lib.tensor([0.5, -0.7], dtype=lib.float32, requires_grad=True)
        b = lib.tensor([1.5, 2.0], dtype=lib.float64, requires_grad=True)
        y = (a * b).sum() + (a.double() ** 2).sum()
        y.backward()
        (a * 3).sum().backward()            # accumulate a float32 gradient
        return [y, a.grad, b.grad]
    c, t = _both(f)
    for a_, b_ in zip(c, t):
        assert a_.dtype == b_.dtype
        np.testing.assert_allclose(a_, b_, rtol=1e-6)


def test_integer_tensors_in_programs():
    def f(lib):
        x = _f64(lib, [[0.5, -0.7, 1.3], [0.1, 0.2, -0.3]])
        idx = lib.tensor([2, 0, 2])
        k = lib.tensor([[1, 2, 3], [4, 5, 6]])
        y = x[:, idx] * k[:, idx] + k.sum() * x.sum() + x.gather(1, lib.tensor([[0, 0], [2, 1]])).sum()
        y.sum().backward()
        return [y, x.grad]
    _assert_same(f)
    for lib in (cr, torch):
        with pytest.raises(RuntimeError):
            lib.tensor([1, 2]).requires_grad_()


def test_zero_dim_tensors_everywhere():
    def f(lib):
        a = _f64(lib, 0.7)
        b = _f64(lib, -1.3)
        y = (a * b).exp() + a.reshape(1).expand(3).sum() * b[None][0] + lib.stack([a, b]).prod()
        y = y + a.tanh() * b.sigmoid() + (a * a).sqrt().log()  # 0-d arrays: NumPy scalars
        z = y.unsqueeze(0).squeeze(0) ** 2
        (ga, gb) = lib.autograd.grad(z, [a, b], create_graph=True)
        (haa,) = lib.autograd.grad(ga, a, retain_graph=True)
        (hab,) = lib.autograd.grad(ga, b)
        return [z, ga, gb, haa, hab]
    _assert_same(f)


@pytest.mark.parametrize("case", range(6))
def test_tensor_changed_in_place_after_being_saved(case):
    """Raise exactly when PyTorch does; otherwise give PyTorch's gradients."""
    def f(lib):
        x = _f64(lib, [0.5, -0.7, 1.3])
        a = x * 1
        if case == 0:
            y = a * 2               # a not saved
            a.add_(1)
        elif case == 1:
            y = a * x               # a saved for x's gradient
            a.add_(1)
        elif case == 2:
            y = a.exp()             # output saved, input not
            a.mul_(2)
        elif case == 3:
            y = a.sin()             # input saved
            a.mul_(2)
        elif case == 4:
            y = a[1:] ** 2          # a view's base changed: the view's input is saved
            a[0] = 5.0
        else:
            y = a.sigmoid()
            y.add_(1)               # output saved and changed
        (y.sum() + a.sum()).backward()
        return [y, a, x.grad]
    t = _outcome(lambda: [_np(v) for v in f(torch)])
    c = _outcome(lambda: [_np(v) for v in f(cr)])
    if _same_outcome(c, t, f"case {case}"):
        for k, (a, b) in enumerate(zip(c[1], t[1])):
            _close(a, b, f"case {case} result {k}", "")


# --- which inputs/outputs each op saves: an in-place change afterwards raises exactly when
# PyTorch's does (chainrule never raises where PyTorch computes a gradient)

_SAVED_CASES = {
 "gather": lambda m, a: a.gather(1, m.tensor([[0, 0], [1, 0]])),
 "max_dim": lambda m, a: a.max(1)[0], "min_dim": lambda m, a: a.min(1).values,
 "sort": lambda m, a: m.sort(a, 1)[0], "topk": lambda m, a: a.topk(1, 1)[0],
 "abs": lambda m, a: a.abs(), "amax": lambda m, a: m.amax(a, 1), "max_all": lambda m, a: a.max(),
 "cumsum": lambda m, a: m.cumsum(a, 1), "index_select": lambda m, a: a.index_select(1, m.tensor([1,0])),
 "masked_select": lambda m, a: a.masked_select(a > 0), "clamp": lambda m, a: a.clamp(-0.5, 0.5),
 "relu": lambda m, a: m.relu(a), "mean": lambda m, a: a.mean(), "prod": lambda m, a: a.prod(1),
 "norm": lambda m, a: a.norm(), "std": lambda m, a: a.std(1), "var": lambda m, a: a.var(1),
 "logsumexp": lambda m, a: m.logsumexp(a, 1), "softmax": lambda m, a: m.softmax(a, 1),
 "log_softmax": lambda m, a: m.log_softmax(a, 1),
 "cumprod": lambda m, a: m.cumprod(a, 1), "trace": lambda m, a: a.trace(), "tril": lambda m, a: a.tril(),
 "matmul_const": lambda m, a: a @ m.tensor([[1.0],[2.0]], dtype=m.float64),
 "det": lambda m, a: m.det(a), "inv": lambda m, a: m.linalg.inv(a), "pow2": lambda m, a: a ** 2,
 "sqrt": lambda m, a: (a*a).sqrt(), "sigmoid": lambda m, a: a.sigmoid(), "tanh": lambda m, a: a.tanh(),
 "exp": lambda m, a: a.exp(), "log": lambda m, a: (a*a).log(), "rsqrt": lambda m, a: (a*a).rsqrt(),
 "sin": lambda m, a: a.sin(), "div_c": lambda m, a: 1.0 / a, "pow_t": lambda m, a: (a*a) ** a,
 "atan2": lambda m, a: m.atan2(a, a + 3), "maximum": lambda m, a: m.maximum(a, a.flip(0)),
 "where": lambda m, a: m.where(a > 0, a, a * 2), "gelu": lambda m, a: m.nn.functional.gelu(a),
 "silu": lambda m, a: m.nn.functional.silu(a), "elu": lambda m, a: m.nn.functional.elu(a),
 "softplus": lambda m, a: m.nn.functional.softplus(a), "erf": lambda m, a: m.erf(a),
 "square": lambda m, a: m.square(a), "reciprocal": lambda m, a: m.reciprocal(a),
 "expm1": lambda m, a: m.expm1(a), "log1p": lambda m, a: m.log1p(a * a),
 "sinh": lambda m, a: m.sinh(a), "atan": lambda m, a: m.atan(a), "vector_norm": lambda m, a: m.linalg.vector_norm(a, dim=1),
 "mse": lambda m, a: m.nn.functional.mse_loss(a, a.flip(0)), "ce": lambda m, a: m.nn.functional.cross_entropy(a, m.tensor([0, 1])),
 "bce": lambda m, a: m.nn.functional.binary_cross_entropy_with_logits(a, m.tensor([[0., 1.], [1., 0.]], dtype=m.float64)),
 "leaky": lambda m, a: m.nn.functional.leaky_relu(a, 0.1), "logsigmoid": lambda m, a: m.nn.functional.logsigmoid(a),
 "einsum": lambda m, a: m.einsum("ij,jk->ik", a, a), "outer": lambda m, a: m.outer(a[0], a[1]),
 "solve": lambda m, a: m.linalg.solve(a, a[0]), "roll": lambda m, a: m.roll(a, 1, 0),
}

# ops where chainrule keeps a private copy and computes the (correct) gradient although
# PyTorch raises: composites whose first op does not save the changed input
_MORE_PERMISSIVE = {"masked_select", "bce"}


@pytest.mark.parametrize("which", ["input", "output"])
@pytest.mark.parametrize("name", sorted(_SAVED_CASES))
def test_inplace_change_after_op_raises_like_pytorch(name, which):
    f = _SAVED_CASES[name]

    def go(lib):
        x = lib.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=lib.float64, requires_grad=True)
        a = x * 1
        y = f(lib, a)
        (a if which == "input" else y).mul_(1.5)
        y.sum().backward()
        return [_np(x.grad)]
    t = _outcome(lambda: go(torch))
    c = _outcome(lambda: go(cr))
    if name in _MORE_PERMISSIVE and which == "input":
        assert t[0] == "raised" and c[0] == "ok"
        return
    if _same_outcome(c, t, f"{name}, {which} changed"):
        _close(c[1][0], t[1][0], f"{name}: gradient", "")


def test_integer_index_gives_a_0d_view():
    """a[2] of a 1-D tensor is a 0-d view in PyTorch: it follows a later a.mul_(2) and
    w.add_(10) writes into a (NumPy's a[2] is a scalar copy; chainrule used to give the old
    value and the gradient of the old value)."""
    def f(lib):
        x = lib.tensor([0.5, -1.0, 0.3], dtype=lib.float64, requires_grad=True)
        a = x * 1
        v = a[2]
        w = a[1]
        m = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)
        e = m[1, 0]
        a.mul_(2)
        w.add_(10)
        m.mul_(3)
        (v * v + a.sum()).backward()
        return [v, w, a, e, x.grad]
    _assert_same(f)


def test_diagonal_is_a_view():
    """diagonal() shares memory with its input (PyTorch): it follows a.mul_ and writing
    into it changes a (chainrule returned a copy)."""
    def f(lib):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
        a = x * 1
        d = a.diagonal()
        d1 = a.diagonal(1)
        dt = a.T.diagonal(-1)
        a.mul_(2)
        d1.add_(100)
        ((d * d).sum() + (dt * a[1, 1]).sum() + a.sum()).backward()
        return [d, d1, dt, a, x.grad]
    _assert_same(f)


def test_cat_keeps_empty_1d_tensors_in_the_graph():
    """cat([x[mask_that_selects_nothing], y]): x gets a zero gradient, not None."""
    def f(lib):
        x = lib.tensor([0.5, -1.0, 0.3], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        e = x[x > 5]
        lib.cat([e, y, e]).sum().backward()
        return [x.grad, y.grad, lib.cat([lib.zeros(0), lib.ones(2, 2)])]
    _assert_same(f)


def test_leaf_hooks_retain_grad_order_and_grad_identity():
    def f(lib):
        x = _f64(lib, [0.5, -0.7, 1.3])
        x.register_hook(lambda g: g * 2)
        a = x * x
        a.retain_grad()                     # registered before the hook: still sees its result
        a.register_hook(lambda g: g + 1)
        a.sum().backward(retain_graph=True)
        g0 = x.grad
        first = x.grad.clone()
        a.sum().backward()                  # accumulates in place into the same tensor
        return [first, x.grad, g0, a.grad, lib.tensor(float(g0 is x.grad))]
    _assert_same(f)


def test_double_backward_through_dot_grad():
    def f(lib):
        x = _f64(lib, [0.5, -0.7, 1.3])
        y = (x.sin() * x).sum()
        y.backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        (g * g).sum().backward()            # adds d/dx |dy/dx|^2 into x.grad
        return [g, x.grad]
    _assert_same(f)


def test_shared_subgraph_freed_by_first_backward():
    for lib in (cr, torch):
        x = _f64(lib, [0.5, -0.7])
        h = x.exp()
        y1, y2 = (h * 2).sum(), (h * 3).sum()
        y1.backward()
        with pytest.raises(RuntimeError):
            y2.backward()

    def f(lib):                             # with retain_graph both work and add up
        x = _f64(lib, [0.5, -0.7])
        h = x.exp()
        (h * 2).sum().backward(retain_graph=True)
        (h * 3).sum().backward()
        return [x.grad]
    _assert_same(f)


def test_data_changes_are_invisible_to_autograd():
    """x.data shares memory but not the version counter: no error, new values are used."""
    def f(lib):
        x = _f64(lib, [0.5, -0.7])
        y = (x * x).sum()
        x.data.mul_(2)
        y.backward()
        return [x, x.grad]
    _assert_same(f)


def test_grad_of_non_differentiable_output_and_nonleaf_requires_grad_false():
    for lib in (cr, torch):
        x = _f64(lib, [0.5, -0.7])
        with pytest.raises(RuntimeError):
            lib.autograd.grad([(x * 2).sum(), (x.detach() * 2).sum()], x)
        with pytest.raises(RuntimeError):
            (x * 2).requires_grad_(False)


def test_inplace_change_of_a_view_of_a_dual_keeps_the_other_tangents():
    """x = make_dual(p, t); x[0] += s: the rows of x not written keep their tangent (they
    were zeroed: the view's base p has no tangent of its own)."""
    def f(lib):
        fw = c_fw if lib is cr else t_fw
        with fw.dual_level():
            x = fw.make_dual(lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64),
                             lib.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=lib.float64))
            s = fw.make_dual(lib.tensor(5.0, dtype=lib.float64), lib.tensor(1.0, dtype=lib.float64))
            x[0] += s
            z = fw.make_dual(lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64),
                             lib.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=lib.float64))
            z.T[0].mul_(s)
            return [x, fw.unpack_dual(x).tangent, z, fw.unpack_dual(z).tangent]
    _assert_same(f)


def test_hooks_registered_before_and_after_an_inplace_change():
    """A hook registered before y.mul_(3) sees the gradient of y's old value, one
    registered after sees the gradient of the new value (PyTorch's documented rule)."""
    def f(lib):
        x = _f64(lib, [0.5, -0.7])
        y = x * 2
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.mul_(3)
        y.register_hook(lambda g: seen.append(g.clone()))
        (y * y).sum().backward()
        return seen + [x.grad]
    _assert_same(f)


def test_grad_of_a_leaf_and_duplicate_inputs():
    def f(lib):
        x = _f64(lib, [0.5, -0.7])
        (g,) = lib.autograd.grad(x, x, lib.tensor([1.0, 2.0], dtype=lib.float64))
        y = (x * x).sum()
        g1, g2 = lib.autograd.grad(y, [x, x])
        return [g, g1, g2]
    _assert_same(f)


@pytest.mark.parametrize("seed", range(5000, 5000 + N_PROGRAMS // 2))
def test_values_without_grad(seed):
    """The same programs on tensors that need no graph (the in-place fast paths)."""
    leaves, program, outs, prog = _program(seed)

    def go(lib, dtype):
        ls = _leaves(lib, leaves, dtype, rg=False)
        return [(str(x.dtype), _np(x)) for x in run(lib, program, ls)]
    for dt in ("float64", "float32"):
        t = _outcome(lambda: go(torch, getattr(torch, dt)))
        c = _outcome(lambda: go(cr, getattr(cr, dt)))
        if not _same_outcome(c, t, prog):
            continue
        for k, ((cd, ca), (td, ta)) in enumerate(zip(c[1], t[1])):
            assert cd == td, f"{dt} run: dtype of v{k}: {cd} vs torch {td}\n{prog}"
            tol = 1e-7 if dt == "float64" else 2e-4
            _close(ca, ta, f"{dt} run without grad: v{k}", prog, rtol=tol, atol=tol)


def test_fill_with_a_constant_tensor_cuts_the_old_graph():
    """y.fill_(c) with a 0-d constant tensor c: y's old inputs get zero gradient (chainrule
    kept y's old graph and gave them the gradient of the overwritten values)."""
    def f(lib):
        v1 = lib.tensor([[0.5], [-1.0]], dtype=lib.float64, requires_grad=True)
        c = lib.tensor([[0.3, 0.2, 0.1], [1.0, 2.0, 3.0]], dtype=lib.float64)
        y = lib.abs(v1 @ v1.mT - 0.098)
        y.fill_((c ** 3).sum() * 0.1)
        lib.log(y.abs() + 0.5).sum().backward()
        return [y, v1.grad]
    _assert_same(f)
