"""The package's import layers (docs/DEVELOPING.md, "Layers").

Every import of a chainrule module -- at the top of a file or inside a function -- must go
to the same layer or a lower one.  The few imports that still run upward are listed in
``KNOWN_UPWARD`` with the reason, the import cycles that remain in ``KNOWN_CYCLES``, and
``FUNCTION_LEVEL_IMPORTS`` counts the imports still made inside functions.  All three may
only shrink: a new upward import, a new (or larger) cycle or a new import inside a function
fails, and so does an entry that no longer holds (delete it, lower the count)."""
import ast
import os
import re

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

# lowest first; a module belongs to the first layer with a matching pattern
LAYERS = [
    ("base", [r"_dtypes", r"_backend", r"_device", r"_specialise", r"_rules", r"_grad_mode",
              r"cuda", r"backends(\..*)?"]),
    ("tensor", [r"_graph", r"_tensor", r"_creation"]),
    ("engine", [r"autograd\.(engine|anomaly)"]),
    ("recording", [r"ops\._core"]),
    ("ops", [r"ops(\..*)?"]),
    ("methods", [r"_(printing|methods|inplace|numpy_api|legacy)", r"autograd\.forward_ad"]),
    ("libraries", [r"autograd\.(function|functional|gradcheck)",
                   r"(func|linalg|return_types|serialization|_compile)",
                   r"(nn|optim|utils|distributions)(\..*)?", r"viz(\.(?!formula$).*)?"]),
    # (viz.formula: the command line's formula language, read in the package's namespace)
    ("face", [r"", r"autograd(\.(grad_mode|graph))?", r"(demo|__main__)", r"viz\.formula"]),
]

# (importer, imported): why it still runs upward
KNOWN_UPWARD = {}

# chainrule imports made inside functions, counted per imported name: none (only other
# packages, such as optional dependencies, may be imported inside functions)
FUNCTION_LEVEL_IMPORTS = 0

# the strongly connected components of the import graph (top-level and function-level
# imports) that remain
KNOWN_CYCLES = []


def _modules():
    """``{name relative to chainrule ("" for the package): path}``."""
    root = os.path.join(SRC, "chainrule")
    out = {}
    for folder, _, files in os.walk(root):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                rel = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
                rel = "" if rel == "__init__" else re.sub(r"\.?__init__$", "", rel)
                out[rel] = path
    return out


def _imports(mods, inside_functions=None):
    """``(importer, imported, line)`` for every import of a chainrule module (only those
    inside functions, or only those outside, when ``inside_functions`` says so)."""
    out = []
    for mod, path in mods.items():
        is_pkg = path.endswith("__init__.py")
        here = mod.split(".") if mod else []
        if not is_pkg:
            here = here[:-1]
        tree = ast.parse(open(path, encoding="utf-8").read())
        in_fn = {id(n) for f in ast.walk(tree)
                 if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for n in ast.walk(f)}
        for node in ast.walk(tree):
            if inside_functions is not None and (id(node) in in_fn) != inside_functions:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[:len(here) - (node.level - 1)] if node.level > 1 else here
                    target = ".".join(base + ([node.module] if node.module else []))
                elif node.module == "chainrule" or (node.module or "").startswith("chainrule."):
                    target = node.module[len("chainrule."):] if "." in node.module else ""
                else:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}" if target else alias.name
                    out.append((mod, sub if sub in mods else target, node.lineno))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "chainrule" or alias.name.startswith("chainrule."):
                        name = alias.name[len("chainrule."):] if "." in alias.name else ""
                        out.append((mod, name, node.lineno))
    return out


def _layer(mod):
    for i, (_, patterns) in enumerate(LAYERS):
        if any(re.fullmatch(p, mod) for p in patterns):
            return i
    raise AssertionError(f"module chainrule.{mod} is in no layer: add it to LAYERS in "
                         f"tests/test_layers.py and to docs/DEVELOPING.md")


def _cycles(edges, mods):
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    nxt = {m: sorted({b for a, b in edges if a == m and b != m}) for m in mods}
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
    for start in sorted(mods):
        if start in index:
            continue
        work = [(start, iter(nxt[start]))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(nxt[w])))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(comp)
    return comps


def test_every_module_has_a_layer():
    for mod in _modules():
        _layer(mod)


def test_imports_run_down_the_layers():
    mods = _modules()
    found = set()
    bad = []
    for a, b, line in _imports(mods):
        if _layer(b) > _layer(a):
            found.add((a, b))
            if (a, b) not in KNOWN_UPWARD:
                bad.append(f"chainrule.{a} (line {line}) imports chainrule.{b}: "
                           f"{LAYERS[_layer(a)][0]} -> {LAYERS[_layer(b)][0]}")
    assert not bad, "imports against the layer order (docs/DEVELOPING.md):\n" + \
        "\n".join(bad)
    stale = set(KNOWN_UPWARD) - found
    assert not stale, f"fixed, so delete from KNOWN_UPWARD: {sorted(stale)}"


def test_no_new_import_cycles():
    mods = _modules()
    edges = {(a, b) for a, b, _ in _imports(mods)}
    cycles = _cycles(edges, mods)
    new = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert not new, f"new or changed import cycles: {new}"
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in cycles]
    assert not gone, f"cycles that no longer exist (update KNOWN_CYCLES): {gone}"


def test_function_level_imports_only_go_away():
    n = len(_imports(_modules(), inside_functions=True))
    assert n <= FUNCTION_LEVEL_IMPORTS, \
        f"{n} chainrule imports inside functions (was {FUNCTION_LEVEL_IMPORTS}): import at " \
        f"the top of the module instead"
    assert n == FUNCTION_LEVEL_IMPORTS, \
        f"only {n} chainrule imports inside functions now: lower FUNCTION_LEVEL_IMPORTS"


def test_the_checker_sees_function_level_imports(tmp_path):
    # (so the tests above cannot pass by missing imports inside functions)
    src = tmp_path / "probe.py"
    src.write_text("from ._tensor import Tensor\n\n\n"
                   "def f():\n    from .autograd import engine\n    import chainrule.nn\n")
    empty = tmp_path / "empty.py"
    empty.write_text("")
    mods = {"probe": str(src), "_tensor": str(empty), "autograd.engine": str(empty),
            "nn": str(empty)}
    assert {(a, b) for a, b, _ in _imports(mods)} == \
        {("probe", "_tensor"), ("probe", "autograd.engine"), ("probe", "nn")}
    assert {(a, b) for a, b, _ in _imports(mods, inside_functions=True)} == \
        {("probe", "autograd.engine"), ("probe", "nn")}
    assert ("_printing", "autograd.forward_ad") in {(a, b) for a, b, _ in _imports(_modules())}
