"""Drawing a tensor's computation graph.

``graph(*outputs)`` walks the history of ``outputs`` (``grad_fn`` and ``next_functions``,
the same walk as the engine's) and builds a ``Graph``: one node per recorded op (its
PyTorch-style name, e.g. ``MulBackward0``), one per leaf or constant input, one per
output, and an edge for every input of every op, in data-flow order (input -> op ->
output).  The drawer reads only what a node shows about itself: its class name, its
``next_functions``, the ``variable`` of an ``AccumulateGrad``, and the values it saved
for backward.  It never looks at an op's rules.

Gradients on the edges (``show_grads=True``) come from the engine itself:

* when the graph is built *before* ``backward()``, pre-hooks capture what the engine
  sends along every edge during that backward (``g = graph(y); y.backward(); g``);
* when the graph's saved values are still there (before backward, or after
  ``backward(retain_graph=True)``), the drawer replays the backward pass itself by calling
  each node (``node(grad)``, the engine's own VJP), seeding every output with ones (or
  ``grad_outputs``), without running user hooks or touching ``.grad``.

After a plain ``backward()`` the saved values are gone; only the leaves' ``.grad`` can be
shown then, and the legend says so.

The graph object holds its tensors and nodes; nothing points back at it (the capture
hooks only hold a weak reference), so dropping it frees everything by reference counting.
"""
import shutil
import subprocess
import weakref

import numpy as np

from . import _fmt
from .._tensor import Tensor, vbox, wrap

__all__ = ["graph", "Graph", "GraphNode", "GraphEdge", "ExecutableNotFound"]

GRAPHVIZ_HELP = ("Graphviz's `dot` program was not found on PATH. Install the Debian/Ubuntu "
                 "package `graphviz` (apt-get install -y graphviz; macOS: brew install "
                 "graphviz), or use Graph.to_dot() and paste the text into any Graphviz "
                 "viewer.")

#: how each kind of node is drawn: (Graphviz attributes, legend text)
STYLES = {
    "leaf": ('shape=box, style="filled,rounded", fillcolor="#a6cee3"',
             "leaf that requires grad (gets .grad)"),
    "op": ('shape=box, style=filled, fillcolor="#eeeeee"',
           "op recorded for backward (grad_fn)"),
    "output": ('shape=box, style=filled, fillcolor="#b2df8a"', "output"),
    "const": ('shape=box, style="filled,dashed", fillcolor="white", color="#888888", '
              'fontcolor="#555555"', "constant (no gradient)"),
    "detached": ('shape=box, style="filled,dashed", fillcolor="#fdbf6f", color="#e66101"',
                 "detached tensor (.detach(): no gradient)"),
    "nograd": ('shape=box, style="filled,dotted", fillcolor="#d9d9d9", color="#636363"',
               "computed under no_grad (not recorded)"),
}
EDGE_STYLES = {
    "data": "",
    "output": "",
    "detach": 'style=dashed, color="#e66101", label="detach()", fontcolor="#e66101"',
    "nograd": 'style=dotted, color="#636363"',
}


class ExecutableNotFound(RuntimeError):
    """Raised by ``Graph.render`` when Graphviz's ``dot`` program is not installed."""


def graphviz_executable():
    """The path of Graphviz's ``dot`` program, or None when it is not installed.

    The one place that decides whether drawings can be rendered (rendering, Jupyter
    display, the demo and the tests all ask it, at the time of the call).
    """
    return shutil.which("dot")


