"""Autograd state is per thread, as in PyTorch: grad mode (no_grad & co, and the engine's own
switching during backward) and forward-AD levels; backward runs safely in several threads
at once, adding every contribution into a shared leaf's ``.grad``.

Threads start together on a ``threading.Barrier`` and hand over with ``threading.Event``;
``sys.setswitchinterval(1e-6)`` makes the interpreter switch threads as often as it can,
so interleavings that lose state show up.  Every expected value comes from the same
computation run in one thread; float64 with integer-valued data makes sums exact, so
results are compared for equality.  No test waits for time to pass (the timeouts only
turn a hang into a failure)."""
import sys
import threading
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.autograd.forward_ad as fw
from chainrule import func as crf

N_THREADS = 8
HANG = 120          # seconds: only to fail instead of hanging forever


@pytest.fixture(autouse=True)
def _fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(n, fn):
    """Run ``fn(i)`` in ``n`` threads started together; return the results in order and
    re-raise the first exception of any thread."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def body(i):
        try:
            barrier.wait(HANG)
            results[i] = fn(i)
        except BaseException as e:      # noqa: BLE001 -- re-raised in the caller
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def in_thread(fn):
    """``fn()`` run in one new thread; its result (or its exception, re-raised)."""
    return run_threads(1, lambda i: fn())[0]


def wait(event):
    assert event.wait(HANG), "the other thread never signalled"


def _inputs(i):
    """Thread ``i``'s own float64 inputs (different in every thread)."""
    rng = np.random.default_rng(100 + i)
    x = cr.tensor(rng.standard_normal((3, 4)), dtype=cr.float64, requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 2)), dtype=cr.float64, requires_grad=True)
    return x, w


def _model(x, w):
    """Exercises every kind of apply call: one tensor (sin, tanh), a tensor with a number
    (* 0.5), two tensors (+, @), the general case (sum over a dim, broadcasting with a constant)."""
    h = (x.sin() * 0.5 + x) @ w
    return (h.tanh() + cr.ones(1, 2, dtype=cr.float64)).sum(dim=0).pow(2).sum()


def _step(i):
    """Forward and backward for thread ``i``'s inputs: (loss, x.grad, w.grad) as arrays,
    checking on the way that the graph was recorded."""
    x, w = _inputs(i)
    loss = _model(x, w)
    assert loss.requires_grad and loss.grad_fn is not None, \
        "no graph was recorded: another thread's grad mode leaked into this one"
    loss.backward()
    return loss.detach().numpy().copy(), x.grad.numpy().copy(), w.grad.numpy().copy()


def _same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


# --- (1) grad mode toggled in one thread does not leak into the others -------------------

def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    entered, recorded = threading.Event(), threading.Event()
    seen = {}

    def validation():
        with cr.no_grad():
            entered.set()
            wait(recorded)
            seen["validation"] = cr.is_grad_enabled()

    def training():
        wait(entered)                       # the other thread is inside no_grad now
        try:
            x = cr.tensor([1.0, 2.0], requires_grad=True)
            y = (x * x).sum()
            seen["training"] = (cr.is_grad_enabled(), y.requires_grad)
        finally:
            recorded.set()

    run_threads(2, lambda i: (validation, training)[i]())
    assert seen == {"validation": False, "training": (True, True)}


def _toggle_forever(stop):
    """Every way of switching grad mode, over and over, until ``stop`` is set."""
    n = 0

    @cr.no_grad()
    def decorated():
        return cr.is_grad_enabled()

    while not stop.is_set() or n < 50:
        with cr.no_grad():
            assert not cr.is_grad_enabled()
            with cr.enable_grad():
                assert cr.is_grad_enabled()
        with cr.inference_mode():
            assert not cr.is_grad_enabled()
        with cr.inference_mode(False):
            assert cr.is_grad_enabled()
        cr.set_grad_enabled(False)
        assert not cr.is_grad_enabled()
        cr.set_grad_enabled(True)
        with cr.set_grad_enabled(False):
            assert not cr.is_grad_enabled()
        assert not decorated()
        assert cr.is_grad_enabled()
        n += 1
    return n


def test_grad_mode_toggling_thread_does_not_disturb_recording_threads():
    want = [_step(i) for i in range(N_THREADS - 1)]
    stop = threading.Event()
    done = [0]
    lock = threading.Lock()

    def body(i):
        if i == N_THREADS - 1:
            return _toggle_forever(stop)
        try:
            return [_step(i) for _ in range(30)]
        finally:
            with lock:
                done[0] += 1
                if done[0] == N_THREADS - 1:
                    stop.set()

    results = run_threads(N_THREADS, body)
    assert results[-1] >= 50
    for i in range(N_THREADS - 1):
        for r in results[i]:
            _same(r, want[i])
    assert cr.is_grad_enabled()


