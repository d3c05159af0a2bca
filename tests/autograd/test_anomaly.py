"""detect_anomaly / set_detect_anomaly (issue 4): NaN in backward names the node and shows
where the op was created in user code."""
import warnings

import pytest
import torch

import chainrule as cr
from chainrule._grad_mode import SHARED


def _nan_backward(m):
    x = m.tensor([0.0, 1.0], requires_grad=True)
    y = m.sqrt(x * 0.0)           # THE_OP_LINE: sqrt'(0) = inf, times 0 -> nan in MulBackward0
    y.sum().backward()


def test_nan_names_node_and_user_line():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cr.autograd.detect_anomaly():
            with pytest.raises(RuntimeError) as info:
                _nan_backward(cr)
        with torch.autograd.detect_anomaly():
            with pytest.raises(RuntimeError) as tinfo:
                _nan_backward(torch)
    msg = str(info.value)
    assert msg.startswith("Function 'MulBackward0' returned nan values in its 0th output.")
    assert str(tinfo.value).startswith(msg.split("\n")[0])          # same first line as torch
    assert "test_anomaly.py" in msg and "_nan_backward" in msg
    assert "THE_OP_LINE" in msg                                  # the source line is shown
    assert "ops/_core.py" not in msg and "arithmetic.py" not in msg    # internal frames trimmed


def test_without_anomaly_nan_passes_silently():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cr.sqrt(x * 0.0).sum().backward()
    assert bool(cr.isnan(x.grad).any())


def test_enter_warns_and_state_restored():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with cr.autograd.detect_anomaly():
            assert cr.autograd.is_anomaly_enabled()
            assert cr.autograd.is_anomaly_check_nan_enabled()
    assert not cr.autograd.is_anomaly_enabled() and not SHARED.observed


def test_set_detect_anomaly_function_and_context():
    cr.autograd.set_detect_anomaly(True)
    try:
        assert cr.autograd.is_anomaly_enabled()
        x = cr.tensor([0.0], requires_grad=True)
        y = cr.log(x)                      # log'(0) = inf; 1 * inf is not nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="LogBackward0"):
                (y * 0.0).sum().backward()
    finally:
        cr.autograd.set_detect_anomaly(False)
    assert not cr.autograd.is_anomaly_enabled()
    with cr.autograd.set_detect_anomaly(True):
        assert cr.autograd.is_anomaly_enabled()
    assert not cr.autograd.is_anomaly_enabled()


def test_check_nan_false_does_not_raise():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cr.autograd.detect_anomaly(check_nan=False):
            x = cr.tensor([0.0, 1.0], requires_grad=True)
            cr.sqrt(x * 0.0).sum().backward()
    assert bool(cr.isnan(x.grad).any())


def test_error_in_backward_warns_with_forward_trace():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cr.autograd.detect_anomaly():
            y = x.exp()                  # SAVES_OUTPUT
            y.mul_(2)                    # invalidates the saved output
            with pytest.warns(UserWarning, match="Error detected in ExpBackward0") as rec:
                with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                    y.sum().backward()
    assert any("SAVES_OUTPUT" in str(w.message) for w in rec)


def test_gradients_unchanged_under_anomaly_mode():
    def grads():
        x = cr.tensor([0.3, 0.7], dtype=cr.float64, requires_grad=True)
        (x.sin() * x.exp()).sum().backward()
        return x.grad.numpy()
    plain = grads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cr.autograd.detect_anomaly():
            checked = grads()
    assert (plain == checked).all()


def test_check_nan_flag_is_reported_while_off_as_in_torch():
    for m, check_nan in ((torch, torch.is_anomaly_check_nan_enabled),
                         (cr, cr.autograd.is_anomaly_check_nan_enabled)):
        assert check_nan()                                  # the default: on, mode off
        with m.autograd.set_detect_anomaly(False, check_nan=False):
            assert not check_nan()
        assert check_nan()