class GraphNode:
    """One box of the drawing.

    ``kind``: ``"op"``, ``"leaf"``, ``"output"``, ``"const"``, ``"detached"`` or
    ``"nograd"``; ``name``: the op's node name (``MulBackward0``) or the tensor's name;
    ``shape``/``dtype``: of the tensor it produces or is (``None`` when unknown);
    ``value``: an ndarray (or Python scalar) or ``None``; ``ref``: the chainrule ``Node``
    or ``Tensor`` it stands for.

    >>> import chainrule as torch
    >>> from chainrule import viz
    >>> x = torch.arange(3.0, requires_grad=True)
    >>> g = viz.graph((x * 2).sum(), params={'x': x})
    >>> g.nodes[0], g.nodes[0].kind, g.nodes[0].name
    (<GraphNode n0 leaf x [3]>, 'leaf', 'x')
    """
    __slots__ = ("id", "kind", "name", "shape", "dtype", "value", "ref", "note", "grad")

    def __init__(self, id, kind, name, ref=None):
        self.id, self.kind, self.name, self.ref = id, kind, name, ref
        self.shape = self.dtype = self.value = self.note = self.grad = None

    def __repr__(self):
        shp = "" if self.shape is None else " " + _fmt.shape(self.shape)
        return f"<GraphNode {self.id} {self.kind} {self.name}{shp}>"


class GraphEdge:
    """An arrow ``src -> dst`` (data-flow direction); ``index`` is the input position at
    ``dst``; ``kind`` is ``"data"``, ``"output"``, ``"detach"`` or ``"nograd"``;
    ``grad`` the gradient sent backward along it (ndarray) when known.

    >>> import chainrule as torch
    >>> from chainrule import viz
    >>> x = torch.arange(3.0, requires_grad=True)
    >>> g = viz.graph((x * 2).sum(), params={'x': x})
    >>> e = g.edges[0]
    >>> e, e.index, e.kind
    (<GraphEdge n0 -> n1 (data 0)>, 0, 'data')
    """
    __slots__ = ("src", "dst", "index", "kind", "grad")

    def __init__(self, src, dst, index=0, kind="data"):
        self.src, self.dst, self.index, self.kind, self.grad = src, dst, index, kind, None

    def __repr__(self):
        return f"<GraphEdge {self.src} -> {self.dst} ({self.kind} {self.index})>"


class _Capture:
    """What the pre-hooks saw during the last backward: per node and per edge."""

    def __init__(self):
        self.node_grads = {}     # id(Node) -> gradient flowing into the node's output
        self.edge_grads = {}     # (id(Node), input index) -> gradient sent to that input


def _capture_hook(store_ref, node_ref, is_op):
    def hook(grad):
        store = store_ref()
        node = node_ref()
        if store is None or node is None:
            return None
        store.node_grads[id(node)] = np.array(grad._data, copy=True)
        if is_op:
            try:
                parts = node(grad)       # the engine's VJP for this node (saved values intact)
            except Exception:            # noqa: BLE001 -- drawing must never break backward
                return None
            for i, p in enumerate(parts):
                if p is not None:
                    store.edge_grads[(id(node), i)] = np.array(p._data, copy=True)
        return None
    return hook


def _topo(roots):
    """Nodes below ``roots``, every node before its inputs (Kahn, no recursion)."""
    deps, seen, stack = {}, set(roots), list(roots)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    order, ready = [], [r for r in dict.fromkeys(roots) if r not in deps]
    while ready:
        node = ready.pop()
        order.append(node)
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] -= 1
            if deps[nxt] == 0:
                ready.append(nxt)
    return order


def _is_leaf_node(node):
    return hasattr(node, "variable")


def _saved_inputs(node):
    """The node's saved inputs (Tensors / Python scalars) or ``None`` (not saved / freed)."""
    return getattr(node, "_inputs", None)


def _saved_out(node):
    return getattr(node, "_out", None)


