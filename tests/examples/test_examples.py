"""Every script in examples/ runs (small epoch counts) and reaches its goal: linear
regression recovers w = (2, -3.4), b = 4.2 within 0.01; softmax regression and the MLP
train on scikit-learn's digits (MLP >= 95 % test accuracy, with progress bars and PNG
curves); weight decay and dropout from scratch; the sigmoid-gradient plot; the NumPy
examples (HIPS autograd's tanh derivatives and neural network, a SciPy fit through
value_and_grad; SciPy comes with scikit-learn, in the test extra)."""
import os
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "examples")
EXAMPLES = os.path.abspath(EXAMPLES)


@pytest.fixture(scope="module", autouse=True)
def _examples_on_path():
    sys.path.insert(0, EXAMPLES)
    yield
    sys.path.remove(EXAMPLES)


def _load(name):
    import importlib
    return importlib.import_module(name)


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["linear_regression_scratch", "linear_regression_concise"])
def test_linear_regression_recovers_parameters(name):
    result = _load(name).main(verbose=False)
    np.testing.assert_allclose(result["w"], [2.0, -3.4], atol=0.01)
    assert abs(result["b"] - 4.2) < 0.01
    assert result["loss"] < 1e-3


def test_scripts_run_from_the_command_line(tmp_path):
    out = tmp_path / "pictures"
    work = tmp_path / "cwd"
    work.mkdir()
    env = dict(os.environ, MPLBACKEND="Agg", CHAINRULE_EXAMPLES_OUTPUT=str(out))
    for script, expect in (("linear_regression_scratch.py", "error in estimating w"),
                           ("sigmoid_gradient_plot.py", "")):
        proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, script)], cwd=work,
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert expect in proc.stdout
    assert _is_png(out / "sigmoid_gradient.png")
    assert not os.listdir(work)          # nothing written into the current directory


def test_examples_use_notebook_aware_progress_bars():
    import pathlib
    for path in pathlib.Path(EXAMPLES).glob("*.py"):
        text = path.read_text()
        assert "from tqdm import" not in text and "import tqdm\n" not in text, path.name


def test_sigmoid_gradient_plot(tmp_path):
    x, y = _load("sigmoid_gradient_plot").main(str(tmp_path / "sig.png"))
    s = y.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s), rtol=1e-5, atol=1e-7)
    assert x.shape == (160,) and _is_png(tmp_path / "sig.png")


def test_softmax_regression_scratch_and_concise(tmp_path):
    results = _load("softmax_regression").main(num_epochs=10, show_progress=False,
                                               out_dir=str(tmp_path))
    for name in ("scratch", "concise"):
        h = results[name]
        assert h["test_acc"][-1] >= 0.9
        assert h["train_loss"][-1] < h["train_loss"][0]
        assert _is_png(tmp_path / f"softmax_regression_{name}.png")


def test_mlp_reaches_95_percent_with_progress_and_plot(tmp_path, capsys):
    results = _load("mlp").main(show_progress=True, out_dir=str(tmp_path))
    err = capsys.readouterr().err
    assert "epoch 1/15" in err and "epoch 15/15" in err and "it/s" in err   # tqdm bars
    for name in ("scratch", "concise"):
        h = results[name]
        assert len(h["test_acc"]) == 15
        assert h["test_acc"][-1] >= 0.95
        assert h["train_loss"][-1] < 0.2 * h["train_loss"][0]
        png = tmp_path / f"mlp_{name}.png"
        assert _is_png(png)
        import matplotlib.image
        img = matplotlib.image.imread(str(png))
        assert img.shape[0] > 200 and img.shape[1] > 500


def test_weight_decay_scratch():
    out = _load("weight_decay_scratch").main(verbose=False)
    (train0, test0, norm0), (train3, test3, norm3) = out["no_decay"], out["decay"]
    assert train0 < 1e-3 and test0 > 10          # overfits without the penalty
    assert norm3 < 1.0 < norm0 and test3 < 1.0


def test_dropout_scratch():
    h = _load("dropout_scratch").main(show_progress=False, verbose=False)
    assert h["test_acc"][-1] >= 0.9


def test_hips_tanh_derivatives_to_sixth_order(tmp_path):
    import torch
    out = _load("hips_tanh").main(str(tmp_path / "tanh.png"), verbose=False)
    assert type(out["grad"]) is np.float64
    assert out["grad"] == pytest.approx(1 - np.tanh(1.0) ** 2, rel=1e-14)
    assert out["grad"] == pytest.approx(out["finite_difference"], rel=1e-8)
    x = torch.tensor(out["x"], requires_grad=True)
    g = torch.tanh(x)
    np.testing.assert_allclose(out["curves"][0], np.tanh(out["x"]), atol=1e-15)
    for k in range(1, 7):                                  # vs torch's builtin tanh
        g, = torch.autograd.grad(g.sum(), x, create_graph=True)
        assert type(out["curves"][k]) is np.ndarray
        np.testing.assert_allclose(out["curves"][k], g.detach().numpy(), rtol=1e-6,
                                   atol=1e-9 * 10 ** k)
    assert _is_png(tmp_path / "tanh.png")


def test_hips_neural_net_gradient_and_training():
    nn = _load("hips_neural_net")
    X_tr, X_te, Y_tr, Y_te = nn.load_digits_onehot()
    params = nn.init_random_params(0.1, [64, 8, 10], rs=np.random.RandomState(1))
    from chainrule.func import grad
    g = grad(nn.log_posterior)(params, X_tr[:20], Y_tr[:20], 1.0)
    assert type(g[1][1]) is np.ndarray and g[0][0].shape == (64, 8)
    for layer, part in ((1, 1), (1, 0), (0, 1)):           # central differences
        p = params[layer][part]
        for i in list(np.ndindex(p.shape))[:6]:
            def f(v):
                q = [list(l) for l in params]
                q[layer][part] = p.copy()
                q[layer][part][i] = v
                return nn.log_posterior(q, X_tr[:20], Y_tr[:20], 1.0)
            num = (f(p[i] + 1e-6) - f(p[i] - 1e-6)) / 2e-6
            assert g[layer][part][i] == pytest.approx(num, rel=1e-5, abs=1e-7)
    result = nn.main(num_epochs=10, verbose=False)
    assert result["test_acc"] >= 0.9 and result["history"][0][1] < 0.3


def test_numpy_scipy_fit():
    from scipy.optimize import minimize
    fit = _load("numpy_scipy_fit")
    out = fit.main(verbose=False)
    res, (X, y) = out["logistic"], out["data"]
    assert res.success and out["accuracy"] > 0.85
    from chainrule.func import value_and_grad
    value, g = value_and_grad(fit.logistic_loss)(res.x, X, y)
    assert value == pytest.approx(res.fun) and np.linalg.norm(g) < 1e-4
    ref = minimize(fit.logistic_loss, np.zeros(X.shape[1] + 1), args=(X, y),
                   method="L-BFGS-B")                      # SciPy's finite differences
    np.testing.assert_allclose(res.x, ref.x, atol=2e-3)
    np.testing.assert_allclose(out["curve"].x, [2.5, 1.3, 0.5], atol=0.05)
