"""chainrule.viz.graph: structure, DOT validity, gradients on edges vs the engine and
PyTorch, node kinds, saved tensors, rendering and memory."""
import gc
import re
import subprocess
import weakref

import numpy as np
import pytest
import torch

import chainrule
from chainrule import viz
from chainrule.viz import drawing as graph_mod


@pytest.fixture
def dot_exe():
    """Graphviz's dot, found as the code under test finds it, at run time (else skip)."""
    exe = graph_mod.graphviz_executable()
    if exe is None:
        pytest.skip("Graphviz `dot` not installed (apt-get install -y graphviz)")
    return exe


def regression(m):
    w = m.tensor([1.0, 1.0, 1.0], dtype=m.float64, requires_grad=True)
    b = m.tensor(1.0, dtype=m.float64, requires_grad=True)
    x = m.tensor([2.0, 1.0, 3.0], dtype=m.float64)
    y = m.tensor(10.0, dtype=m.float64)
    v1 = m.dot(w, x)
    v2 = v1 + b
    v3 = v2 - y
    L = 0.5 * v3 ** 2
    return dict(w=w, b=b, x=x, y=y, v1=v1, v2=v2, v3=v3, L=L)


def walk_counts(*outputs):
    """Independent count from grad_fn/next_functions: ops, leaves, op inputs."""
    seen, stack = set(), [t.grad_fn for t in outputs if t.grad_fn is not None]
    ops = leaves = inputs = 0
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if hasattr(n, "variable"):
            leaves += 1
            continue
        ops += 1
        for nxt, _ in n.next_functions:
            inputs += 1
            if nxt is not None:
                stack.append(nxt)
    return ops, leaves, inputs