class Graph:
    """A drawable computation graph (see ``chainrule.viz.graph``).

    ``nodes``/``edges`` list what is drawn; ``to_dot()`` gives Graphviz text;
    ``render(path)`` writes SVG/PNG/PDF with Graphviz; in Jupyter it displays as SVG.
    ``show_grads``/``show_values``/``show_saved`` can be changed before drawing.

    >>> import chainrule as torch
    >>> from chainrule import viz
    >>> x = torch.arange(3.0, requires_grad=True)
    >>> g = viz.graph((x * 2).sum(), params={'x': x})
    >>> g
    <chainrule.viz.Graph: 1 leaf, 2 op, 1 output, 1 const, 4 edges>
    >>> g.to_dot().startswith('digraph')
    True
    """

    def __init__(self, show_grads=False, show_values=False, show_saved=False, max_values=8):
        # how to draw when to_dot/render/pipe/Jupyter are not told otherwise (set_style)
        self.style = {"direction": "auto", "legend": True, "compact": False}
        self.nodes = []
        self.edges = []
        self.show_grads = show_grads
        self.show_values = show_values
        self.show_saved = show_saved
        self.max_values = max_values
        self.grad_source = None
        self._by_ref = {}         # id(Node or Tensor) -> GraphNode
        self._capture = _Capture()
        self._handles = []
        self._replayed = None     # (node_grads, edge_grads) from replay

    # --- queries -------------------------------------------------------------------------
    def node(self, key):
        """The ``GraphNode`` for a name (``"w"``, ``"MulBackward0"``), an id, a chainrule
        ``Node`` or ``Tensor``."""
        if isinstance(key, GraphNode):
            return key
        if not isinstance(key, str):
            n = self._by_ref.get(id(key))
            if n is None:
                raise KeyError(f"graph: {key!r} is not part of this graph")
            return n
        for n in self.nodes:
            if n.id == key or n.name == key:
                return n
        raise KeyError(f"graph: no node named {key!r}; names are "
                       f"{sorted({n.name for n in self.nodes})}")

    def counts(self):
        """``{kind: number of nodes}`` plus ``"edges"`` (data edges, not detach/no_grad)."""
        out = {}
        for n in self.nodes:
            out[n.kind] = out.get(n.kind, 0) + 1
        out["edges"] = sum(1 for e in self.edges if e.kind in ("data", "output"))
        return out

    def saved_tensors(self, key):
        """What an op node keeps for backward: a list of ``(role, Tensor)`` with role
        ``"input 0"``, ``"input 1"``, ... or ``"result"``.  Raises PyTorch's
        ``RuntimeError`` if backward already freed them.

        >>> import chainrule as torch
        >>> from chainrule import viz
        >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
        >>> g = viz.graph((x * x).exp().sum(), params={"x": x})
        >>> [(r, tuple(t.shape)) for r, t in g.saved_tensors("ExpBackward0")]
        [('result', (2,))]
        """
        n = self.node(key)
        node = n.ref
        if n.kind != "op":
            return []
        node.saved_tensors            # raises the engine's error if freed
        out = [(f"input {i}", x) for i, x in enumerate(_saved_inputs(node) or ())
               if isinstance(x, Tensor)]
        if _saved_out(node) is not None:
            out.append(("result", wrap(_saved_out(node))))
        return out

    def _saved_text(self, n):
        try:
            saved = self.saved_tensors(n)
        except RuntimeError:
            return "saved: freed by backward()"
        if not saved:
            return "saved: nothing"
        return "saved: " + ", ".join(f"{r} {_fmt.shape(t.shape)}" for r, t in saved)

    # --- gradients -------------------------------------------------------------------------
    def _node_grad(self, n):
        if n.kind == "leaf":
            g = self._capture.node_grads.get(id(self._acc_of(n)))
            if g is None and self._replayed is not None:
                g = self._replayed[0].get(id(self._acc_of(n)))
            if g is None and n.ref.grad is not None:
                g = n.ref.grad._data
            return g
        return None

    def _acc_of(self, n):
        return self._leaf_acc.get(n.id)

    def _edge_grad(self, e):
        key = self._edge_key.get(id(e))
        if key is None:
            return None
        g = self._capture.edge_grads.get(key)
        if g is None and self._replayed is not None:
            g = self._replayed[1].get(key)
        return g

    def edge_grads(self):
        """``{(src name, dst name, input index): gradient ndarray}`` for the edges whose
        gradient is known (see ``show_grads``)."""
        out = {}
        for e in self.edges:
            g = self._edge_grad(e)
            if g is not None:
                out[(self.node(e.src).name, self.node(e.dst).name, e.index)] = g
        return out

    def _grads_note(self):
        if self._capture.edge_grads:
            return "edge labels: gradients sent by the last backward()"
        if self._replayed is not None:
            return "edge labels: gradients for output seed ones (replayed backward)"
        return ("intermediate gradients unavailable: build the graph before backward() or "
                "use backward(retain_graph=True); leaves show .grad")

    # --- output --------------------------------------------------------------------------
    def _label(self, n, compact=False):
        digits = 3 if compact else 6
        lines = [n.name] if n.name else []
        if n.kind == "output" and n.note:
            lines = [n.name]
        if n.shape is not None:
            lines.append(_fmt.shape(n.shape) if compact
                         else f"{_fmt.shape(n.shape)} {n.dtype or ''}".rstrip())
        elif n.kind in ("op", "output"):
            lines.append("shape ?")
        if n.note and n.kind != "output":
            lines.append(n.note)
        if self.show_values and n.value is not None and not (
                n.kind == "const" and n.ref is None):       # a number: its name is its value
            v = np.asarray(n.value)
            if v.size <= self.max_values:
                lines.append(_wrap("= " + _fmt.array(v, self.max_values, digits)))
        if self.show_grads:
            g = self._node_grad(n)
            if g is not None and np.asarray(g).size <= self.max_values:
                lines.append(_wrap("grad = " + _fmt.array(g, self.max_values, digits)))
        if self.show_saved and n.kind == "op":
            lines.append(self._saved_text(n))
        return "\n".join(lines)

    def set_style(self, direction=None, legend=None, compact=None):
        """Set how the graph is drawn by default -- by ``to_dot()``, ``render()``,
        ``pipe()`` and the Jupyter display alike -- and return the graph.

        ``direction``: ``"LR"`` (left to right), ``"TB"`` (top to bottom) or ``"auto"``
        (left to right for graphs up to 6 steps deep, else top to bottom, so a deep graph
        stays narrow enough for a notebook).  ``legend``: draw the key to the node styles
        (small, after the last column or row).  ``compact``: smaller type and spacing,
        3 significant digits, shapes without dtypes.

        >>> import chainrule as torch
        >>> from chainrule import viz
        >>> x = torch.arange(4.0, requires_grad=True)
        >>> g = viz.graph((x * x).sum(), params={"x": x}).set_style(direction="TB")
        >>> g.to_dot().splitlines()[1]
        '  rankdir=TB;'
        """
        for key, value in (("direction", direction), ("legend", legend),
                           ("compact", compact)):
            if value is not None:
                self.style[key] = value
        _style_args(self.style["direction"], self.style["legend"], self.style["compact"])
        return self

    def _depth(self):
        """Edges on the longest path (the number of ranks minus one)."""
        succ, indeg = {}, {n.id: 0 for n in self.nodes}
        for e in self.edges:
            succ.setdefault(e.src, []).append(e.dst)
            indeg[e.dst] = indeg.get(e.dst, 0) + 1
            indeg.setdefault(e.src, 0)
        depth = {k: 0 for k, d in indeg.items() if d == 0}
        ready = list(depth)
        while ready:                   # Kahn's order: no recursion
            k = ready.pop()
            for d in succ.get(k, ()):
                depth[d] = max(depth.get(d, 0), depth[k] + 1)
                indeg[d] -= 1
                if indeg[d] == 0:
                    ready.append(d)
        return max(depth.values(), default=0)

    def to_dot(self, legend=None, direction=None, compact=None, max_width=None):
        """Graphviz DOT text of the graph (pure Python; needs nothing installed).
        ``legend``/``direction``/``compact`` override the graph's style (``set_style``);
        ``max_width`` (inches) scales a wider drawing down to fit.

        >>> import chainrule as torch
        >>> from chainrule import viz
        >>> x = torch.arange(4.0, requires_grad=True)
        >>> viz.graph(2 * torch.dot(x, x), params={"x": x}).to_dot().splitlines()[:2]
        ['digraph chainrule {', '  rankdir=LR;']
        """
        st = self.style
        direction, legend, compact = _style_args(
            st["direction"] if direction is None else direction,
            st["legend"] if legend is None else legend,
            st["compact"] if compact is None else compact)
        if direction == "auto":
            direction = "LR" if self._depth() <= 6 else "TB"
        size = (11, 9) if not compact else (9, 8)
        out = ["digraph chainrule {", f"  rankdir={direction};",
               f'  node [fontname="Helvetica", fontsize={size[0]}'
               + (', margin="0.06,0.03", height=0.3' if compact else "") + "];",
               f'  edge [fontname="Helvetica", fontsize={size[1]}'
               + (", arrowsize=0.6" if compact else "") + "];"]
        if compact:
            out.append("  nodesep=0.15; ranksep=0.25;")
        if max_width is not None:
            out.append(f'  size="{float(max_width):g},1000";')
        nograd = [n for n in self.nodes if n.kind == "nograd"]
        for n in self.nodes:
            if n.kind == "nograd":
                continue
            out.append(f"  {n.id} [label={_q(self._label(n, compact))}, {STYLES[n.kind][0]}];")
        if nograd:
            out.append("  subgraph cluster_no_grad {")
            out.append('    label="no_grad region"; style=dashed; color="#636363"; '
                       'fontname="Helvetica"; fontsize=10;')
            for n in nograd:
                out.append(f"    {n.id} [label={_q(self._label(n, compact))}, "
                           f"{STYLES[n.kind][0]}];")
            out.append("  }")
        for e in self.edges:
            attrs = EDGE_STYLES[e.kind]
            if self.show_grads and e.kind == "data":
                g = self._edge_grad(e)
                if g is not None:
                    text = _wrap("grad " + _fmt.array(g, self.max_values, 3 if compact else 6))
                    attrs = f'label={_q(text)}, fontcolor="#b2182b"'
            out.append(f"  {e.src} -> {e.dst}" + (f" [{attrs}];" if attrs else ";"))
        if legend:
            # a small key after the last rank (right of an LR drawing, below a TB one)
            kinds = [k for k in STYLES if any(n.kind == k for n in self.nodes)] or ["op"]
            if direction in ("LR", "RL"):     # a column: Graphviz stacks it bottom-up
                kinds.reverse()
            small = 'fontsize=8, height=0.2, margin="0.04,0.02"'
            out.append("  subgraph legend {")
            out.append("    rank=sink;")
            for k in kinds:
                out.append(f"    legend_{k} [label={_q(STYLES[k][1])}, {STYLES[k][0]}, {small}];")
            if self.show_grads:
                out.append(f"    legend_grads [label={_q(self._grads_note())}, shape=plaintext, "
                           f'fontcolor="#b2182b", {small}];')
            out.append("  }")
        out.append("}")
        return "\n".join(out) + "\n"

    def render(self, path, format=None, timeout=60, *, legend=None, direction=None,
               compact=None, max_width=None):
        """Draw the graph into ``path`` (``.svg``, ``.png`` or ``.pdf``) with Graphviz's
        ``dot`` program and return the path.  The style options are those of ``to_dot``.
        Raises ``ExecutableNotFound`` (naming the Debian package ``graphviz``) when ``dot``
        is not installed."""
        import os
        path = os.fspath(path)
        fmt = (format or os.path.splitext(path)[1].lstrip(".")).lower()
        if fmt not in ("svg", "png", "pdf"):
            raise ValueError(f"Graph.render: expected a file name ending in .svg, .png or .pdf "
                             f"(or format='svg'|'png'|'pdf'), got {path!r}")
        data = _run_dot(self.to_dot(legend, direction, compact, max_width), fmt, timeout)
        with open(path, "wb") as fh:
            fh.write(data)
        return path

    def pipe(self, format="svg", timeout=60, *, legend=None, direction=None, compact=None,
             max_width=None):
        """The drawing as bytes (``dot -T<format>``); style options as in ``to_dot``."""
        return _run_dot(self.to_dot(legend, direction, compact, max_width), format, timeout)

    #: the widest drawing Jupyter shows unscaled, in inches (about a notebook's width)
    NOTEBOOK_WIDTH = 9.0

    def _repr_svg_(self):
        if graphviz_executable() is None:
            return None
        return self.pipe("svg", max_width=self.NOTEBOOK_WIDTH).decode("utf-8")

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self)}
        svg = self._repr_svg_()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle

    def __repr__(self):
        c = self.counts()
        parts = ", ".join(f"{c[k]} {k}" for k in STYLES if k in c)
        return f"<chainrule.viz.Graph: {parts}, {c['edges']} edges>"

    def remove_hooks(self):
        """Stop capturing gradients from later backward passes."""
        for h in self._handles:
            h.remove()
        self._handles = []


