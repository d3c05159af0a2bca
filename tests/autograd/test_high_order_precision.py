"""High-order derivatives keep their precision where PyTorch's do."""
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