# --- (2) a new thread starts with grad mode on -------------------------------------------

def test_new_thread_starts_with_grad_mode_on():
    def probe():
        x = cr.tensor([3.0], requires_grad=True)
        y = x * 2
        return cr.is_grad_enabled(), y.requires_grad, torch.is_grad_enabled()

    with cr.no_grad(), torch.no_grad():
        assert in_thread(probe) == (True, True, True)       # (torch does the same)
        assert not cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    try:
        assert in_thread(probe)[:2] == (True, True)
        # ... also when the starting thread is itself a thread in no_grad
        with_inner = in_thread(lambda: (cr.set_grad_enabled(False), in_thread(probe),
                                        cr.is_grad_enabled())[1:])
        assert with_inner == ((True, True, True), False)
    finally:
        cr.set_grad_enabled(True)
    with cr.inference_mode():
        assert in_thread(probe)[:2] == (True, True)


def test_thread_leaves_grad_mode_of_others_alone():
    def turn_off():
        cr.set_grad_enabled(False)              # never turned back on in this thread
        return cr.is_grad_enabled()

    assert in_thread(turn_off) is False
    assert cr.is_grad_enabled()


# --- (3) concurrent backward on independent graphs ---------------------------------------

def test_concurrent_backward_independent_graphs():
    want = [_step(i) for i in range(N_THREADS)]
    results = run_threads(N_THREADS, lambda i: [_step(i) for _ in range(40)])
    for i, rs in enumerate(results):
        for r in rs:
            _same(r, want[i])
    assert cr.is_grad_enabled()


def _second_order(i):
    x, w = _inputs(i)
    (gx,) = cr.autograd.grad(_model(x, w), x, create_graph=True)
    assert gx.requires_grad
    (gw,) = cr.autograd.grad((gx * gx).sum(), w)
    assert not gw.requires_grad
    return gx.detach().numpy().copy(), gw.numpy().copy()


def test_concurrent_autograd_grad_and_double_backward():
    want = [_second_order(i) for i in range(N_THREADS)]
    results = run_threads(N_THREADS, lambda i: [_second_order(i) for _ in range(15)])
    for i, rs in enumerate(results):
        for r in rs:
            _same(r, want[i])


# --- (4) concurrent backward into one shared leaf ----------------------------------------

def _shared_leaf_losses(w, n_iter):
    """Per thread, ``n_iter`` losses ``sum(w * c)`` with integer ``c``: each adds exactly
    ``c`` into ``w.grad``.  Recorded here, in one thread, so that only backward runs
    concurrently."""
    losses, total = [], np.zeros(w.shape)
    for i in range(N_THREADS):
        rng = np.random.default_rng(i)
        mine = []
        for _ in range(n_iter):
            c = rng.integers(-4, 5, size=w.shape).astype(np.float64)
            mine.append((w * cr.tensor(c)).sum())
            total += c
        losses.append(mine)
    return losses, total


def test_concurrent_backward_into_shared_leaf_adds_every_contribution():
    # large enough that NumPy's in-place add runs without holding the GIL
    w = cr.zeros(20000, dtype=cr.float64, requires_grad=True)
    for _round in range(10):
        w.grad = None
        losses, total = _shared_leaf_losses(w, 20)

        def body(i):
            for loss in losses[i]:
                loss.backward()

        run_threads(N_THREADS, body)
        np.testing.assert_array_equal(w.grad.numpy(), total)
    assert cr.is_grad_enabled()


def test_concurrent_first_accumulation_into_shared_leaf():
    # every thread's backward finds .grad empty at the same moment: one of them must set
    # it and the others add to it, none may overwrite another's contribution
    w = cr.zeros(20000, dtype=cr.float64, requires_grad=True)
    for _round in range(200):
        w.grad = None
        losses, total = _shared_leaf_losses(w, 1)
        run_threads(N_THREADS, lambda i: losses[i][0].backward())
        np.testing.assert_array_equal(w.grad.numpy(), total)


def test_concurrent_backward_into_shared_leaf_while_recording():
    # each thread records its own graphs on the shared leaf and runs backward
    w = cr.zeros(5000, dtype=cr.float64, requires_grad=True)
    cs = [[np.random.default_rng(10 * i + j).integers(-3, 4, size=5000).astype(np.float64)
           for j in range(20)] for i in range(N_THREADS)]

    def body(i):
        for c in cs[i]:
            loss = ((w * cr.tensor(c)) + 0.0).sum()
            loss.backward()

    run_threads(N_THREADS, body)
    np.testing.assert_array_equal(w.grad.numpy(), sum(sum(c) for c in cs))


