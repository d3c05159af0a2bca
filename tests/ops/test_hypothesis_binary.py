"""Property tests: every broadcasting binary op of the rule table, on shapes drawn by
Hypothesis (mutually broadcastable, 0-d included), gives PyTorch's value, VJP and JVP in
float64.  The ops are found through ``op.broadcasts``; a new broadcasting op must be added
to ``BINARY`` (or to ``NOT_ELEMENTWISE`` with the reason)."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as t_fw
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr
import chainrule.autograd.forward_ad as cr_fw
from chainrule.ops import OPS


def _uniform(lo, hi):
    return lambda r, s: r.uniform(lo, hi, s)


def _away_from_zero(r, s):
    return r.uniform(0.5, 2.0, s) * r.choice([-1.0, 1.0], s)


def _mask(r, s):
    return r.random(s) < 0.5


# op name -> (function of (lib, *operands), input makers; a maker's output is a float
# operand that gets a gradient, unless it is a bool mask)
BINARY = {
    "add": (lambda m, a, b: a + b, [_uniform(-2, 2)] * 2),
    "sub": (lambda m, a, b: m.sub(a, b, alpha=2), [_uniform(-2, 2)] * 2),
    "mul": (lambda m, a, b: a * b, [_uniform(-2, 2)] * 2),
    "div": (lambda m, a, b: a / b, [_uniform(-2, 2), _away_from_zero]),
    "pow_tensor": (lambda m, a, b: m.pow(a, b), [_uniform(0.5, 2), _uniform(-2, 2)]),
    "maximum": (lambda m, a, b: m.maximum(a, b), [_uniform(-2, 2)] * 2),
    "minimum": (lambda m, a, b: m.minimum(a, b), [_uniform(-2, 2)] * 2),
    "where": (lambda m, c, a, b: m.where(c, a, b), [_mask, _uniform(-2, 2), _uniform(-2, 2)]),
    "atan2": (lambda m, a, b: m.atan2(a, b), [_uniform(-2, 2), _away_from_zero]),
    # the input broadcast to the result's shape first: PyTorch 2.13's ClampBackward0 raises
    # when the input has fewer elements than the result ("output with shape [] doesn't match
    # the broadcast shape [1]"); chainrule's bound gradients are still summed back
    "clamp_tensor": (lambda m, a, lo, hi: m.clamp(a + (lo + hi) * 0, lo, hi),
                     [_uniform(-2, 2), _uniform(-1, -0.1), _uniform(0.1, 1)]),
    "clamp_min_tensor": (lambda m, a, lo: m.clamp_min(a + lo * 0, lo), [_uniform(-2, 2)] * 2),
    "clamp_max_tensor": (lambda m, a, hi: (a + hi * 0).clamp_max(hi), [_uniform(-2, 2)] * 2),
    "remainder": (lambda m, a, b: m.remainder(a, b), [_uniform(-5, 5), _away_from_zero]),
    "fmod": (lambda m, a, b: m.fmod(a, b), [_uniform(-5, 5), _away_from_zero]),
    "div_rounding": (lambda m, a, b: m.div(a, b, rounding_mode="floor") * a,
                     [_uniform(-5, 5), _away_from_zero]),
    "hypot": (lambda m, a, b: m.hypot(a, b), [_away_from_zero] * 2),
    "copysign": (lambda m, a, b: m.copysign(a, b), [_away_from_zero] * 2),
    "xlogy": (lambda m, a, b: m.xlogy(a, b), [_uniform(-2, 2), _uniform(0.3, 2)]),
    "lerp": (lambda m, a, b: m.lerp(a, b, 0.3), [_uniform(-2, 2)] * 2),
    "lerp_tensor": (lambda m, a, b, w: m.lerp(a, b, w),
                    [_uniform(-2, 2), _uniform(-2, 2), _uniform(-0.5, 1.5)]),
    "masked_fill": (lambda m, a, c: a.masked_fill(c, 0.5), [_uniform(-2, 2), _mask]),
    # the VJPs of tanh, sigmoid and relu as ops (PyTorch's aten ops broadcast too)
    "tanh_backward": (lambda m, g, y: (torch.ops.aten.tanh_backward if m is torch else
                                       cr.ops.unary.tanh_backward)(g, y),
                      [_uniform(-2, 2), _uniform(-1, 1)]),
    "sigmoid_backward": (lambda m, g, y: (torch.ops.aten.sigmoid_backward if m is torch else
                                          cr.ops.activation.sigmoid_backward)(g, y),
                         [_uniform(-2, 2), _uniform(0, 1)]),
    "threshold_backward": (lambda m, g, y: (torch.ops.aten.threshold_backward(g, y, 0)
                                            if m is torch else
                                            cr.ops.activation.relu_backward(g, y)),
                           [_uniform(-2, 2), _away_from_zero]),
    "masked_fill_tensor": (lambda m, a, c: a.masked_fill(c, a.sum() * 0.0 + 1.5),
                           [_uniform(-2, 2), _mask]),
}

# broadcasting ops that are not elementwise binary ops: their batch broadcasting is covered
# by rows of the op table
NOT_ELEMENTWISE = {
    "pow_scalar_base": "a Python number to a tensor power: only one tensor operand",
    "xlogy_scalar_other": "xlogy(tensor, Python number): only one tensor operand",
    "xlogy_scalar_self": "xlogy(Python number, tensor): only one tensor operand",
    "matmul": "matrix product (batch dimensions broadcast)",
    "dot": "1-D product, no broadcasting",
    "mv": "matrix-vector product, no broadcasting",
    "mm": "matrix product, no broadcasting",
    "addmm": "input + matrix product: only the input broadcasts, to the product's shape "
             "(op rows addmm, addmm_beta_alpha)",
    "bmm": "batched matrix product, no broadcasting",
    "matmul_batched": "batched matrix product (batch dimensions broadcast)",
    "linalg_solve": "linear solve (batch dimensions broadcast)",
    "copy": "copy_: the source broadcasts one way, to the destination's shape (core op rows)",
    "floor_divide": "no derivative in PyTorch (backward raises): values are checked in "
                    "tests/ops/test_rounding.py",
}


def test_every_broadcasting_op_is_drawn_here():
    missing = sorted(name for name, op in OPS.items()
                     if op.broadcasts and name not in BINARY and name not in NOT_ELEMENTWISE)
    assert not missing, (f"broadcasting ops without a Hypothesis entry in "
                         f"tests/ops/test_hypothesis_binary.py: {missing}")
    assert all(name in OPS for name in BINARY)


def _tangent(lib, fw, fn, arrays, u):
    with fw.dual_level():
        xs = [lib.tensor(a) if a.dtype == np.bool_ else
              fw.make_dual(lib.tensor(a, dtype=lib.float64), lib.tensor(t, dtype=lib.float64))
              for a, t in zip(arrays, u)]
        t = fw.unpack_dual(fn(lib, *xs)).tangent
        return None if t is None else t.numpy()


def _run(lib, fn, arrays, v):
    xs = []
    for a in arrays:
        if a.dtype == np.bool_:
            xs.append(lib.tensor(a))
        else:
            xs.append(lib.tensor(a, dtype=lib.float64).requires_grad_(True))
    out = fn(lib, *xs)
    diff = [x for x in xs if x.requires_grad]
    gs = lib.autograd.grad(out, diff, lib.tensor(v), allow_unused=True)
    return out.detach().numpy(), [None if g is None else g.numpy() for g in gs]


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
def test_broadcast_value_vjp_jvp_match_torch(name, data):
    fn, makers = BINARY[name]
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=len(makers), min_dims=0,
                                                     max_dims=3, max_side=3), label="shapes")
    seed = data.draw(st.integers(0, 2 ** 31 - 1), label="seed")
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(mk(rng, s)) for mk, s in zip(makers, shapes.input_shapes)]
    v = np.random.default_rng(seed + 1).standard_normal(shapes.result_shape)
    out_c, gc = _run(cr, fn, arrays, v)
    out_t, gt = _run(torch, fn, arrays, v)
    assert out_c.shape == out_t.shape == shapes.result_shape
    np.testing.assert_allclose(out_c, out_t, rtol=1e-12, atol=1e-12)
    # forward mode: the tangent along a random direction, broadcast centrally
    u = [np.random.default_rng(seed + 2).standard_normal(a.shape) for a in arrays]
    tc = _tangent(cr, cr_fw, fn, arrays, u)
    tt = _tangent(torch, t_fw, fn, arrays, u)
    tc = np.zeros(out_t.shape) if tc is None else tc
    tt = np.zeros(out_t.shape) if tt is None else tt
    assert tc.shape == out_t.shape, f"{name}: tangent shape {tc.shape}"
    np.testing.assert_allclose(tc, tt, rtol=1e-10, atol=1e-12, err_msg=f"{name}: JVP")
    diff_shapes = [a.shape for a in arrays if a.dtype != np.bool_]
    for i, (a, b, s) in enumerate(zip(gc, gt, diff_shapes)):
        a = np.zeros(s) if a is None else a
        b = np.zeros(s) if b is None else b
        assert a.shape == s, f"{name}: gradient {i} has shape {a.shape}, input {s}"
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name}: VJP of input {i}")
