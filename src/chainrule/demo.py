"""The autograd chapter of "Dive into Deep Learning", run step by step.

``run(torch)`` takes the tensor library as an argument, so the same program runs on
chainrule and on PyTorch and the outputs can be compared line by line (the tests do).
``main()`` then draws the chapter's first example with ``chainrule.viz``.
"""
import chainrule
from chainrule import viz
from chainrule.viz import drawing


def run(torch, emit=print):
    """Walk through the chapter's examples with library ``torch``, printing each result."""
    def show(title, *values):
        emit(f"--- {title}")
        for v in values:
            emit(repr(v) if not isinstance(v, str) else v)

    emit("A simple function: y = 2 * dot(x, x)")
    x = torch.arange(4.0)
    show("x = torch.arange(4.0)", x)
    x.requires_grad_(True)
    show("x.grad before backward (None)", x.grad)
    y = 2 * torch.dot(x, x)
    show("y = 2 * torch.dot(x, x)", y)
    y.backward()
    show("x.grad after y.backward()  (= 4x)", x.grad)
    show("x.grad == 4 * x", x.grad == 4 * x)

    emit("")
    emit("Gradients accumulate: reset with x.grad.zero_()")
    x.grad.zero_()
    y = x.sum()
    y.backward()
    show("x.grad of y = x.sum()", x.grad)
    y = x.sum()
    y.backward()
    show("without zero_(), a second backward adds up", x.grad)
    x.grad.zero_()

    emit("")
    emit("Backward for non-scalar variables: pass gradient=")
    y = x * x
    y.backward(gradient=torch.ones(len(y)))
    show("y = x * x; y.backward(gradient=torch.ones(len(y)))", x.grad)
    try:
        (x * x).backward()
    except RuntimeError as e:
        show("y.backward() without gradient= raises RuntimeError", str(e).split(".")[0])

    emit("")
    emit("Detaching computation")
    x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    show("u = y.detach(); z = u * x; x.grad == u", x.grad == u)
    x.grad.zero_()
    y.sum().backward()
    show("y.sum().backward(); x.grad == 2 * x", x.grad == 2 * x)

    emit("")
    emit("Gradients and Python control flow")

    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        if b.sum() > 0:
            c = b
        else:
            c = 100 * b
        return c

    for start in (0.3, -1.7):
        a = torch.tensor(start, requires_grad=True)
        d = f(a)
        d.backward()
        show(f"a = {start}: d = f(a)", d)
        show("a.grad", a.grad)
        show("a.grad == d / a", a.grad == d / a)

    emit("")
    emit("Higher-order derivatives (create_graph=True)")
    t = torch.tensor(2.0, requires_grad=True)
    y = t ** 3
    (dy,) = torch.autograd.grad(y, t, create_graph=True)
    (d2y,) = torch.autograd.grad(dy, t)
    show("y = t**3 at t = 2: dy/dt = 3t^2, d2y/dt2 = 6t", dy, d2y)


def main(argv=None):
    run(chainrule)
    show_graph()


GRAPH_FILE = "chainrule_demo_graph.svg"


def show_graph(directory=None):
    """Draw the chapter's first example, y = 2 * dot(x, x), with values and gradients.

    With Graphviz installed the drawing goes to ``chainrule_demo_graph.svg`` in
    ``directory`` (default: the current directory; a temporary directory if that is not
    writable) and the path is printed; without it, the DOT text is printed together with
    how to install Graphviz.
    """
    import os
    import tempfile
    print()
    print("The computation graph of y = 2 * dot(x, x) at x = arange(4.0):")
    x = chainrule.arange(4.0, requires_grad=True)
    y = 2 * chainrule.dot(x, x)
    g = viz.graph(y, params={"x": x, "y": y}, show_values=True, show_grads=True)
    y.backward()            # the graph's hooks capture the gradient sent along each edge
    if drawing.graphviz_executable() is None:
        print(g.to_dot(), end="")
        print("To see it as a picture, install Graphviz (Debian/Ubuntu: "
              "apt-get install -y graphviz) and run the demo again, or paste the DOT text "
              "above into any Graphviz viewer.")
        return None
    for folder in (directory or os.getcwd(), tempfile.mkdtemp(prefix="chainrule-")):
        path = os.path.abspath(os.path.join(folder, GRAPH_FILE))
        try:
            g.render(path)
        except OSError:
            continue
        print(f"Drawn with Graphviz to {path} (open it in a web browser): the leaf x, "
              f"DotBackward0 and MulBackward0 with their values, and the gradient sent "
              f"backward along each edge.")
        return path
    print(g.to_dot(), end="")
    return None