def test_concurrent_autograd_grad_on_shared_leaf():
    w = cr.tensor(np.arange(1.0, 7.0).reshape(2, 3), dtype=cr.float64, requires_grad=True)

    def body(i):
        out = []
        for k in range(30):
            y = w * w
            for _ in range(20):             # (a longer graph: more to record per step)
                y = (y + 1.0) - 1.0
            (g,) = cr.autograd.grad((y * float(i + k)).sum(), w)
            out.append(g.numpy().copy())
        return out

    results = run_threads(N_THREADS, body)
    for i, rs in enumerate(results):
        for k, g in enumerate(rs):
            np.testing.assert_array_equal(g, 2 * (i + k) * w.detach().numpy())
    assert w.grad is None                   # autograd.grad accumulates nothing


def test_threads_recording_on_a_fresh_leaf_share_its_accumulator():
    # each round starts with no graph on w (its AccumulateGrad node is gone), then every
    # thread records on w at once and differentiates w.r.t. it: all must get w's one node
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    for _round in range(200):
        results = run_threads(N_THREADS, lambda i: cr.autograd.grad(
            (w * float(i + 1)).sum(), w)[0].tolist())
        assert results == [[float(i + 1)] * 2 for i in range(N_THREADS)]


def test_concurrent_retain_grad_on_shared_non_leaf():
    # retain_grad's .grad of a non-leaf shared by the threads' graphs: every backward adds
    x = cr.ones(4000, dtype=cr.float64, requires_grad=True)
    h = x * 1.0
    h.retain_grad()
    for _round in range(40):
        h.grad = None
        x.grad = None
        losses = [[(h * float(i + k)).sum() for k in range(3)] for i in range(N_THREADS)]

        def body(i):
            for loss in losses[i]:
                loss.backward(retain_graph=True)

        run_threads(N_THREADS, body)
        total = float(sum(i + k for i in range(N_THREADS) for k in range(3)))
        np.testing.assert_array_equal(h.grad.numpy(), np.full(4000, total))
        np.testing.assert_array_equal(x.grad.numpy(), np.full(4000, total))


# --- (5) forward-AD levels are per thread ------------------------------------------------

def _jvp_step(i):
    """Nested forward levels and func.jvp / jacfwd inside them, for thread ``i``."""
    x, w = _inputs(i)
    x, w = x.detach(), w.detach()
    v = cr.ones_like(x) * (i + 1)
    with fw.dual_level() as outer:
        xd = fw.make_dual(x, v)
        with fw.dual_level() as inner:
            assert inner != outer
            wd = fw.make_dual(w, cr.ones_like(w))
            y = _model(xd, wd)
            t_inner = fw.unpack_dual(y, level=inner).tangent
            t_outer = fw.unpack_dual(y, level=outer).tangent
        assert fw.unpack_dual(y).tangent is not None       # outer is innermost again
    _, t_func = crf.jvp(lambda a: _model(a, w), (x,), (v,))
    jac = crf.jacfwd(lambda a: _model(a, w))(x)
    return (t_inner.numpy().copy(), t_outer.numpy().copy(), t_func.numpy().copy(),
            jac.numpy().copy())


def test_forward_ad_levels_in_threads_do_not_interfere():
    want = [_jvp_step(i) for i in range(N_THREADS)]
    results = run_threads(N_THREADS, lambda i: [_jvp_step(i) for _ in range(10)])
    for i, rs in enumerate(results):
        for r in rs:
            _same(r, want[i])


def test_forward_level_belongs_to_its_thread():
    opened, checked = threading.Event(), threading.Event()
    seen = {}

    def holder():
        with fw.dual_level() as lvl:
            seen["level"] = lvl
            seen["dual"] = fw.make_dual(cr.tensor([2.0]), cr.tensor([1.0]))
            opened.set()
            wait(checked)
            # the other thread's level came and went; this one is still the innermost
            seen["after"] = fw.unpack_dual(seen["dual"] * 3).tangent.tolist()

    def other():
        wait(opened)
        try:
            with pytest.raises(RuntimeError, match="no level exists"):
                fw.make_dual(cr.tensor([1.0]), cr.tensor([1.0]))    # no level in this thread
            with pytest.raises(RuntimeError, match="no forward AD level is open"):
                fw.exit_dual_level()
            with fw.dual_level() as mine:
                seen["mine"] = mine
                # the holder's dual has no tangent at this thread's level
                seen["foreign"] = fw.unpack_dual(seen["dual"] * 3).tangent
                seen["own"] = fw.unpack_dual(
                    fw.make_dual(cr.tensor([1.0]), cr.tensor([5.0])) * 3).tangent.tolist()
        finally:
            checked.set()

    run_threads(2, lambda i: (holder, other)[i]())
    assert seen["mine"] != seen["level"]
    assert seen["foreign"] is None and seen["own"] == [15.0] and seen["after"] == [3.0]
    with pytest.raises(RuntimeError, match="no forward AD level is open"):
        fw.exit_dual_level()                # the main thread opened none


