"""Observers (``grad_mode.observe``): the core's extension point for code that watches it
(``viz.record``, anomaly detection).  They are per thread, see the ops of the program (not
the ops an op runs inside itself), and wrap each backward step."""
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule._grad_mode import SHARED, observe, unobserve


class Log:
    def __init__(self):
        self.ops, self.nodes = [], []

    def op_ran(self, op, args, params, out):
        self.ops.append((op.name, out.requires_grad))

    def run_node(self, node, run):
        grads = run()
        self.nodes.append((node.name(), [None if g is None else np.asarray(g).copy()
                                         for g in grads]))
        return grads


def test_an_observer_sees_each_op_and_wraps_each_backward_step():
    x = cr.tensor([0.5, 1.5], dtype=cr.float64, requires_grad=True)
    log = Log()
    observe(log)
    try:
        y = (x.sin() * 3.0).sum()
        y.backward()
    finally:
        unobserve(log)
    assert log.ops == [("sin", True), ("mul", True), ("sum", True)]
    assert [n for n, _ in log.nodes] == ["SumBackward0", "MulBackward0", "SinBackward0"]
    # the gradients the hook saw are the ones the engine used
    np.testing.assert_allclose(log.nodes[-1][1][0], 3.0 * np.cos([0.5, 1.5]))
    np.testing.assert_allclose(x.grad.numpy(), 3.0 * np.cos([0.5, 1.5]))
    assert SHARED.observed == 0


def test_a_run_node_hook_can_replace_the_gradients():
    class Double:
        def run_node(self, node, run):
            return [None if g is None else g * 2 for g in run()]
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    d = Double()
    observe(d)
    try:
        (x * x).sum().backward()
    finally:
        unobserve(d)
    # two nodes doubled (sum, then mul: both inputs of x * x), 2x * 2 * 2
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])


def test_what_an_observer_sees_of_custom_functions_and_forward_mode():
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a                    # runs as the program's op, with grad mode off

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return 2 * a * g
    x = cr.tensor([3.0], requires_grad=True)
    log = Log()
    observe(log)
    try:
        y = Square.apply(x).exp()
        import chainrule.autograd.forward_ad as fwAD
        with fwAD.dual_level():
            d = fwAD.make_dual(cr.tensor([0.5]), cr.tensor([1.0]))
            s = d.sin()                     # its JVP rule's ops (cos, mul) run inside it
            tangent = float(fwAD.unpack_dual(s).tangent)
    finally:
        unobserve(log)
    names = [n for n, _ in log.ops]
    assert log.ops[:3] == [("mul", False), ("Square", True), ("exp", True)]
    assert names[3:] == ["view", "sin", "view"]   # (make_dual, unpack_dual: views)
    assert float(y) == pytest.approx(np.exp(9.0))
    assert tangent == pytest.approx(np.cos(0.5))


def test_observers_are_per_thread():
    log, other = Log(), []
    observe(log)
    try:
        def work():
            other.append(SHARED.observed)
            cr.ones(2).exp()
        t = threading.Thread(target=work)
        t.start()
        t.join()
        cr.ones(2).sin()
    finally:
        unobserve(log)
    assert other == [1]                          # one thread observes ...
    assert [n for n, _ in log.ops] == ["sin"]    # ... and sees only its own ops
    assert SHARED.observed == 0


def test_a_thread_that_ends_observing_leaves_the_count():
    def work():
        observe(Log())
    t = threading.Thread(target=work)
    t.start()
    t.join()
    del t
    import gc
    gc.collect()
    assert SHARED.observed == 0


def test_unobserve_names_an_observer_that_is_not_attached():
    with pytest.raises(ValueError, match="unobserve: .* is not attached to this thread"):
        unobserve(Log())


def test_viz_record_in_one_thread_does_not_record_another():
    seen = []
    with cr.viz.record() as rec:
        t = threading.Thread(target=lambda: seen.append(cr.ones(2).exp()))
        t.start()
        t.join()
        cr.ones(2).cos()
    assert [e.name for e in rec.events] == ["cos"]
