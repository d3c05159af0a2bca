"""High-order derivatives keep their precision where PyTorch's do."""
import numpy as np
import pytest
import torch

import chainrule as cr


def test_div_high_order_derivatives_keep_precision():
    """Regression: div's VJP was -g * a / (b * b); with b ~ 1e6 the sixth derivative of
    (1 - e^-2x) / (1 + e^-2x) at x = -7 came out as 2.1e6 instead of 1.06e-4 (PyTorch's rule is
    -g * ((a / b) / b))."""
    for m in (cr, torch):
        x = m.tensor([-7.0], dtype=m.float64, requires_grad=True)
        g = (1.0 - m.exp(-2.0 * x)) / (1.0 + m.exp(-2.0 * x))
        for _ in range(6):
            g, = m.autograd.grad(g.sum(), x, create_graph=True)
        assert g.item() == pytest.approx(1.0643001e-4, rel=1e-6)
    with cr.autograd.forward_ad.dual_level():
        x = cr.autograd.forward_ad.make_dual(cr.tensor([2.0e6], dtype=cr.float64),
                                             cr.tensor([1.0], dtype=cr.float64))
        t = cr.autograd.forward_ad.unpack_dual(1.0 / x + x / (x * 3.0)).tangent
    assert t.item() == pytest.approx(-1 / 4e12, rel=1e-12)


@pytest.mark.parametrize("name, node", [("tanh", "TanhBackwardBackward0"),
                                        ("sigmoid", "SigmoidBackwardBackward0"),
                                        ("relu", "ThresholdBackwardBackward0")])
def test_derivative_of_an_activation_derivative_is_one_node_as_in_torch(name, node):
    # create_graph=True records the activation's backward as one op (PyTorch's
    # tanh_backward, sigmoid_backward, threshold_backward), down to the third derivative;
    # relu's second derivative is zeros with a graph, not an error
    x = np.array([0.3, -0.2, 0.5, 1.5])
    out = []
    for lib in (cr, torch):
        xt = lib.tensor(x, requires_grad=True)
        g, = lib.autograd.grad(getattr(lib, name)(xt).sum(), xt, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), xt, create_graph=True)
        ggg, = lib.autograd.grad(gg.sum(), xt)
        out.append((g.grad_fn.name(), gg.grad_fn.name() if gg.grad_fn else None,
                    g.detach().numpy(), gg.detach().numpy(), ggg.numpy()))
    assert out[0][0] == out[1][0] == node
    for a, b in zip(out[0][2:], out[1][2:]):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-300)