def test_new_thread_starts_without_forward_levels():
    with fw.dual_level():
        d = fw.make_dual(cr.tensor([1.0]), cr.tensor([1.0]))

        def probe():
            with pytest.raises(RuntimeError, match="no level exists"):
                fw.make_dual(cr.tensor([1.0]), cr.tensor([1.0]))
            return fw.unpack_dual(d).tangent, (d * 2).tolist()

        assert in_thread(probe) == (None, [2.0])
        assert fw.unpack_dual(d).tangent.tolist() == [1.0]


# --- (6) anomaly mode is per thread (PyTorch keeps it process-wide) ---------------------

def _nan_backward(m):
    x = m.tensor([0.0, 1.0], requires_grad=True)
    m.sqrt(x * 0.0).sum().backward()


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_anomaly_mode_is_per_thread():
    """A thread starts with anomaly detection off (check_nan at its default) whatever the
    starting thread does, and turning it on in one thread leaves the others alone.  This
    is the project's choice: PyTorch 2.13 keeps the switch process-wide."""
    a = cr.autograd

    def probe():
        enabled = a.is_anomaly_enabled(), a.is_anomaly_check_nan_enabled()
        try:
            _nan_backward(cr)
        except RuntimeError as e:
            return enabled, str(e).split("\n")[0]
        return enabled, None

    msg = "Function 'MulBackward0' returned nan values in its 0th output."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with a.detect_anomaly():
            assert probe() == ((True, True), msg)            # on here ...
            assert in_thread(probe) == ((False, True), None)  # ... not in a new thread
        with a.set_detect_anomaly(True, check_nan=False):
            assert probe() == ((True, False), None)
            assert in_thread(probe) == ((False, True), None)

        def turn_on():
            a.set_detect_anomaly(True)
            seen = probe()
            a.set_detect_anomaly(False)
            return seen
        assert in_thread(turn_on) == ((True, True), msg)     # on in that thread ...
        assert probe() == ((False, True), None)              # ... off here
        from chainrule._grad_mode import SHARED
        assert SHARED.observed == 0       # the count of threads with detection on is back
        # while another thread has detection on, this thread's ops record no traces and
        # its backward checks nothing, and both work as usual
        ready, release = threading.Event(), threading.Event()

        def hold_on():
            with a.detect_anomaly():
                ready.set()
                release.wait()
        t = threading.Thread(target=hold_on)
        t.start()
        try:
            ready.wait()
            x = cr.tensor([1.0, 4.0], requires_grad=True)
            y = cr.sqrt(x)
            assert getattr(y.grad_fn, "_trace", None) is None
            y.sum().backward()
            assert x.grad.tolist() == [0.5, 0.25]
            assert probe() == ((False, True), None)
        finally:
            release.set()
            t.join()


# --- (7) the engine's own grad-mode switching stays in its thread ------------------------

def test_engine_grad_mode_switch_during_backward_does_not_leak():
    """While one thread is inside backward (recording off there: create_graph=False), a
    hook holds it; another thread records meanwhile and must get a graph."""
    go = [threading.Event() for _ in range(2)]      # backward thread -> recorder: record now
    done = [threading.Event() for _ in range(2)]    # recorder -> backward thread: finished
    seen = {}

    def backward_side():
        x = cr.tensor([1.0, 2.0], requires_grad=True)

        def hook_for(k):
            def hook(g):
                seen[f"inside{k}"] = cr.is_grad_enabled()
                go[k].set()
                wait(done[k])
            return hook

        y = x * 3
        y.register_hook(hook_for(0))
        y.sum().backward()                                  # the plain loss.backward() path
        z = x * x
        z.register_hook(hook_for(1))
        seen["dx"] = cr.autograd.grad(z.sum(), x)[0].tolist()   # the general path
        seen["x.grad"] = x.grad.tolist()
        seen["after"] = cr.is_grad_enabled()

    def recorder_side():
        for k in range(2):
            wait(go[k])
            try:
                a = cr.tensor([1.0], requires_grad=True)
                b = (a.sin() + a * a).sum()
                seen[f"record{k}"] = (cr.is_grad_enabled(), b.requires_grad,
                                      b.grad_fn is not None)
            finally:
                done[k].set()

    run_threads(2, lambda i: (backward_side, recorder_side)[i]())
    assert seen == {"inside0": False, "inside1": False,
                    "record0": (True, True, True), "record1": (True, True, True),
                    "x.grad": [3.0, 3.0], "dx": [2.0, 4.0], "after": True}
