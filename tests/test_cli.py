"""python -m chainrule explain / demo: the tables, the graph file, and refusal of
hostile formulas (never evaluated: a canary file is never created)."""
import html
import os
import subprocess
import sys

import pytest

import chainrule
from chainrule.__main__ import main
from chainrule.viz import drawing

EXAMPLE = ["explain", "0.5*(dot(w, x) + b - y)**2", "w=1,1,1", "b=1", "x=2,1,3", "y=10"]


def run(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_explain_example_reverse(capsys):
    rc, out, err = run(EXAMPLE + ["--wrt", "w,b", "--mode", "reverse"], capsys)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert any(line.split()[:2] == ["2", "v2"] and line.split()[-1] == "7" for line in lines)
    assert any(line.split()[:2] == ["5", "out"] and line.split()[-1] == "4.5" for line in lines)
    adj = {line.split()[0]: line for line in lines if line.startswith("∂out/∂")}
    assert adj["∂out/∂v2"].split()[1] == "-3"
    assert "[-6, -3, -9]" in adj["∂out/∂w"]
    assert adj["∂out/∂b"].split()[1] == "-3"
    assert "Forward accumulation" not in out


def test_explain_forward_needs_four_passes(capsys):
    rc, out, err = run(EXAMPLE + ["--wrt", "w,b", "--mode", "both"], capsys)
    assert rc == 0
    assert out.count("Forward accumulation, pass for") == 4
    assert "4 (one per input element)" in out and "1 (one per output element)" in out


def test_explain_markdown_and_default_wrt(capsys):
    rc, out, _ = run(EXAMPLE + ["--format", "markdown", "--mode", "forward"], capsys)
    assert rc == 0 and "| step |" in out
    assert out.count("Forward accumulation, pass for") == 8      # all of w, b, x, y


def test_explain_draws_graph(tmp_path, capsys):
    if drawing.graphviz_executable() is None:       # decided as the code decides, now
        pytest.skip("Graphviz `dot` not installed (apt-get install -y graphviz)")
    path = tmp_path / "g.svg"
    rc, out, err = run(EXAMPLE + ["--wrt", "w,b", "--graph", str(path)], capsys)
    assert rc == 0, err
    svg = html.unescape(path.read_text())
    assert "<svg" in svg and "DotBackward0" in svg and "grad [-6, -3, -9]" in svg
    assert f"graph written to {path}" in out


def test_explain_graph_without_graphviz(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(drawing, "graphviz_executable", lambda: None)
    rc, out, err = run(EXAMPLE + ["--graph", str(tmp_path / "g.svg")], capsys)
    assert rc == 1
    assert "apt-get install -y graphviz" in err and "[-6, -3, -9]" in out


HOSTILE = [
    "__import__('os').system('touch {canary}')",
    "w.__class__",
    "().__class__.__bases__",
    "w.__class__.__init__.__globals__",
    "lambda: 1",
    "(lambda: open('{canary}', 'w'))()",
    "[x for x in w]",
    "w[0]",
    "open('{canary}', 'w')",
    "exec(\"open('{canary}', 'w')\")",
    "eval(\"open('{canary}', 'w')\")",
    "eval",
    "compile('1', 'f', 'eval')",
    "globals()",
    "sum(w, dim=0)",
    "sum(*w)",
    "'abc'",
    "f'{{w}}'",
    "b'x'",
    "unknown_name + w",
    "w if w else x",
    "w < x",
    "w and x",
    "(w := 1)",
    "{{1: 2}}",
    "w @ x",
    "w + " * 200 + "w",                         # over-long
    "(" * 200 + "w" + ")" * 200,                # too deeply nested
    "-" * 400 + "w",                            # deep unary chain, over-long too
    "1; import os",
    "import os",
    "",
    "dot",
    "w * " + "9" * 400,                         # huge integer literal
    "w + 1j",                                   # complex literal
    "w(1)",                                     # calling an input
    "...",
]


@pytest.mark.parametrize("formula", HOSTILE)
def test_hostile_formulas_are_refused_unevaluated(formula, tmp_path, capsys, monkeypatch):
    canary = tmp_path / "canary"
    monkeypatch.chdir(tmp_path)
    text = formula.format(canary=canary)
    rc, out, err = run(["explain", "--", text, "w=1,2", "x=3,4"], capsys)
    assert rc != 0
    assert err.startswith("chainrule explain: error:") and len(err.strip()) > 40
    assert out == ""                                    # nothing evaluated or printed
    assert not canary.exists() and not os.listdir(tmp_path)


@pytest.mark.parametrize("argv, needle", [
    (["explain", "w+1", "w"], "name=value"),
    (["explain", "w+1", "w=abc"], "comma-separated list of numbers"),
    (["explain", "w+1", "__class__=1"], "not allowed"),
    (["explain", "w+1", "w=1", "w=2"], "given twice"),
    (["explain", "w+1", "w=1", "--wrt", "q"], "unknown inputs q"),
    (["explain", "w+1"], "name=value"),
    (["explain", "sin(w, w, w, w)", "w=1"], "1 to 3 positional"),
])
def test_bad_inputs(argv, needle, capsys):
    rc, out, err = run(argv, capsys)
    assert rc == 2 and needle in err and out == ""


def test_formula_starting_with_minus(capsys):
    rc, out, _ = run(["explain", "--", "-sum(w)", "w=1,2"], capsys)
    assert rc == 0 and "[-1, -1]" in out
    with pytest.raises(SystemExit) as ei:           # argparse takes it for an option
        main(["explain", "-sum(w)", "w=1,2"])
    assert ei.value.code == 2


def test_python_dash_m_runs_the_command(tmp_path):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    ok = subprocess.run([sys.executable, "-m", "chainrule"] + EXAMPLE + ["--wrt", "w,b"],
                        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert ok.returncode == 0 and "[-6, -3, -9]" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "chainrule", "explain",
                          "__import__('os').system('touch canary')", "w=1"],
                         capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "not allowed" in bad.stderr
    assert not (tmp_path / "canary").exists()


def test_demo_prints_the_chapter_then_the_graph(tmp_path, capsys, monkeypatch):
    from chainrule import demo
    monkeypatch.chdir(tmp_path)
    lines = []
    demo.run(chainrule, emit=lines.append)
    capsys.readouterr()
    rc = main(["demo"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 0
    assert out[:len(lines)] == lines                  # run()'s lines are unchanged
    tail = "\n".join(out[len(lines):])
    if drawing.graphviz_executable() is not None:
        svg = tmp_path / "chainrule_demo_graph.svg"
        assert str(svg) in tail and "<svg" in svg.read_text()
        assert "DotBackward0" in svg.read_text()
    else:
        assert "apt-get install -y graphviz" in tail and "digraph" in tail


def test_demo_without_graphviz(tmp_path, capsys, monkeypatch):
    from chainrule import demo
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(drawing, "graphviz_executable", lambda: None)
    demo.show_graph()
    out = capsys.readouterr().out
    assert "apt-get install -y graphviz" in out and "digraph chainrule" in out
    assert not os.listdir(tmp_path)


def test_total_work_is_capped_before_computing(capsys, monkeypatch):
    """Each input within the per-input limit, but inputs x elements x passes too much:
    refused with exit status 2 and a message, before anything is evaluated."""
    from chainrule import viz
    from chainrule.viz.explain import MAX_ELEMENTS, MAX_WORK

    def never(*a, **k):
        raise AssertionError("explain ran although the work is over the cap")
    monkeypatch.setattr(viz, "explain", never)
    vec = ",".join(["1"] * MAX_ELEMENTS)
    names = [f"a{i}" for i in range(4)]
    formula = "+".join(f"sum({n})" for n in names)
    argv = ["explain", formula] + [f"{n}={vec}" for n in names]
    rc, out, err = run(argv, capsys)
    assert rc == 2 and out == ""
    assert "too much work" in err and f"at most {MAX_WORK}" in err
    assert f"{4 * MAX_ELEMENTS} elements in all" in err and "--mode reverse" in err
    # one reverse pass over the same inputs is within the cap and runs
    monkeypatch.undo()
    rc, out, err = run(argv + ["--mode", "reverse"], capsys)
    assert rc == 0, err


def test_python_explain_caps_total_work_too():
    from chainrule.viz.explain import MAX_WORK
    xs = [[1.0] * 200 for _ in range(3)]
    with pytest.raises(ValueError, match=f"at most {MAX_WORK}"):
        chainrule.explain(lambda a, b, c: (a * b * c).sum(), *xs, mode="both")
    r = chainrule.explain(lambda a, b, c: (a * b * c).sum(), *xs, mode="reverse")
    assert r.gradients["a"].tolist() == [1.0] * 200


def test_version_and_usage(capsys):
    with pytest.raises(SystemExit) as ei:
        main(["--version"])
    assert ei.value.code == 0
    assert capsys.readouterr().out.strip() == f"chainrule {chainrule.__version__}"
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m chainrule") and "demo" in out and "explain" in out
