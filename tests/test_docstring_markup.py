"""Every public docstring is valid reStructuredText, so the documentation site (built in CI
with warnings as errors) renders it: caught here, by the test command, before CI."""
import importlib
import inspect

import pytest

import chainrule

docutils_core = pytest.importorskip("docutils.core")   # in the test extra

NAMESPACES = ["chainrule", "chainrule.autograd", "chainrule.autograd.forward_ad",
              "chainrule.autograd.functional", "chainrule.func", "chainrule.linalg",
              "chainrule.nn", "chainrule.nn.functional", "chainrule.nn.init", "chainrule.optim",
              "chainrule.optim.lr_scheduler", "chainrule.utils.data", "chainrule.serialization",
              "chainrule.viz", "chainrule.distributions", "chainrule.cuda"]


def _docstrings():
    seen = set()
    for name in NAMESPACES:
        mod = importlib.import_module(name)
        yield name, inspect.getdoc(mod)
        names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
        for n in names:
            obj = getattr(mod, n, None)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{name}.{n}", inspect.getdoc(obj)
            if inspect.isclass(obj):
                for m, member in vars(obj).items():
                    if not m.startswith("_") and (inspect.isfunction(member)
                                                  or isinstance(member, property)):
                        yield f"{name}.{n}.{m}", inspect.getdoc(member)
    for m in dir(chainrule.Tensor):
        if not m.startswith("_"):
            yield f"Tensor.{m}", inspect.getdoc(getattr(chainrule.Tensor, m))


def _sphinx_roles():
    """Sphinx's cross-reference roles (:class:, :func: ...) exist in the docs build, not
    in plain docutils: register look-alikes so they parse."""
    from docutils import nodes
    from docutils.parsers.rst import roles
    for role in ("class", "func", "meth", "mod", "attr", "exc", "data", "obj", "math",
                 "doc", "ref", "term"):
        roles.register_generic_role(role, nodes.literal)


def _problems(text):
    from docutils.utils import Reporter
    _sphinx_roles()
    doc = docutils_core.publish_doctree(
        text, settings_overrides={"report_level": Reporter.WARNING_LEVEL,
                                  "halt_level": Reporter.SEVERE_LEVEL + 1,
                                  "warning_stream": False})
    return [m.astext() for m in doc.findall(lambda n: n.tagname == "system_message")
            if int(m["level"]) >= Reporter.WARNING_LEVEL]


def test_public_docstrings_are_valid_restructuredtext():
    bad = {}
    for where, text in _docstrings():
        if text:
            problems = _problems(text)
            if problems:
                bad[where] = problems[0].splitlines()[0]
    assert not bad, "docstrings the docs site cannot render (quote code in ``...``):\n" + \
        "\n".join(f"  {k}: {v}" for k, v in sorted(bad.items()))
