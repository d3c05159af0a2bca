"""The rule table is fully tested: every differentiable op registered in
``chainrule.ops.OPS`` is named by the ``op=`` field of at least one ``OpCase`` row in
``tests/ops/test_*.py`` (so its value, VJP, JVP and second order are checked against PyTorch
and finite differences), and every row names a registered op (rows of value-only functions
such as argmax, whose output has no gradient, may leave ``op`` out).  Also: the README's op
list is the one generated from the table, and the op modules' docstring examples run."""
import importlib.util
import pathlib

import chainrule
from chainrule.ops import OPS
from chainrule.ops import table

HERE = pathlib.Path(__file__).parent
README = HERE.parent.parent / "README.md"


def _rows_of(module):
    rows = []
    for value in vars(module).values():
        if isinstance(value, (list, tuple)) and value and all(
                hasattr(c, "fn") and hasattr(c, "shapes") and hasattr(c, "op") for c in value):
            rows.extend(value)
    return rows


def _load(path):
    spec = importlib.util.spec_from_file_location(f"_op_rows_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def all_rows():
    """``{module file name: [OpCase, ...]}`` for every op-table test module."""
    out = {}
    for path in sorted(HERE.glob("test_*.py")):
        if path.name == pathlib.Path(__file__).name:
            continue
        rows = _rows_of(_load(path))
        if rows:
            out[path.name] = rows
    return out


ROWS = all_rows()


def _names(case):
    op = case.op
    if op is None:
        return ()
    return (op,) if isinstance(op, str) else tuple(op)


def test_rows_name_registered_ops():
    # a row may leave op= out only when its output has no gradient (argmax: value only)
    bad = [f"{fname}: row {c.name!r} names {n!r}" for fname, rows in ROWS.items()
           for c in rows
           for n in (_names(c) or (() if c.nondiff_output else ("<no op=>",)))
           if n not in OPS]
    assert not bad, ("OpCase rows whose op= is missing or is not a registered op (see "
                     "chainrule.ops.OPS):\n  " + "\n  ".join(bad))


def test_every_differentiable_op_has_a_row():
    covered = {n for rows in ROWS.values() for c in rows for n in _names(c)}
    missing = sorted(name for name, op in OPS.items()
                     if op.vjps is not None and name not in covered)
    assert not missing, (
        f"{len(missing)} differentiable op(s) of the rule table have no OpCase row (add a row "
        f"with op='<name>' to tests/ops/test_<family>.py): {', '.join(missing)}")


def test_row_names_are_unique_per_module():
    for fname, rows in ROWS.items():
        names = [c.name for c in rows]
        dup = sorted({n for n in names if names.count(n) > 1})
        assert not dup, f"{fname}: duplicate OpCase names {dup} (pytest ids must be unique)"


def test_readme_op_list_is_generated_from_the_table():
    text = README.read_text(encoding="utf-8")
    section = table.section_of(text)
    assert section is not None, f"README.md lacks the {table.START} / {table.END} markers"
    assert section == table.render(), (
        "README.md's op list is out of date: run `python -m chainrule.ops.table --write "
        "README.md`")


def test_table_lists_every_op_once_with_its_node_name():
    fams = table.families()
    listed = [op.name for ops in fams.values() for op in ops]
    assert sorted(listed) == sorted(OPS)
    text = table.render()
    assert "| `linalg_det` | `LinalgDetBackward0` | yes | yes |" in text
    assert "| `eq` | - | no gradient | no gradient |" in text
    assert chainrule.ops.OPS["einsum"] in fams["einsum"]


def test_docstring_examples_of_the_op_table_modules():
    import doctest
    from chainrule import linalg
    from chainrule.ops import (decompositions, diagonals, einsum, flip_roll, linalg_norms, pad,
                               scatter, split)
    for mod in (linalg, einsum, diagonals, linalg_norms, decompositions, scatter, split, flip_roll,
                pad, table):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0, f"{mod.__name__}: {res.failed} docstring example(s) fail"
