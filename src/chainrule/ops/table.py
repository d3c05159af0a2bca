"""The op list of the README, generated from the rule table.

``python -m chainrule.ops.table`` prints a Markdown section: every registered op grouped
by family (the ``chainrule.ops`` module that defines it), with PyTorch's ``grad_fn`` node
name and whether the op has VJP and JVP rules.  ``--write README.md`` replaces the part of
the file between ``<!-- ops:start -->`` and ``<!-- ops:end -->`` with it.

>>> from chainrule.ops.table import render
>>> "| `add` | `AddBackward0` | yes | yes |" in render()
True
"""
import importlib
import pkgutil
import sys

from . import _core
import chainrule.ops as pkg

START = "<!-- ops:start -->"
END = "<!-- ops:end -->"


def _ops_in(value, found, depth=0):
    """Ops reachable from a module attribute: the value itself, a container's items, or
    the variables a function closes over (ops made by helpers such as ``_cmp``)."""
    if isinstance(value, _core.Op):
        found.append(value)
    elif depth < 2 and isinstance(value, dict):
        for v in value.values():
            _ops_in(v, found, depth + 1)
    elif depth < 2 and isinstance(value, (list, tuple)):
        for v in value:
            _ops_in(v, found, depth + 1)
    elif depth < 1 and callable(value) and getattr(value, "__closure__", None):
        for cell in value.__closure__:
            try:
                _ops_in(cell.cell_contents, found, depth + 1)
            except ValueError:          # empty cell
                pass


def families():
    """``{family: [op, ...]}`` in rule-table order; a family is the defining module."""
    where = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_") or info.name == "table":
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for name, value in vars(mod).items():
            found = []
            _ops_in(value, found)
            for op in found:
                # an op imported into another module keeps its first (defining) module:
                # prefer the module its rules were written in
                rule_mod = _rule_module(op)
                if rule_mod == info.name or id(op) not in where:
                    where[id(op)] = info.name
    out = {}
    for op in _core.OPS.values():
        fam = where.get(id(op)) or _rule_module(op) or "other"
        out.setdefault(fam, []).append(op)
    return out


def _rule_module(op):
    fns = [op.jvp, op.vjp_all] + (list(op.vjps) if isinstance(op.vjps, tuple) else [])
    for fn in fns + [op.forward]:
        mod = getattr(fn, "__module__", None) or ""
        if mod.startswith("chainrule.ops."):
            return mod.rsplit(".", 1)[1]
    return None


def _yes(flag):
    return "yes" if flag else "no"


def render():
    """The Markdown text that goes between the README markers."""
    fams = families()
    total = sum(len(v) for v in fams.values())
    n_diff = sum(1 for op in _core.OPS.values() if op.vjps is not None)
    lines = [
        "Generated from the rule table by `python -m chainrule.ops.table` (do not edit by hand).",
        f"{total} ops, {n_diff} of them differentiable; each family is the `chainrule.ops` "
        f"module that defines it.",
        "Public functions built from these (for example `outer`, `tile`, `narrow`, `meshgrid`, "
        "`linalg.matrix_norm`) inherit their rules and are not listed separately.",
    ]
    for fam, ops in fams.items():
        lines += ["", f"#### `{fam}` ({len(ops)})", "",
                  "| op | PyTorch node | VJP | JVP |", "|---|---|---|---|"]
        for op in ops:
            diff = op.vjps is not None
            vjp = _yes(diff) if diff else "no gradient"
            jvp = _yes(op.jvp is not None) if diff else "no gradient"
            node = f"`{op.node_cls.__name__}`" if diff else "-"
            lines.append(f"| `{op.name}` | {node} | {vjp} | {jvp} |")
    return "\n".join(lines) + "\n"


def section_of(text):
    """The text between the markers of a README, or None if they are missing."""
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write(path):
    """Replace the marked section of the file at ``path`` with ``render()``."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if section_of(text) is None:
        raise SystemExit(f"{path}: markers {START} ... {END} not found; add them where the "
                         f"op list should go")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + START + "\n" + render() + END + tail)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--write"] and len(argv) == 2:
        write(argv[1])
    elif argv:
        raise SystemExit("usage: python -m chainrule.ops.table [--write README.md]")
    else:
        sys.stdout.write(render())


if __name__ == "__main__":
    main()
