"""``chainrule.viz``: see the chain rule at work.

* ``graph(*outputs, params=...)`` -- the computation graph of tensors, as Graphviz DOT
  text, an SVG/PNG/PDF file (``render``) or inline in Jupyter.
* ``explain(f, *inputs, mode=...)`` -- forward evaluation and reverse/forward accumulation
  tables with every intermediate value, adjoint and tangent, and what each mode costs.
* ``record()`` -- note every op a block of code runs (values, constants, ``no_grad`` work).

>>> import chainrule as torch
>>> from chainrule import viz
>>> x = torch.arange(4.0, requires_grad=True)
>>> viz.graph(2 * torch.dot(x, x), params={"x": x})
<chainrule.viz.Graph: 1 leaf, 2 op, 1 output, 1 const, 5 edges>
"""
from ._trace import Event, Recording, record
from .drawing import ExecutableNotFound, Graph, GraphEdge, GraphNode, graph
from .explain import Report, explain

__all__ = ["graph", "Graph", "GraphNode", "GraphEdge", "ExecutableNotFound", "explain",
           "Report", "record", "Recording", "Event"]
