"""Every script in examples/ runs (small epoch counts) and reaches its goal: linear
regression recovers w = (2, -3.4), b = 4.2 within 0.01; softmax regression and the MLP
train on scikit-learn's digits (MLP >= 95 % test accuracy, with progress bars and PNG
curves); weight decay and dropout from scratch; the sigmoid-gradient plot."""
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
