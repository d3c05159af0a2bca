"""chainrule.explain: the accumulation tables of the linear-regression example, engine
agreement (reverse and forward mode, PyTorch), costs and output formats."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule import viz


def loss(w, b, x, y):
    return 0.5 * (chainrule.dot(w, x) + b - y) ** 2


W, B, X, Y = [1.0, 1.0, 1.0], 1.0, [2.0, 1.0, 3.0], 10.0


@pytest.fixture(scope="module")
def report():
    return chainrule.explain(loss, W, B, X, Y, mode="both", wrt=["w", "b"],
                             names=["w", "b", "x", "y", "L"])


def rows(report, title_start):
    (table,) = [t for t in report.tables if t.title.startswith(title_start)]
    return table.rows


def test_forward_table_values(report):
    by_var = {r[1]: r for r in rows(report, "Forward evaluation")}
    assert by_var["v1"][2] == "dot(w, x)" and by_var["v1"][5] == "6"
    assert by_var["v2"][2] == "add(v1, b)" and by_var["v2"][5] == "7"        # y-hat = 7
    assert by_var["v3"][5] == "-3"
    assert by_var["L"][5] == "4.5" and by_var["L"][3] == "MulBackward0"
    assert by_var["w"][2] == "input (wrt)" and by_var["x"][2] == "input (constant)"
    assert [s[0] for s in report.steps] == ["v1", "v2", "v3", "v4", "L"]


def test_reverse_table_has_exactly_the_example_numbers(report):
    rev = rows(report, "Reverse accumulation")
    by_adj = {r[0]: r for r in rev}
    assert [r[0] for r in rev] == ["∂L/∂L", "∂L/∂v4", "∂L/∂v3", "∂L/∂v2", "∂L/∂v1",
                                   "∂L/∂w", "∂L/∂b"]                      # reverse order
    assert by_adj["∂L/∂L"][1] == "1"
    assert by_adj["∂L/∂v2"][1] == "-3"                                   # dL/d(y-hat)
    assert by_adj["∂L/∂w"][1] == "[-6, -3, -9]"
    assert by_adj["∂L/∂b"][1] == "-3"
    # the local derivative used at each step
    assert by_adj["∂L/∂v3"][3] == "∂v4/∂v3 = -6"
    assert by_adj["∂L/∂w"][3] == "∂v1/∂w = [2, 1, 3]"
    assert by_adj["∂L/∂w"][2] == "∂L/∂v1 · ∂v1/∂w"
    text = str(report)
    for s in ("7", "4.5", "[-6, -3, -9]"):
        assert s in text


def test_numbers_equal_the_engine_and_pytorch(report):
    w = chainrule.tensor(W, dtype=chainrule.float64, requires_grad=True)
    b = chainrule.tensor(B, dtype=chainrule.float64, requires_grad=True)
    L = loss(w, b, chainrule.tensor(X, dtype=chainrule.float64),
             chainrule.tensor(Y, dtype=chainrule.float64))
    L.backward()
    np.testing.assert_array_equal(report.gradients["w"], w.grad._data)
    np.testing.assert_array_equal(report.gradients["b"], b.grad._data)
    wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(B, dtype=torch.float64, requires_grad=True)
    Lt = 0.5 * (torch.dot(wt, torch.tensor(X, dtype=torch.float64)) + bt - Y) ** 2
    Lt.backward()
    np.testing.assert_allclose(report.gradients["w"], wt.grad.numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(report.gradients["b"], bt.grad.numpy(), rtol=0, atol=0)
    assert float(report.value) == Lt.item()
    np.testing.assert_array_equal(report.adjoints["v2"], -3.0)


def test_forward_mode_needs_one_pass_per_input_element(report):
    assert report.cost["forward"]["passes"] == 4
    assert report.cost["reverse"]["passes"] == 1
    assert [label for label, _ in report.passes] == ["w[0]", "w[1]", "w[2]", "b"]
    # the output tangent of each pass is one component of the gradient
    out_tangents = [t["L"] for _, t in report.passes]
    grad = np.concatenate([report.gradients["w"], [report.gradients["b"]]])
    np.testing.assert_array_equal(np.array(out_tangents, dtype=float), grad)
    # engine's forward mode agrees for an intermediate: dv1/dw[1] = x[1] = 1
    assert float(report.passes[1][1]["v1"]) == 1.0
    assert report.passes[3][1]["v1"] is None           # v1 does not depend on b
    text = str(report)
    assert "4 (one per input element)" in text and "1 (one per output element)" in text
    # multiplications: reverse applies each local-derivative entry once (0.5, -6, 1, 1, 1
    # and the 3 entries of x); forward repeats the chain in every pass (3 * 7 + 4)
    assert report.cost["reverse"]["multiplications"] == 8
    assert report.cost["forward"]["multiplications"] == 25


def test_bytes_kept_by_reverse_mode(report):
    # recompute from the nodes' saved tensors, split into inputs and intermediates
    w = chainrule.tensor(W, dtype=chainrule.float64, requires_grad=True)
    b = chainrule.tensor(B, dtype=chainrule.float64, requires_grad=True)
    x = chainrule.tensor(X, dtype=chainrule.float64)
    y = chainrule.tensor(Y, dtype=chainrule.float64)
    L = loss(w, b, x, y)
    seen, inter, inputs, stack, done = set(), 0, 0, [L.grad_fn], set()
    input_ids = {id(t._data) for t in (w, b, x, y)}
    while stack:
        n = stack.pop()
        if n is None or n in done:
            continue
        done.add(n)
        for t in n.saved_tensors:
            if id(t._data) not in seen:
                seen.add(id(t._data))
                if id(t._data) in input_ids:
                    inputs += t._data.nbytes
                else:
                    inter += t._data.nbytes
        stack.extend(nx for nx, _ in n.next_functions)
    c = report.cost["reverse"]
    assert c["saved_intermediate_bytes"] == inter > 0
    assert c["saved_bytes"] == inter + inputs
    assert report.cost["forward"]["saved_bytes"] == 0


def test_default_wrt_is_every_input():
    r = chainrule.explain(loss, W, B, X, Y, mode="forward")
    assert r.cost["forward"]["passes"] == 8
    assert [label for label, _ in r.passes][-1] == "y"


def test_markdown_and_html(report):
    md = report.to_markdown()
    assert "| ∂L/∂w | [-6, -3, -9] |" in md and "**Cost**" in md
    html = report.to_html()
    assert "<table>" in html and "<td>[-6, -3, -9]</td>" in html
    assert html.count("<table>") == len(report.tables)
    assert report._repr_html_() == html


def test_shared_input_nonlinear_and_broadcast():
    def f(x, c):
        return (x * x).sin().sum() + (x * c).sum()
    x0, c0 = [0.3, -1.2], 2.0
    r = chainrule.explain(f, x0, c0, mode="both", wrt="x")
    xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    ((xt * xt).sin().sum() + (xt * c0).sum()).backward()
    np.testing.assert_allclose(r.gradients["x"], xt.grad.numpy(), rtol=1e-14)
    text = str(r)
    assert "[arg 1]" in text and "[arg 2]" in text               # x * x: two uses
    assert "diag(" in text                                        # elementwise Jacobian
    assert r.cost["forward"]["passes"] == 2


def test_no_grad_step_and_vector_output_forward():
    def f(x):
        with chainrule.no_grad():
            s = x * 2
        return x * s
    r = chainrule.explain(f, [1.0, 2.0], mode="forward")
    fwd = {row[1]: row for row in rows(r, "Forward evaluation")}
    assert fwd["v1"][3] == "(no_grad)" and fwd["out"][5] == "[2, 8]"
    # forward mode ignores no_grad (as PyTorch's forward AD does): d(2x^2)/dx[0] = 4x[0]
    np.testing.assert_array_equal(r.passes[0][1]["out"], [4.0, 0.0])
    import torch.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        xt = fwAD.make_dual(torch.tensor([1.0, 2.0], dtype=torch.float64),
                            torch.tensor([1.0, 0.0], dtype=torch.float64))
        with torch.no_grad():
            st = xt * 2
        np.testing.assert_array_equal(fwAD.unpack_dual(xt * st).tangent.numpy(), [4.0, 0.0])
    assert "forward mode still propagates" in str(r)
    with pytest.raises(ValueError, match="scalar output"):
        chainrule.explain(f, [1.0, 2.0], mode="reverse")


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode must be"):
        chainrule.explain(loss, W, B, X, Y, mode="sideways")
    with pytest.raises(ValueError, match="unknown input 'q'"):
        chainrule.explain(loss, W, B, X, Y, wrt=["q"])
    with pytest.raises(ValueError, match="does not depend"):
        chainrule.explain(lambda a, b: b * 2, 1.0, 2.0, wrt=["a"])
    with pytest.raises(TypeError, match="must return a Tensor"):
        chainrule.explain(lambda a: 3.0, 1.0)
    with pytest.raises(ValueError, match="names"):
        chainrule.explain(loss, W, B, X, Y, names=["w"])
    outside = chainrule.ones(2, requires_grad=True)
    pre = outside * 3                       # recorded before explain's trace began
    with pytest.raises(RuntimeError, match="outside the traced call"):
        chainrule.explain(lambda a: (a * pre).sum(), [1.0, 2.0])


def test_graph_of_traced_formula_has_every_value():
    w = chainrule.tensor(W, dtype=chainrule.float64, requires_grad=True)
    b = chainrule.tensor(B, dtype=chainrule.float64, requires_grad=True)
    with viz.record() as rec:
        L = loss(w, b, chainrule.tensor(X, dtype=chainrule.float64),
                 chainrule.tensor(Y, dtype=chainrule.float64))
    L.backward()                          # graph freed: values come from the trace
    g = viz.graph(L, params={"w": w, "b": b}, trace=rec, show_values=True)
    assert all(n.shape is not None for n in g.nodes if n.kind == "op")
    assert "= 7" in g.to_dot()


def test_matrix_input_against_torch():
    W0, x0 = [[1.0, 2.0], [0.5, -1.0]], [0.3, 0.2]
    r = chainrule.explain(lambda W, x: chainrule.tanh(chainrule.matmul(W, x)).sum(), W0, x0,
                          mode="both", wrt="W")
    Wt = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    torch.tanh(Wt @ torch.tensor(x0, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(r.gradients["W"], Wt.grad.numpy(), rtol=1e-14)
    assert [label for label, _ in r.passes] == ["W[0, 0]", "W[0, 1]", "W[1, 0]", "W[1, 1]"]
    np.testing.assert_allclose([float(t["out"]) for _, t in r.passes],
                               Wt.grad.numpy().ravel(), rtol=1e-14)
    assert r.cost["forward"]["passes"] == 4 and r.cost["reverse"]["passes"] == 1