def dot_to_svg(text, exe):
    proc = subprocess.run([exe, "-Tsvg"], input=text.encode(), capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


def test_nodes_and_edges_match_the_program():
    x = chainrule.arange(4.0, requires_grad=True)
    y = 2 * chainrule.dot(x, x)
    g = viz.graph(y, params={"x": x, "y": y})
    c = g.counts()
    assert (c["op"], c["leaf"], c["output"], c["const"]) == (2, 1, 1, 1)
    ops, leaves, inputs = walk_counts(y)
    assert c["op"] == ops and c["leaf"] == leaves
    assert c["edges"] == inputs + 1                      # every op input + op -> output
    assert [n.name for n in g.nodes if n.kind == "op"] == ["DotBackward0", "MulBackward0"]
    # data-flow order: every edge goes from an earlier node to a later one
    pos = {n.id: i for i, n in enumerate(g.nodes)}
    assert all(pos[e.src] < pos[e.dst] or g.node(e.src).kind == "const" for e in g.edges)
    dot_node = g.node("DotBackward0")
    assert dot_node.shape == () and dot_node.dtype == "float32"
    assert g.node("x").shape == (4,)


def test_node_names_match_pytorch():
    r = regression(chainrule)
    rt = regression(torch)
    names = sorted(n.name for n in viz.graph(r["L"]).nodes if n.kind == "op")
    seen, stack, tnames = set(), [rt["L"].grad_fn], []
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        if type(n).__name__ != "AccumulateGrad":
            tnames.append(type(n).__name__)
        stack.extend(nx for nx, _ in n.next_functions)
    assert names == sorted(tnames)


def test_dot_output_parses_with_graphviz(dot_exe):
    r = regression(chainrule)
    g = viz.graph(r["L"], params={k: r[k] for k in "wbxy"} | {"L": r["L"]},
                  show_values=True, show_grads=True, show_saved=True)
    svg = dot_to_svg(g.to_dot(), dot_exe)
    assert "<svg" in svg
    for label in ("DotBackward0", "AddBackward0", "SubBackward0", "PowBackward0",
                  "MulBackward0", "legend"):
        assert label in svg
    # node and edge counts in the DOT text (legend excluded)
    body = g.to_dot(legend=False)
    assert len(re.findall(r"^  n\d+ \[label=", body, re.M)) == len(g.nodes)
    assert len(re.findall(r"^  n\d+ -> n\d+", body, re.M)) == len(g.edges)


def test_replayed_edge_gradients_equal_the_engine():
    r = regression(chainrule)
    g = viz.graph(r["L"], params={"w": r["w"], "b": r["b"]}, show_grads=True)
    grads = g.edge_grads()
    gv1, gv2, gw, gb = chainrule.autograd.grad(r["L"], [r["v1"], r["v2"], r["w"], r["b"]],
                                              retain_graph=True)
    np.testing.assert_array_equal(grads[("w", "DotBackward0", 0)], gw._data)
    np.testing.assert_array_equal(grads[("b", "AddBackward0", 1)], gb._data)
    np.testing.assert_array_equal(grads[("DotBackward0", "AddBackward0", 0)], gv1._data)
    np.testing.assert_array_equal(grads[("AddBackward0", "SubBackward0", 0)], gv2._data)
    assert r["w"].grad is None                    # replay never touches .grad
    # and PyTorch agrees
    rt = regression(torch)
    tw, tb = torch.autograd.grad(rt["L"], [rt["w"], rt["b"]])
    np.testing.assert_allclose(grads[("w", "DotBackward0", 0)], tw.numpy())
    np.testing.assert_allclose(grads[("b", "AddBackward0", 1)], tb.numpy())
    text = g.to_dot()
    assert 'label="grad [-6, -3, -9]"' in text and 'label="grad -3"' in text


def test_captured_edge_gradients_equal_backward():
    x = chainrule.tensor([0.5, -1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    a = x.sin()
    z = (a * x + x.exp()).sum()
    g = viz.graph(z, params={"x": x}, show_grads=True, grad_outputs=[chainrule.tensor(0.0)])
    z.backward()                               # hooks capture what the engine sends
    grads = g.edge_grads()
    into_x = [v for (s, d, i), v in grads.items() if s == "x"]
    assert len(into_x) == 3                    # sin, mul, exp each use x
    np.testing.assert_allclose(sum(into_x), x.grad._data, rtol=0, atol=1e-15)
    xt = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (xt.sin() * xt + xt.exp()).sum().backward()
    np.testing.assert_allclose(x.grad._data, xt.grad.numpy(), rtol=1e-13)
    assert "last backward()" in g.to_dot()


def test_after_plain_backward_leaves_show_grad_and_legend_explains():
    x = chainrule.arange(4.0, requires_grad=True)
    y = 2 * chainrule.dot(x, x)
    y.backward()
    g = viz.graph(y, params={"x": x}, show_grads=True)
    text = g.to_dot()
    assert "grad = [0, 4, 8, 12]" in text
    assert "retain_graph=True" in text
    assert g.edge_grads() == {}


def test_values_and_names():
    r = regression(chainrule)
    g = viz.graph(r["L"], params={"w": r["w"], "b": r["b"], "yhat": r["v2"], "L": r["L"]},
                  show_values=True)
    text = g.to_dot()
    assert "= 7" in text and "(yhat)" in text and "= 4.5" in text
    assert g.node("L").kind == "output"
    big = chainrule.ones(100, requires_grad=True)
    gb = viz.graph(big.sum(), show_values=True)
    assert "= [" not in gb.to_dot()           # large tensors: shape only


def test_kinds_are_distinct_constant_detached_no_grad():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with viz.record() as rec:
        y = x * x
        u = y.detach()
        with chainrule.no_grad():
            c = x * 3
        k = chainrule.tensor([5.0, 6.0])
        z = (u * x + c * x + k * x).sum()
    g = viz.graph(z, y, params={"x": x, "z": z, "k": k}, trace=rec)
    kinds = {n.name: n.kind for n in g.nodes}
    assert kinds["x"] == "leaf" and kinds["k"] == "const"
    assert kinds["detached"] == "detached" and kinds["mul (no_grad)"] == "nograd"
    assert any(e.kind == "detach" for e in g.edges)          # dashed y -> u
    assert any(e.kind == "nograd" and g.node(e.src).name == "x" for e in g.edges)
    text = g.to_dot()
    for kind in ("leaf", "const", "detached", "nograd"):
        assert graph_mod.STYLES[kind][0] in text
        assert graph_mod.STYLES[kind][1] in text              # legend entry
    assert "cluster_no_grad" in text
    exe = graph_mod.graphviz_executable()
    if exe is not None:
        dot_to_svg(text, exe)
    # without a trace, a detached copy of a drawn tensor is still recognised
    g2 = viz.graph(z, y, params={"x": x})
    assert any(n.kind == "detached" for n in g2.nodes)


def test_saved_tensors_listed_and_freed():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).exp().sum()
    g = viz.graph(y, params={"x": x}, show_saved=True)
    saved = g.saved_tensors("ExpBackward0")
    assert [r for r, _ in saved] == ["result"]
    np.testing.assert_allclose(saved[0][1]._data, np.exp([1.0, 4.0]), rtol=1e-6)
    assert [r for r, _ in g.saved_tensors("MulBackward0")] == ["input 0", "input 1"]
    assert g.saved_tensors("x") == []
    assert "saved: result [2]" in g.to_dot()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        g.saved_tensors("ExpBackward0")
    assert "saved: freed by backward()" in g.to_dot()


def test_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        a = chainrule.ones(3, requires_grad=True)
        b = (a * 2).sin().sum()
        node_ref, out_ref = weakref.ref(b.grad_fn), weakref.ref(b)
        g = viz.graph(b, params={"a": a}, show_grads=True, show_values=True)
        g.to_dot()
        b.backward(retain_graph=True)
        del g, b
        assert node_ref() is None and out_ref() is None
    finally:
        gc.enable()


def test_missing_graphviz_error(monkeypatch, tmp_path):
    monkeypatch.setattr(graph_mod, "graphviz_executable", lambda: None)
    x = chainrule.ones(2, requires_grad=True)
    g = viz.graph(x.sum())
    with pytest.raises(viz.ExecutableNotFound) as ei:
        g.render(tmp_path / "g.svg")
    assert "graphviz" in str(ei.value) and "apt-get install -y graphviz" in str(ei.value)
    assert g._repr_svg_() is None
    assert "image/svg+xml" not in g._repr_mimebundle_()
    with pytest.raises(ValueError, match=".svg, .png or .pdf"):
        g.render(tmp_path / "g.txt")


def test_render_svg_png_pdf_and_jupyter(tmp_path, dot_exe):
    x = chainrule.arange(4.0, requires_grad=True)
    g = viz.graph(2 * chainrule.dot(x, x), params={"x": x}, show_values=True)
    magic = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF"}
    for fmt, head in magic.items():
        p = g.render(tmp_path / f"g.{fmt}")
        data = open(p, "rb").read()
        assert head in data[:400]
    assert g._repr_svg_().lstrip().startswith("<?xml")
    assert "image/svg+xml" in g._repr_mimebundle_()


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected Tensors"):
        viz.graph([1, 2])
    g = viz.graph(chainrule.ones(2, requires_grad=True).sum())
    with pytest.raises(KeyError, match="no node named"):
        g.node("nope")


def test_counts_match_the_recorded_program():
    w = chainrule.tensor([1.0, -2.0], dtype=chainrule.float64, requires_grad=True)
    with viz.record() as rec:
        h = (w * w).tanh()
        out = (h.exp() + h).sum() * 3.0
    g = viz.graph(out, params={"w": w}, trace=rec)
    recorded = [ev for ev in rec if ev.node is not None]
    c = g.counts()
    assert c["op"] == len(recorded) == 6
    # one edge per argument of every recorded op, plus op -> output
    assert c["edges"] == sum(len(ev.args) for ev in recorded) + 1
    assert sorted(n.name for n in g.nodes if n.kind == "op") == sorted(
        type(ev.node).__name__ for ev in recorded)
    assert all(n.value is not None for n in g.nodes if n.kind == "op")


def _mlp_graph():
    from chainrule import nn
    chainrule.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    X, y = chainrule.randn(5, 4), chainrule.tensor([0, 1, 2, 0, 1])
    loss = nn.functional.cross_entropy(net(X), y)
    g = viz.graph(loss, params=dict(net.named_parameters()) | {"loss": loss},
                  show_values=True, show_grads=True)
    loss.backward()
    return g


def test_style_options_shape_the_dot_text():
    g = _mlp_graph()
    assert g._depth() == 7
    text = g.to_dot()
    assert "rankdir=TB;" in text                      # auto: deep graphs run top to bottom
    assert "rankdir=LR;" in g.to_dot(direction="LR")
    assert "legend_leaf" in text and "rank=sink;" in text
    assert "legend_" not in g.to_dot(legend=False)
    compact = g.to_dot(compact=True)
    assert "fontsize=9" in compact and "nodesep=0.15" in compact
    assert g._label(g.node("0.weight"), compact=True) == "0.weight\n[8, 4]"
    assert 'size="7.5,1000";' in g.to_dot(max_width=7.5)
    # set_style changes the defaults of to_dot, render, pipe and the notebook display
    assert g.set_style(direction="LR", legend=False) is g
    assert "rankdir=LR;" in g.to_dot() and "legend_" not in g.to_dot()
    assert "rankdir=TB;" in g.to_dot(direction="TB")
    with pytest.raises(ValueError, match="direction must be"):
        g.to_dot(direction="up")
    with pytest.raises(TypeError, match="compact must be True or False"):
        g.set_style(compact="yes")
    # shallow graphs stay left to right
    x = chainrule.arange(4.0, requires_grad=True)
    assert "rankdir=LR;" in viz.graph(2 * chainrule.dot(x, x)).to_dot()


def test_long_values_wrap():
    g = _mlp_graph()
    label = g._label(g.node("0.bias"))
    assert max(len(line) for line in label.splitlines()) <= 40
    assert "-0.364904" in label.replace("\n", " ")


def test_notebook_drawing_fits_the_width(dot_exe):
    import re
    g = _mlp_graph()
    svg = g._repr_svg_()
    width = float(re.search(r'<svg width="([0-9.]+)pt"', svg).group(1))
    assert width <= viz.Graph.NOTEBOOK_WIDTH * 72 + 1
    png = g.pipe("png", compact=True, legend=False)
    assert png[:4] == b"\x89PNG"
