"""gradcheck / gradgradcheck (issue 4): the whole rule table in both modes, PyTorch's
keyword arguments and failure messages, and agreement with torch.autograd.gradcheck.

The table rows are the ``OpCase`` lists of every ``tests/ops/test_*.py`` module, loaded at
run time (so rows added by any module are checked too)."""
import importlib.util
import pathlib
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import GradcheckError, gradcheck, gradgradcheck
from oplib import OpCase, inputs
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

OPS_DIR = pathlib.Path(__file__).parent.parent / "ops"


def _table_rows():
    rows = []
    for path in sorted(OPS_DIR.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_gc_rows_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:            # a module another helper is editing right now
            continue
        seen = set()
        for value in vars(mod).values():
            if isinstance(value, (list, tuple)) and value and all(
                    isinstance(c, OpCase) for c in value):
                for c in value:
                    if id(c) not in seen:
                        seen.add(id(c))
                        rows.append(pytest.param(c, id=f"{path.stem[5:]}::{c.name}"))
    return rows


ROWS = [r for r in _table_rows() if r.values[0].grad and not r.values[0].nondiff_output]


def _inputs(case):
    return tuple(cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in inputs(case))


def _fn(case):
    return lambda *xs: case.fn(cr, *xs)


def _tol(case):
    return dict(eps=case.fd_eps, atol=max(1e-5, case.atol), rtol=1e-3)


@pytest.mark.parametrize("case", ROWS)
def test_gradcheck_rule_table(case):
    assert gradcheck(_fn(case), _inputs(case), check_forward_ad=case.fwd, **_tol(case))


@pytest.mark.parametrize("case", [r for r in ROWS if r.values[0].second])
def test_gradgradcheck_rule_table(case):
    assert gradgradcheck(_fn(case), _inputs(case), check_fwd_over_rev=case.fwd,
                         **_tol(case))


def test_table_is_not_empty():
    assert len(ROWS) > 50


# --- behaviour ----------------------------------------------------------------------------

def _x(m, rg=True, dtype=None):
    return m.tensor([0.5, 1.5, -0.3], dtype=dtype or m.float64, requires_grad=rg)


def _bad(m):
    class Bad(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos() * 1.5            # wrong by a factor 1.5

        @staticmethod
        def jvp(ctx, t):
            return t * 2.0                       # wrong
    return Bad


def test_failure_message_shows_both_jacobians_and_positions():
    x = _x(cr)
    with pytest.raises(GradcheckError) as info:
        gradcheck(_bad(cr).apply, (x,))
    msg = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "Jacobian mismatch for output 0 with respect to input 0" in msg
    num = np.diag(np.cos([0.5, 1.5, -0.3]))
    assert "numerical:" in msg and "analytical:" in msg
    # the printed matrices are the Jacobians (input numel, output numel)
    assert f"{num[0, 0]:.4f}" in msg and f"{1.5 * num[0, 0]:.4f}" in msg
    assert "(0, 0), (1, 1), (2, 2)" in msg
    # torch reports the same kind of failure
    with pytest.raises(TorchGradcheckError, match="Jacobian mismatch"):
        torch.autograd.gradcheck(_bad(torch).apply, (_x(torch),))


def test_forward_mode_failure():
    class BadJvp(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            return g * 3

        @staticmethod
        def jvp(ctx, t):
            return t * 2
    assert gradcheck(BadJvp.apply, (_x(cr),))
    with pytest.raises(GradcheckError, match="Jacobian computed with forward mode mismatch"):
        gradcheck(BadJvp.apply, (_x(cr),), check_forward_ad=True)


def test_raise_exception_false_returns_false():
    assert gradcheck(_bad(cr).apply, (_x(cr),), raise_exception=False) is False
    assert torch.autograd.gradcheck(_bad(torch).apply, (_x(torch),),
                                    raise_exception=False) is False


def test_fast_mode():
    assert gradcheck(lambda a: (a.exp() * a).sum(dim=0), (_x(cr),), fast_mode=True,
                     check_forward_ad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(_bad(cr).apply, (_x(cr),), fast_mode=True)


def test_multiple_inputs_outputs_and_non_tensor_args():
    a = cr.tensor([[0.2, 0.1, 0.4], [1.0, 2.0, 3.0]], dtype=cr.float64, requires_grad=True)
    const = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)        # not differentiated

    def f(x, y, c, k):
        return x.sin() * y + c * k, (x * y).sum()
    assert gradcheck(f, (_x(cr), a, const, 2.0), check_forward_ad=True)
    assert gradgradcheck(f, (_x(cr), a, const, 2.0), check_fwd_over_rev=True)


def test_gradgradcheck_detects_wrong_second_derivative():
    class WrongSecond(cr.autograd.Function):      # backward is not differentiable correctly
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2       # detach: second derivative lost
    assert gradcheck(WrongSecond.apply, (_x(cr),))
    with pytest.raises(GradcheckError):
        gradgradcheck(WrongSecond.apply, (_x(cr),))


def test_input_checks_like_torch():
    for m, check in ((cr, gradcheck), (torch, torch.autograd.gradcheck)):
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            check(lambda a: a * 2, (_x(m, rg=False),))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            check(lambda a: a * 2, (_x(m, dtype=m.float32),), raise_exception=False)
        assert any("not a double precision" in str(x.message) for x in w)


def test_agrees_with_torch_gradcheck_on_examples():
    funcs = [lambda m, a: (a * a.exp()).cumsum(0), lambda m, a: m.stack([a.sum(), a.prod()]),
             lambda m, a: a.abs() * 2]
    for f in funcs:
        ours = gradcheck(lambda a: f(cr, a), (_x(cr),), check_forward_ad=True)
        theirs = torch.autograd.gradcheck(lambda a: f(torch, a), (_x(torch),),
                                          check_forward_ad=True)
        assert ours is theirs is True
