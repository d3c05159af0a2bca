"""The demo (the autograd chapter of Dive into Deep Learning) prints exactly what the same
program prints under PyTorch, and ``python -m chainrule demo`` runs it."""
import os
import subprocess
import sys

import torch

import chainrule
from chainrule import demo


def _lines(lib):
    out = []
    demo.run(lib, emit=out.append)
    return out


def test_demo_output_identical_to_torch():
    ours, theirs = _lines(chainrule), _lines(torch)
    assert len(ours) == len(theirs) > 30
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"line {i}: chainrule {a!r} vs torch {b!r}"


def test_demo_shows_the_chapter_results():
    text = "\n".join(_lines(chainrule))
    for expected in ("tensor([0., 1., 2., 3.])",
                     "tensor(28., grad_fn=<MulBackward0>)",
                     "tensor([ 0.,  4.,  8., 12.])",          # gradient of 2 * dot(x, x)
                     "tensor([True, True, True, True])",
                     "tensor([1., 1., 1., 1.])",              # after grad.zero_()
                     "tensor([2., 2., 2., 2.])",              # accumulation
                     "tensor([0., 2., 4., 6.])",              # non-scalar with gradient=
                     "grad can be implicitly created only for scalar outputs",
                     "tensor(True)",                          # a.grad == d / a
                     "tensor(12., grad_fn=<MulBackward0>)"):  # create_graph
        assert expected in text, expected


def test_python_m_chainrule_demo(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(chainrule.__file__))] +
        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    proc = subprocess.run([sys.executable, "-m", "chainrule", "demo"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # the printed walk-through is the same text the in-process run produces
    assert "\n".join(_lines(chainrule)) in out
    assert "tensor([ 0.,  4.,  8., 12.])" in out
    assert "Traceback" not in proc.stderr
