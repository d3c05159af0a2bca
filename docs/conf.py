"""Sphinx configuration of chainrule's documentation site.

Build it with ``pip install ".[docs]"`` and
``python -m sphinx -W -n -b html docs docs/_build/html`` (the examples run with
``-b doctest``).  The API reference, the op table and the tutorial's drawings and tables
are generated from the code at build time (``_generate`` below), so they cannot go stale.
"""
import importlib
import inspect
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))   # document this checkout

import chainrule  # noqa: E402

project = "chainrule"
author = "the chainrule developers"
copyright = "2026, the chainrule developers"
release = version = chainrule.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.doctest",
              "sphinx.ext.viewcode"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated/*.md"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
# signatures as PyTorch's reference shows them, without the type annotations (the
# annotations are for type checkers; rendering them would cross-reference typing's and
# collections.abc's classes, which this offline build cannot resolve)
autodoc_typehints = "none"
autodoc_default_options = {"undoc-members": False}
html_theme = "alabaster"
html_static_path = []
html_theme_options = {"description": "automatic differentiation on NumPy, made visible",
                      "fixed_sidebar": True}
doctest_global_setup = "import chainrule as torch\nimport chainrule"
# every docstring example already runs in the test suite (tests/test_docstrings.py); the
# doctest builder runs the examples written in these pages
doctest_test_doctest_blocks = ""
suppress_warnings = ["myst.header"]

# --- the API reference: one page per public namespace, listing what it exports ---------

NAMESPACES = [
    ("chainrule", "Tensors, factories and ops"),
    ("chainrule.autograd", "Reverse mode: autograd"),
    ("chainrule.autograd.forward_ad", "Forward mode: autograd.forward_ad"),
    ("chainrule.autograd.functional", "autograd.functional"),
    ("chainrule.func", "Function transforms: func"),
    ("chainrule.linalg", "Linear algebra: linalg"),
    ("chainrule.nn", "Modules: nn"),
    ("chainrule.nn.functional", "nn.functional"),
    ("chainrule.nn.init", "nn.init"),
    ("chainrule.optim", "Optimisers: optim"),
    ("chainrule.optim.lr_scheduler", "optim.lr_scheduler"),
    ("chainrule.utils.data", "Data loading: utils.data"),
    ("chainrule.serialization", "Saving and loading"),
    ("chainrule.viz", "Seeing the chain rule: viz"),
]


def _public(mod):
    names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
    for n in sorted(names, key=str.lower):
        obj = getattr(mod, n, None)
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj):
            yield n, obj


_DOCUMENTED = {}       # id(object) -> the page that indexes it (others say :no-index:)


def _api_page(modname, title):
    mod = importlib.import_module(modname)
    lines = [title, "=" * len(title), "", f".. currentmodule:: {modname}", ""]
    doc = inspect.getdoc(mod)
    if doc:
        lines += [doc.split("\n\n")[0].replace("``", "``"), ""]
    classes = [(n, o) for n, o in _public(mod) if inspect.isclass(o)]
    funcs = [(n, o) for n, o in _public(mod) if not inspect.isclass(o)]
    if modname == "chainrule":
        lines += ["The ``Tensor`` class is on its own page: :doc:`tensor`.", ""]
        classes = [(n, o) for n, o in classes if n != "Tensor"]
    for heading, items, directive in (("Classes", classes, "autoclass"),
                                      ("Functions", funcs, "autofunction")):
        if not items:
            continue
        lines += [heading, "-" * len(heading), ""]
        for n, obj in items:
            lines += [f".. {directive}:: {n}"]
            if directive == "autoclass":
                lines += ["   :members:"]
            home = _DOCUMENTED.setdefault(id(obj), modname)
            if home != modname:         # exported twice (torch.no_grad, autograd.no_grad)
                lines += ["   :no-index:"]
            lines += [""]
    return "\n".join(lines)


def _tensor_page():
    lines = ["Tensor", "======", "", ".. currentmodule:: chainrule", "",
             ".. autoclass:: Tensor", ""]
    names = sorted(n for n in dir(chainrule.Tensor) if not n.startswith("_"))
    for n in names:
        attr = inspect.getattr_static(chainrule.Tensor, n)
        kind = "autoproperty" if isinstance(attr, property) else (
            "automethod" if callable(getattr(chainrule.Tensor, n)) else None)
        if kind:
            lines += [f"   .. {kind}:: {n}", ""]
    return "\n".join(lines)


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    old = open(path).read() if os.path.exists(path) else None
    if old != text:                 # unchanged files keep their time: no needless rebuild
        with open(path, "w") as fh:
            fh.write(text)


def _generate(app):
    _DOCUMENTED.clear()
    api = os.path.join(HERE, "api")
    pages = []
    for modname, title in NAMESPACES:
        slug = modname.replace("chainrule.", "").replace("chainrule", "chainrule")
        _write(os.path.join(api, f"{slug}.rst"), _api_page(modname, title))
        pages.append(slug)
    _write(os.path.join(api, "tensor.rst"), _tensor_page())
    index = ["API reference", "=============", "",
             "Generated from the docstrings of each public namespace (the names PyTorch "
             "users know).", "", ".. toctree::", "   :maxdepth: 1", "", "   tensor"]
    index += [f"   {p}" for p in pages]
    _write(os.path.join(api, "index.rst"), "\n".join(index) + "\n")
    # the op table, from the rule table
    from chainrule.ops.table import render
    gen = os.path.join(HERE, "_generated")
    _write(os.path.join(gen, "ops_table.md"), render())
    _tutorial_figures(gen)


def _tutorial_figures(gen):
    """The tutorial's drawing (SVG with Graphviz, else its DOT text) and tables."""
    from chainrule import viz
    from chainrule.viz import drawing
    x = chainrule.arange(4.0, requires_grad=True)
    y = 2 * chainrule.dot(x, x)
    g = viz.graph(y, params={"x": x, "y": y}, show_values=True, show_grads=True)
    y.backward()
    if drawing.graphviz_executable() is not None:
        svg = g.pipe("svg").decode("utf-8")
        _write(os.path.join(gen, "dot_graph.svg"), svg)
        figure = "```{image} _generated/dot_graph.svg\n:alt: the graph of y = 2 dot(x, x)\n```\n"
    else:
        figure = ("(Graphviz is not installed where these pages were built; this is the "
                  "drawing's DOT text.)\n\n```text\n" + g.to_dot() + "```\n")
    _write(os.path.join(gen, "dot_graph.md"), figure)

    def loss(w, b, x, y):
        return 0.5 * (chainrule.dot(w, x) + b - y) ** 2
    r = chainrule.explain(loss, [1., 1., 1.], 1., [2., 1., 3.], 10., wrt=["w", "b"],
                          names=["w", "b", "x", "y", "L"], mode="both")
    _write(os.path.join(gen, "explain_tables.md"), r.to_markdown() + "\n")


def setup(app):
    app.connect("builder-inited", _generate)
    return {"parallel_read_safe": True}
