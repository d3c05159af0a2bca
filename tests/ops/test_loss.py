"""Loss functions of ``nn.functional`` against PyTorch and finite differences: value, VJP,
JVP, second order (float64) and float32 dtype preservation, via the op-table harness.

The losses are composites of rule-table ops; ``op=`` names the main op each row exercises.
Integer targets and weights are constants inside the row's function."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as CF
from oplib import OpCase, table_tests


def F(m):
    return m.nn.functional


def _probs(r, shape, axis=1):
    p = r.uniform(0.1, 1.0, shape)
    return p / p.sum(axis=axis, keepdims=True)


P01 = (0.05, 0.95)          # probabilities away from 0 and 1

CASES = [
    # regression losses
    OpCase("mse_mean", lambda m, x, y: F(m).mse_loss(x, y), [(3, 4), (3, 4)], op="mse_loss"),
    OpCase("mse_sum", lambda m, x, y: F(m).mse_loss(x, y, reduction="sum"), [(5,), (5,)],
           op="mse_loss"),
    OpCase("mse_none", lambda m, x, y: F(m).mse_loss(x, y, reduction="none"), [(2, 3), (2, 3)],
           op="mse_loss"),
    OpCase("mse_const_target", lambda m, x: F(m).mse_loss(x, m.ones(4, dtype=x.dtype)), [(4,)],
           op="mse_loss"),
    OpCase("mse_mean_3d", lambda m, x, y: F(m).mse_loss(x * 3, y),
           [(2, 2, 3), (2, 2, 3)], op="mse_loss"),
    OpCase("mse_0d", lambda m, x, y: F(m).mse_loss(x, y), [(), ()], op="mse_loss"),
    OpCase("l1_mean", lambda m, x, y: F(m).l1_loss(x, y), [(3, 4), (3, 4)], op="abs"),
    OpCase("l1_none", lambda m, x, y: F(m).l1_loss(x, y, reduction="none"), [(5,), (5,)],
           op="abs"),
    # cross entropy with class indices
    OpCase("ce_idx_mean", lambda m, x: F(m).cross_entropy(x, m.tensor([1, 0, 2, 2])),
           [(4, 3)], op="nll_loss"),
    OpCase("ce_idx_sum", lambda m, x: F(m).cross_entropy(x, m.tensor([1, 0, 2]),
                                                        reduction="sum"), [(3, 5)], op="nll_loss"),
    OpCase("ce_idx_none", lambda m, x: F(m).cross_entropy(x, m.tensor([4, 0, 2]),
                                                         reduction="none"), [(3, 5)],
           op="nll_loss"),
    OpCase("ce_idx_unbatched", lambda m, x: F(m).cross_entropy(x, m.tensor(2)), [(4,)],
           op="nll_loss"),
    OpCase("ce_idx_spatial", lambda m, x: F(m).cross_entropy(
        x, m.tensor([[0, 2], [1, 1]]), reduction="none"), [(2, 3, 2)], op="gather"),
    OpCase("ce_idx_weight", lambda m, x: F(m).cross_entropy(
        x, m.tensor([1, 0, 2, 2]), weight=m.tensor([0.5, 2.0, 1.5], dtype=x.dtype)),
        [(4, 3)], op="nll_loss"),
    OpCase("ce_idx_ignore", lambda m, x: F(m).cross_entropy(
        x, m.tensor([1, -100, 2, 0]), ignore_index=-100), [(4, 3)], op="nll_loss"),
    OpCase("ce_idx_ignore_class", lambda m, x: F(m).cross_entropy(
        x, m.tensor([1, 0, 2, 0]), ignore_index=0, reduction="sum"), [(4, 3)], op="nll_loss"),
    OpCase("ce_idx_smooth", lambda m, x: F(m).cross_entropy(
        x, m.tensor([1, 0, 2]), label_smoothing=0.2), [(3, 4)], op="nll_loss"),
    OpCase("ce_idx_smooth_weight_ignore", lambda m, x: F(m).cross_entropy(
        x, m.tensor([1, 0, 2, 3]), weight=m.tensor([0.5, 2.0, 1.5, 1.0], dtype=x.dtype),
        ignore_index=3, label_smoothing=0.1), [(4, 4)], op="nll_loss"),
    OpCase("ce_idx_smooth_none", lambda m, x: F(m).cross_entropy(
        x, m.tensor([1, 0, 2]), label_smoothing=0.3, reduction="none"), [(3, 4)], op="nll_loss"),
    OpCase("ce_idx_large_logits", lambda m, x: F(m).cross_entropy(x * 500, m.tensor([1, 0])),
           [(2, 3)], op="exp", fd_eps=1e-8, atol=1e-5),
    # cross entropy with class probabilities (the target is differentiable too)
    OpCase("ce_prob_mean", lambda m, x, p: F(m).cross_entropy(x, p), [(3, 4), (3, 4)],
           make=lambda r: [r.uniform(-2, 2, (3, 4)), _probs(r, (3, 4))], op="exp"),
    OpCase("ce_prob_sum_weight", lambda m, x, p: F(m).cross_entropy(
        x, p, weight=m.tensor([1.0, 0.5, 2.0], dtype=x.dtype), reduction="sum"),
        [(2, 3), (2, 3)], make=lambda r: [r.uniform(-2, 2, (2, 3)), _probs(r, (2, 3))],
        op="exp"),
    OpCase("ce_prob_none_smooth", lambda m, x, p: F(m).cross_entropy(
        x, p, reduction="none", label_smoothing=0.1), [(2, 3), (2, 3)],
        make=lambda r: [r.uniform(-2, 2, (2, 3)), _probs(r, (2, 3))], op="exp"),
    OpCase("ce_prob_unbatched", lambda m, x, p: F(m).cross_entropy(x, p), [(4,), (4,)],
           make=lambda r: [r.uniform(-2, 2, (4,)), _probs(r, (4,), 0)], op="exp"),
    # nll
    OpCase("nll_mean", lambda m, x: F(m).nll_loss(x, m.tensor([1, 0, 2])), [(3, 4)],
           op="nll_loss"),
    OpCase("nll_weight_ignore", lambda m, x: F(m).nll_loss(
        x, m.tensor([1, 0, 2, 1]), weight=m.tensor([1.0, 2.0, 0.5], dtype=x.dtype),
        ignore_index=0), [(4, 3)], op="nll_loss"),
    OpCase("nll_none_unbatched", lambda m, x: F(m).nll_loss(x, m.tensor(1), reduction="none"),
           [(3,)], op="nll_loss"),
    OpCase("nll_none_ignore_weight", lambda m, x: F(m).nll_loss(
        x, m.tensor([2, 1, 1, 0]), weight=m.tensor([1.0, 0.0, 3.0], dtype=x.dtype),
        ignore_index=1, reduction="none"), [(4, 3)], op="nll_loss"),
    OpCase("nll_unbatched_ignored", lambda m, x: F(m).nll_loss(x, m.tensor(1), ignore_index=1,
                                                              reduction="sum"),
           [(3,)], op="nll_loss"),
    OpCase("nll_sum_spatial", lambda m, x: F(m).nll_loss(x, m.tensor([[0, 1, 1]]),
                                                        reduction="sum"), [(1, 2, 3)],
           op="gather"),
    # binary cross entropy
    OpCase("bce_mean", lambda m, x, y: F(m).binary_cross_entropy(x, y), [(3, 2), (3, 2)],
           domain=P01, op="binary_cross_entropy"),
    OpCase("bce_weight_none", lambda m, x, y: F(m).binary_cross_entropy(
        x, y, weight=m.tensor([0.5, 2.0], dtype=x.dtype), reduction="none"), [(3, 2), (3, 2)],
        domain=P01, op="binary_cross_entropy"),
    OpCase("bce_logits_mean", lambda m, x, y: F(m).binary_cross_entropy_with_logits(x, y),
           [(3, 4), (3, 4)], make=lambda r: [r.uniform(-4, 4, (3, 4)), r.uniform(0, 1, (3, 4))],
           op="exp"),
    OpCase("bce_logits_large", lambda m, x, y: F(m).binary_cross_entropy_with_logits(
        x * 100, y, reduction="sum"), [(4,), (4,)],
        make=lambda r: [r.uniform(-4, 4, (4,)), r.uniform(0, 1, (4,))], op="exp",
        fd_eps=1e-8, atol=1e-5),
    OpCase("bce_logits_posw_weight", lambda m, x, y: F(m).binary_cross_entropy_with_logits(
        x, y, weight=m.tensor([1.0, 0.5, 2.0], dtype=x.dtype),
        pos_weight=m.tensor([3.0, 1.0, 0.2], dtype=x.dtype), reduction="none"),
        [(2, 3), (2, 3)], make=lambda r: [r.uniform(-3, 3, (2, 3)), r.uniform(0, 1, (2, 3))],
        op="exp"),
    OpCase("bce_logits_at_zero", lambda m, x: F(m).binary_cross_entropy_with_logits(
        x * 0, m.full_like(x, 0.25)), [(3,)], op="exp"),
    # dropout: identity when p=0 or not training; a fixed-seed mask is tested below
    OpCase("dropout_p0", lambda m, x: F(m).dropout(x, p=0.0) * 1.0, [(3, 2)], op="mul"),
    OpCase("dropout_eval", lambda m, x: F(m).dropout(x, p=0.7, training=False) * 2.0, [(4,)],
           op="mul"),
]


test_value, test_vjp, test_jvp, test_second_order, test_float32 = table_tests(CASES)


# --- behaviour beyond the table ----------------------------------------------------------

def test_cross_entropy_composite_fallback_matches(monkeypatch):
    """The built-in stable log-softmax (used when nn.functional has no log_softmax) gives
    the same loss and gradient as PyTorch."""
    import chainrule.nn.functional as fn
    monkeypatch.delattr(fn, "log_softmax", raising=False)
    x = np.random.default_rng(1).standard_normal((4, 3)) * 30
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    CF.cross_entropy(xc, cr.tensor([0, 2, 1, 1])).backward()
    torch.nn.functional.cross_entropy(xt, torch.tensor([0, 2, 1, 1])).backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), atol=1e-12)


def test_all_ignored_gives_nan_like_torch():
    x = cr.zeros(2, 3)
    with np.errstate(invalid="ignore"):
        v = CF.cross_entropy(x, cr.tensor([1, 1]), ignore_index=1)
    assert np.isnan(v.item())
    assert np.isnan(torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.tensor([1, 1]),
                                                      ignore_index=1).item())


@pytest.mark.parametrize("call, exc, text", [
    (lambda m: F(m).cross_entropy(m.zeros(3, 4), m.tensor([1, 5, 0])), IndexError,
     "Target 5 is out of bounds"),
    (lambda m: F(m).cross_entropy(m.zeros(3, 4), m.tensor([1.0, 2.0, 0.0])), RuntimeError,
     "expected target dtype to be Long or Byte"),
    (lambda m: F(m).cross_entropy(m.zeros(3, 4), m.tensor([1, 2])), ValueError,
     "Expected input batch_size (3) to match target batch_size (2)"),
    (lambda m: F(m).cross_entropy(m.zeros(3, 4), m.tensor([1, 2, 0]), reduction="avg"),
     ValueError, "avg is not a valid value for reduction"),
    (lambda m: F(m).cross_entropy(m.zeros(3, 4), m.zeros(3, 4), ignore_index=1), RuntimeError,
     "ignore_index is not supported for floating point target"),
    (lambda m: F(m).cross_entropy(m.zeros(3), m.tensor([1, 1, 1])), RuntimeError,
     "Expected floating point type for target with class probabilities"),
    (lambda m: F(m).nll_loss(m.zeros(3, 4), m.tensor([1, -1, 0])), IndexError,
     "Target -1 is out of bounds"),
    (lambda m: F(m).nll_loss(m.zeros(3, 4, 5, 6), m.zeros(3, 5, 7, dtype=m.long)),
     RuntimeError, "size mismatch (got input: [3, 4, 5, 6] , target: [3, 5, 7]"),
    (lambda m: F(m).binary_cross_entropy(m.tensor([0.5, 1.5]), m.tensor([0.0, 1.0])),
     RuntimeError, "all elements of input should be between 0 and 1"),
    (lambda m: F(m).binary_cross_entropy(m.tensor([0.5, 0.5]), m.tensor([0.0, 1.0, 1.0])),
     ValueError, "that is different to the input size"),
    (lambda m: F(m).binary_cross_entropy(m.tensor([0.3, 0.6]), m.tensor([0.0, 1.0]),
                                         weight=m.tensor([1.0, 2.0], requires_grad=True)),
     RuntimeError, "is not differentiable with respect to argument 'weight'"),
    (lambda m: F(m).binary_cross_entropy_with_logits(m.zeros(2), m.zeros(3)), ValueError,
     "must be the same as input size"),
    (lambda m: F(m).dropout(m.zeros(2), 1.5), ValueError,
     "dropout probability has to be between 0 and 1, but got 1.5"),
])
def test_errors_match_torch(call, exc, text):
    for m in (torch, cr):
        with pytest.raises(exc) as info:
            call(m)
        assert text in str(info.value), (m.__name__, str(info.value))


def test_mse_broadcast_warns():
    with pytest.warns(UserWarning, match="different to the input size"):
        v = CF.mse_loss(cr.tensor([0.5, 0.5]), cr.tensor([[0.0, 1.0], [1.0, 1.0]]))
    assert v.item() == pytest.approx(0.25)


def test_legacy_size_average_reduce():
    x, y = cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0])
    with pytest.warns(UserWarning):
        assert CF.mse_loss(x, y, size_average=False).item() == 10.0
    with pytest.warns(UserWarning):
        assert CF.mse_loss(x, y, reduce=False).tolist() == [1.0, 9.0]


def test_dropout_mask_scaling_and_gradient():
    cr.manual_seed(3)
    x = cr.ones(1000, dtype=cr.float64, requires_grad=True)
    y = CF.dropout(x, p=0.25)
    vals = set(np.round(y.detach().numpy(), 12).tolist())
    assert vals <= {0.0, round(1 / 0.75, 12)}
    frac = float((y.detach().numpy() == 0).mean())
    assert 0.2 < frac < 0.3                       # about p of the elements are dropped
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())   # grad is the mask
    # same seed, same mask
    cr.manual_seed(3)
    np.testing.assert_array_equal(CF.dropout(cr.ones(1000, dtype=cr.float64), 0.25).numpy(),
                                  y.detach().numpy())
    assert (CF.dropout(cr.ones(5), p=1.0).numpy() == 0).all()
    assert CF.dropout(cr.ones(3), p=0.4).dtype == cr.float32