def _wrap(text, width=36):
    """Break a long ``= [a, b, ...]`` label after commas so no line is much wider than
    ``width`` characters (a wide label widens its whole rank of the drawing)."""
    if len(text) <= width:
        return text
    lines, line = [], ""
    for part in text.split(", "):
        piece = part if not line else ", " + part
        if line and len(line) + len(piece) > width:
            lines.append(line + ",")
            line = "  " + part
        else:
            line += piece
    return "\n".join(lines + [line])


def _style_args(direction, legend, compact):
    if direction not in ("auto", "LR", "TB", "RL", "BT"):
        raise ValueError(f"viz.Graph: direction must be 'auto', 'LR', 'TB', 'RL' or 'BT', "
                         f"got {direction!r}")
    for name, v in (("legend", legend), ("compact", compact)):
        if not isinstance(v, bool):
            raise TypeError(f"viz.Graph: {name} must be True or False, got {v!r}")
    return direction, legend, compact


def _q(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _run_dot(text, fmt, timeout):
    exe = graphviz_executable()
    if exe is None:
        raise ExecutableNotFound(GRAPHVIZ_HELP)
    proc = subprocess.run([exe, f"-T{fmt}"], input=text.encode("utf-8"), capture_output=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"Graphviz dot failed (exit {proc.returncode}): "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


def _names(params):
    """``{id(tensor): name}`` from a dict or (name, tensor) pairs."""
    if params is None:
        return {}
    items = params.items() if hasattr(params, "items") else params
    return {id(t): str(name) for name, t in items}


def graph(*outputs, params=None, show_grads=False, show_values=False, show_saved=False,
          trace=None, grad_outputs=None, capture=True, max_values=8):
    """The computation graph behind ``outputs``, ready to draw.

    ``params``: ``{name: tensor}`` (or ``(name, tensor)`` pairs, e.g.
    ``model.named_parameters()``) naming leaves, outputs or intermediates.
    ``show_values``: print the values of tensors with at most ``max_values`` elements.
    ``show_grads``: label every edge with the gradient the engine sends along it (see the
    module docstring for when it is known).  ``show_saved``: list what each op saved.
    ``trace``: a ``chainrule.viz.record()`` recording of the code that built ``outputs``:
    adds values of every intermediate, unsaved constants and ``no_grad`` computations.
    ``grad_outputs``: seeds of the replayed backward (default: ones).
    ``capture``: hook the nodes so a later ``backward()`` fills in the edge gradients.

    >>> import chainrule as torch
    >>> from chainrule import viz
    >>> x = torch.arange(4.0, requires_grad=True)
    >>> y = 2 * torch.dot(x, x)
    >>> g = viz.graph(y, params={"x": x, "y": y}, show_grads=True)
    >>> [n.name for n in g.nodes]
    ['x', 'DotBackward0', 'MulBackward0', '2', 'y']
    >>> g.edge_grads()[("x", "DotBackward0", 0)]
    array([0., 2., 4., 6.], dtype=float32)
    """
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"viz.graph: expected Tensors as outputs, but output {i} is "
                            f"{type(t).__name__}; pass the tensors whose history to draw")
    return _Builder(outputs, params, trace, show_grads, show_values, show_saved,
                    max_values).build(grad_outputs, capture)


class _Builder:
    """Builds one ``Graph`` (a class rather than closures: no reference cycles)."""

    def __init__(self, outputs, params, trace, show_grads, show_values, show_saved,
                 max_values):
        self.Tensor = Tensor
        self.outputs, self.trace = outputs, trace
        self.names = _names(params)
        self.g = Graph(show_grads, show_values, show_saved, max_values)
        self.g._leaf_acc, self.g._edge_key = {}, {}
        self.counter = 0
        self.out_tensor = {}
        self.by_node = trace.by_node() if trace is not None else {}
        self.owner_data, self.owner_version = {}, {}
        self.traced_grad_data = {}
        self.node_of, self.const_of = {}, {}
        for node, ev in self.by_node.items():
            self.out_tensor[node] = ev.result
        if trace is not None:
            for ev in trace:
                if ev.result.requires_grad:
                    self.traced_grad_data.setdefault(id(ev.result._data), ev)
        if params is not None:
            vals = params.values() if hasattr(params, "values") else (p for _, p in params)
            for t in vals:
                if isinstance(t, Tensor) and t.grad_fn is not None:
                    self.out_tensor[t.grad_fn] = t
        self.output_ids = {id(t) for t in outputs}
        for t in outputs:
            if t.grad_fn is not None:
                self.out_tensor[t.grad_fn] = t

    def new(self, kind, name, ref=None):
        n = GraphNode(f"n{self.counter}", kind, name, ref)
        self.counter += 1
        self.g.nodes.append(n)
        if ref is not None:
            self.g._by_ref.setdefault(id(ref), n)
        return n

    @staticmethod
    def meta(n, t):
        n.shape, n.dtype = tuple(t.shape), str(t.dtype).replace("torch.", "")
        n.value = t._data

    def own(self, t, gn):
        self.owner_data.setdefault(id(t._data), gn)
        self.owner_version.setdefault(id(vbox(t)), gn)

    def build(self, grad_outputs, capture):
        g, Tensor, names = self.g, self.Tensor, self.names
        roots = [t.grad_fn for t in self.outputs if t.grad_fn is not None]
        order = list(reversed(_topo(roots)))           # data-flow order: inputs first
        for node in order:
            for x in (_saved_inputs(node) or ()):
                if isinstance(x, Tensor) and x.grad_fn is not None:
                    self.out_tensor.setdefault(x.grad_fn, x)
        leaves = 0
        for node in order:
            if _is_leaf_node(node):
                v = node.variable
                leaves += 1
                n = self.new("leaf", names.get(id(v), ""), v)
                if not n.name:
                    n.name = "leaf" if leaves == 1 else f"leaf{leaves}"
                self.meta(n, v)
                self.own(v, n)
                g._by_ref[id(node)] = n
                g._leaf_acc[n.id] = node
            else:
                n = self.new("op", node.name(), node)
                t = self.out_tensor.get(node)
                if t is not None:
                    self.meta(n, t)
                    self.own(t, n)
                    if id(t) in names and id(t) not in self.output_ids:
                        n.note = f"({names[id(t)]})"
                elif _saved_out(node) is not None:
                    arr = _saved_out(node)
                    n.shape, n.dtype, n.value = arr.shape, arr.dtype.name, arr
                    self.owner_data.setdefault(id(arr), n)
            self.node_of[node] = n

        for node in order:
            if _is_leaf_node(node):
                continue
            n = self.node_of[node]
            ev = self.by_node.get(node)
            args = ev.args if ev is not None else _saved_inputs(node)
            for i, (nxt, _) in enumerate(node.next_functions):
                if nxt is not None:
                    e = GraphEdge(self.node_of[nxt].id, n.id, i)
                else:
                    x = args[i] if args is not None and i < len(args) else _UNKNOWN
                    e = GraphEdge(self.const_node(x).id, n.id, i)
                g.edges.append(e)
                g._edge_key[id(e)] = (id(node), i)

        for t in self.outputs:
            if t.grad_fn is None:
                if id(t) in g._by_ref:
                    continue
                n = self.new("leaf" if t.requires_grad else "const",
                             names.get(id(t), "output"), t)
                self.meta(n, t)
                continue
            n = self.new("output", names.get(id(t), "output"), t)
            self.meta(n, t)
            g._by_ref[id(t)] = n
            g.edges.append(GraphEdge(self.node_of[t.grad_fn].id, n.id, 0, "output"))

        # gradients: capture hooks for a later backward, and a replay if values are intact
        if capture and roots:
            ref = weakref.ref(g._capture)
            for nd in order:
                g._handles.append(nd.register_prehook(
                    _capture_hook(ref, weakref.ref(nd), not _is_leaf_node(nd))))
        need_shapes = any(n.kind == "op" and n.shape is None for n in g.nodes)
        if roots and (g.show_grads or need_shapes):
            g._replayed = _replay(self.outputs, order, grad_outputs)
            if g._replayed is not None:
                for node, n in self.node_of.items():
                    if n.kind == "op" and n.shape is None:
                        gr = g._replayed[0].get(id(node))
                        if gr is not None:
                            n.shape, n.dtype = gr.shape, gr.dtype.name
        return g

    def const_node(self, x):
        """The node of a non-differentiable input: constant, detached or no_grad result."""
        Tensor, names, g = self.Tensor, self.names, self.g
        if not isinstance(x, Tensor):
            if x is _UNKNOWN:
                return self.new("const", "constant (not saved)")
            n = self.new("const", _fmt.num(x) if isinstance(x, (int, float, bool, np.number))
                         else type(x).__name__)
            n.value = x
            return n
        if id(x) in self.const_of:
            return self.const_of[id(x)]
        ev = self.trace.producer(x) if self.trace is not None else None
        if ev is not None and not ev.grad_enabled:
            return self.nograd_node(ev)
        src = self.owner_data.get(id(x._data)) or self.owner_version.get(id(vbox(x)))
        traced = self.traced_grad_data.get(id(x._data))
        if src is not None or (traced is not None and traced.result is not x):
            n = self.new("detached", names.get(id(x), "detached"), x)
            self.meta(n, x)
            if src is not None:
                g.edges.append(GraphEdge(src.id, n.id, 0, "detach"))
            else:
                n.note = f"detached from a {traced.name} result"
        else:
            n = self.new("const", names.get(id(x), "constant"), x)
            self.meta(n, x)
        self.const_of[id(x)] = n
        return n

    def nograd_node(self, ev):
        Tensor, g = self.Tensor, self.g
        n = self.new("nograd", f"{ev.name} (no_grad)", ev.result)
        self.meta(n, ev.result)
        self.const_of[id(ev.result)] = n
        for i, a in enumerate(ev.args):
            if isinstance(a, Tensor):
                src = g._by_ref.get(id(a))
                if src is None and a.grad_fn is not None:
                    src = self.node_of.get(a.grad_fn)
                if src is not None:
                    g.edges.append(GraphEdge(src.id, n.id, i, "nograd"))
                    continue
            c = self.const_node(a)
            g.edges.append(GraphEdge(c.id, n.id, i, "nograd"))
        return n


class _Unknown:
    def __repr__(self):
        return "<not saved>"


_UNKNOWN = _Unknown()


def _replay(outputs, order, grad_outputs):
    """Run the backward pass node by node with the engine's VJPs (``node(grad)``), without
    hooks and without touching ``.grad``.  ``None`` if saved values were freed."""
    buffers = {}
    for i, t in enumerate(outputs):
        if t.grad_fn is None:
            continue
        if grad_outputs is not None and grad_outputs[i] is not None:
            seed = np.asarray(getattr(grad_outputs[i], "_data", grad_outputs[i]),
                              dtype=t._data.dtype)
        else:
            seed = np.ones_like(t._data)
        node = t.grad_fn
        buffers[node] = seed if node not in buffers else buffers[node] + seed
    node_grads, edge_grads = {}, {}
    try:
        for node in reversed(order):            # outputs first
            gr = buffers.pop(node, None)
            if gr is None:
                continue
            node_grads[id(node)] = gr
            if _is_leaf_node(node):
                continue
            parts = node(wrap(gr))
            for i, ((nxt, _), p) in enumerate(zip(node.next_functions, parts)):
                if nxt is None or p is None:
                    continue
                p = p._data
                edge_grads[(id(node), i)] = p
                old = buffers.get(nxt)
                buffers[nxt] = p if old is None else old + p
    except RuntimeError:
        return None
    return node_grads, edge_grads
