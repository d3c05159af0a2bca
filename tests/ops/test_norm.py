"""Normalisation functions (``batch_norm``, ``layer_norm``, ``group_norm``) against PyTorch
and finite differences: value, VJP, JVP, second order (float64) and float32 dtype
preservation, via the op-table harness.  Each is one op with its affine part
(``native_batch_norm``, ``native_layer_norm``, ``native_group_norm``), with and without
weight and bias; the node names are PyTorch's."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oplib import OpCase, table_tests


def F(m):
    return m.nn.functional


def _bn_train(m, x, w, b):
    return F(m).batch_norm(x, None, None, w, b, training=True, eps=1e-3)


def _bn_eval(m, x, w=None, b=None):
    rm = m.tensor([0.1, -0.2, 0.3], dtype=x.dtype)
    rv = m.tensor([0.5, 1.5, 2.0], dtype=x.dtype)
    return F(m).batch_norm(x, rm, rv, w, b, training=False)


BN, LN, GN = "native_batch_norm", "native_layer_norm", "native_group_norm"

CASES = [
    OpCase("batch_norm_2d", lambda m, x: F(m).batch_norm(x, None, None, training=True),
           [(5, 3)], op=BN),
    OpCase("batch_norm_affine_3d", _bn_train, [(4, 3, 2), (3,), (3,)], op=BN),
    OpCase("batch_norm_4d", lambda m, x, w: F(m).batch_norm(x, None, None, w, training=True),
           [(2, 3, 2, 2), (3,)], op=BN),
    OpCase("batch_norm_eval", _bn_eval, [(4, 3, 2), (3,), (3,)], op=BN),
    OpCase("layer_norm_last", lambda m, x: F(m).layer_norm(x, (4,)), [(3, 4)], op=LN),
    OpCase("layer_norm_affine_2dims",
           lambda m, x, w, b: F(m).layer_norm(x, (2, 3), w, b, eps=1e-2),
           [(2, 2, 3), (2, 3), (2, 3)], op=LN),
    OpCase("layer_norm_weight_only", lambda m, x, w: F(m).layer_norm(x, [3], w),
           [(5, 3), (3,)], op=LN),
    OpCase("group_norm", lambda m, x, w, b: F(m).group_norm(x, 2, w, b),
           [(2, 4, 3), (4,), (4,)], op=GN),
    OpCase("group_norm_4d", lambda m, x: F(m).group_norm(x, 3),
           [(2, 3, 2, 2)], op=GN),
    OpCase("instance_like_group_norm", lambda m, x: F(m).group_norm(x, 4),
           [(1, 4, 5)], op=GN),
    # PyTorch 2.13's double backward of batch_norm with a bias and no weight fails
    # ("Expected a proper Tensor but got None"): compared with its batch_norm plus the bias
    OpCase("batch_norm_bias_only",
           lambda m, x, b: F(m).batch_norm(x, None, None, None, b, training=True) if m is cr
           else F(m).batch_norm(x, None, None, training=True) + b,
           [(4, 3), (3,)], op=BN),
    OpCase("batch_norm_eval_no_affine", lambda m, x: _bn_eval(m, x), [(2, 3, 2, 2)], op=BN),
    OpCase("batch_norm_eval_weight_only", lambda m, x, w: _bn_eval(m, x, w), [(4, 3), (3,)],
           op=BN),
    # (PyTorch's double backward fails here too: compared with the bias added)
    OpCase("batch_norm_eval_bias_only",
           lambda m, x, b: _bn_eval(m, x, None, b) if m is cr
           else _bn_eval(m, x) + b.reshape(-1, 1),
           [(4, 3, 2), (3,)], op=BN),
    OpCase("layer_norm_bias_only",
           lambda m, x, b: F(m).layer_norm(x, (3,), None, b) if m is cr
           else F(m).layer_norm(x, (3,)) + b,
           [(2, 3), (3,)], op=LN),
    OpCase("group_norm_weight_only", lambda m, x, w: F(m).group_norm(x, 2, w),
           [(3, 4, 2), (4,)], op=GN),
    # PyTorch 2.13's backward of group_norm with a bias and no weight fails ("tensor does
    # not have a device"): compared with its group_norm plus the bias added
    OpCase("group_norm_bias_only",
           lambda m, x, b: F(m).group_norm(x, 1, None, b) if m is cr
           else F(m).group_norm(x, 1) + b.reshape(1, -1, 1),
           [(2, 2, 3), (2,)], op=GN),
]

test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


def _err(fn_cr, fn_t):
    with pytest.raises(Exception) as et:
        fn_t(torch)
    with pytest.raises(et.type) as ec:
        fn_cr(cr)
    return str(et.value), str(ec.value)


@pytest.mark.parametrize("call", [
    lambda m: F(m).batch_norm(m.ones(1, 3), m.zeros(3), m.ones(3), training=True),
    lambda m: F(m).batch_norm(m.ones(2, 3), m.zeros(4), m.ones(4), training=True),
    lambda m: F(m).batch_norm(m.ones(2, 3), None, None, training=False),
    lambda m: F(m).batch_norm(m.ones(2, 3), None, None, m.ones(4), training=True),
    lambda m: F(m).batch_norm(m.ones(3), None, None, training=True),
    lambda m: F(m).batch_norm(m.ones(2, 3, dtype=m.int64), None, None, training=True),
    lambda m: F(m).layer_norm(m.ones(2, 3), (4,)),
    lambda m: F(m).layer_norm(m.ones(2, 3), (3,), m.ones(4)),
    lambda m: F(m).layer_norm(m.ones(2, 3, dtype=m.int64), (3,)),
    lambda m: F(m).group_norm(m.ones(2, 5, 3), 2),
    lambda m: F(m).group_norm(m.ones(2, 4, 3), 2, m.ones(3)),
    lambda m: F(m).group_norm(m.ones(4), 2),
], ids=["one_per_channel", "running_size", "eval_no_stats", "weight_size", "1d_input",
        "int_bn", "ln_shape", "ln_weight", "int_ln", "gn_groups", "gn_weight", "gn_1d"])
def test_errors_match_torch(call):
    t_msg, c_msg = _err(call, call)
    assert t_msg.split("(")[0][:25] in c_msg


def test_batch_norm_updates_running_stats_like_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 4)).astype(np.float32)
    rm_t, rv_t = torch.zeros(3), torch.ones(3)
    rm_c, rv_c = cr.zeros(3), cr.ones(3)
    for mom in (0.1, 0.7):
        yt = torch.nn.functional.batch_norm(torch.tensor(x), rm_t, rv_t, training=True,
                                            momentum=mom)
        yc = F(cr).batch_norm(cr.tensor(x), rm_c, rv_c, training=True, momentum=mom)
        np.testing.assert_allclose(yc.numpy(), yt.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rm_c.numpy(), rm_t.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rv_c.numpy(), rv_t.numpy(), rtol=1e-6, atol=1e-7)
    assert rm_c.dtype == cr.float32 and rv_c.dtype == cr.float32


def test_normalize_output_may_change_in_place():
    # the rules read the input, not the output (as PyTorch): relu_ on the output is legal
    x = cr.tensor([[1.0, 2.0], [3.0, 7.0], [0.0, 1.0]], requires_grad=True)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    yc = F(cr).layer_norm(x, (2,)).relu_()
    yt = torch.nn.functional.layer_norm(xt, (2,)).relu_()
    (yc * cr.tensor([[1.0, 2.0]] * 3)).sum().backward()
    (yt * torch.tensor([[1.0, 2.0]] * 3)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-6)


def test_constant_group_has_zero_output_and_finite_grad():
    x = cr.ones(2, 4, requires_grad=True)
    y = F(cr).layer_norm(x, (4,))
    assert (y.detach().numpy() == 0).all()
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("call,bias_saved", [
    (lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True), False),
    (lambda m, x, w, b: F(m).layer_norm(x, (3,), w, b), True),
    (lambda m, x, w, b: F(m).group_norm(x, 3, w, b), False)])
def test_in_place_changes_of_weight_and_bias_before_backward_as_torch(call, bias_saved):
    # PyTorch's batch and group norm save the input and the weight, not the bias; its
    # layer norm saves the bias too
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((4, 3), (3,), (3,))]
    for which, ok in ((2, not bias_saved), (1, False)):
        grads = []
        for m in (torch, cr):
            x, w, b = (m.tensor(a, requires_grad=True) for a in arrays)
            y = call(m, x, w, b)
            with m.no_grad():
                (x, w, b)[which].add_(1.0)
            if ok:
                y.sum().backward()
                grads.append([t.grad.numpy() for t in (x, w, b)])
            else:
                with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                    y.sum().backward()
        for a, c in zip(*grads):
            np.testing.assert_allclose(c, a, rtol=1e-10, atol=1e-12)
