"""Broadcasting binary ops against PyTorch in float64, on shapes drawn by Hypothesis.

For every drawn pair of broadcast-compatible shapes, the value and the vector-Jacobian
product with respect to both inputs (summed back to each input's shape) must match
PyTorch's.
"""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr

OPS = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "where": lambda m, a, b: m.where(a > b, a, b * 2),
    "pow": lambda m, a, b: a ** b,
    "radd_chain": lambda m, a, b: (a * 2 - b) * (a + 1) / (b * b + 1),
}

# shape pairs such as ((2, 1, 3), (4, 3)) or ((), (2, 2)), up to 4 dims and size 4
SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _inputs(op, shapes, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    if op == "pow":
        a = rng.uniform(0.5, 2.0, sa)                # positive base
        b = rng.uniform(-2.0, 2.0, sb)
    elif op == "div" or op == "radd_chain":
        a = rng.uniform(-2.0, 2.0, sa)
        b = rng.choice([-1.0, 1.0], sb) * rng.uniform(0.5, 2.0, sb)   # away from 0
    else:
        a = rng.uniform(-2.0, 2.0, sa)
        b = rng.uniform(-2.0, 2.0, sb)
        # keep maximum/minimum/where away from ties
        close = np.abs(np.broadcast_to(a, shapes.result_shape) -
                       np.broadcast_to(b, shapes.result_shape)) < 1e-3
        if close.any():
            b = b + 0.01
    return np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)


def _run(lib, fn, a, b, v):
    x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
    y = lib.tensor(b, dtype=lib.float64, requires_grad=True)
    out = fn(lib, x, y)
    ga, gb = lib.autograd.grad(out, (x, y), lib.tensor(v, dtype=lib.float64),
                               allow_unused=True)
    conv = (lambda t, s: np.zeros(s) if t is None else t.detach().numpy())
    return (tuple(out.shape), out.detach().numpy(), conv(ga, a.shape), conv(gb, b.shape),
            None if ga is None else tuple(ga.shape), None if gb is None else tuple(gb.shape))


@pytest.mark.parametrize("op", list(OPS))
@SETTINGS
@given(shapes=SHAPES, seed=st.integers(0, 2 ** 16))
def test_broadcast_value_and_vjp(op, shapes, seed):
    a, b = _inputs(op, shapes, seed)
    v = np.random.default_rng(seed + 1).standard_normal(shapes.result_shape)
    c = _run(cr, OPS[op], a, b, v)
    t = _run(torch, OPS[op], a, b, v)
    assert c[0] == t[0] == tuple(shapes.result_shape)
    np.testing.assert_allclose(c[1], t[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c[2], t[2], rtol=1e-10, atol=1e-12, err_msg="VJP wrt a")
    np.testing.assert_allclose(c[3], t[3], rtol=1e-10, atol=1e-12, err_msg="VJP wrt b")
    # gradients come back in each input's own shape
    assert c[4] in (None, a.shape) and c[5] in (None, b.shape)


@SETTINGS
@given(shapes=SHAPES, seed=st.integers(0, 2 ** 16))
def test_broadcast_second_order(shapes, seed):
    """Reverse-over-reverse through broadcasting (the sum-back is differentiable too)."""
    a, b = _inputs("mul", shapes, seed)

    def run(lib):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(b, dtype=lib.float64, requires_grad=True)
        out = (x * y * y + lib.maximum(x, y) * x).sum()
        gx, gy = lib.autograd.grad(out, (x, y), create_graph=True)
        h = lib.autograd.grad((gx * gx).sum() + gy.sum(), (x, y))
        return [g.detach().numpy() for g in (gx, gy) + tuple(h)]
    for p, q in zip(run(cr), run(torch)):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(shapes=SHAPES)
def test_incompatible_shapes_raise_like_torch(shapes):
    sa, sb = shapes.input_shapes
    if not sa:
        return
    bad = tuple(n + 1 if n > 1 else 2 for n in sa)      # no longer broadcastable with sa?
    try:
        np.broadcast_shapes(sa, bad)
        return
    except ValueError:
        pass
    for lib in (cr, torch):
        with pytest.raises(RuntimeError):
            lib.ones(sa) + lib.ones(bad)
