"""chainrule is a typed package: the stubs describe the runtime objects, typed user
programs pass ``mypy --strict`` (and run), and mypy rejects a program with type errors.
``typed_program.py`` is what a learner writes first; ``typed_layers.py`` covers more of
the typed surface (convolution, recurrent and attention layers, a scheduler, a custom
Function).

The stubs of the dynamic surface (``_tensor.pyi``, ``__init__.pyi``,
``nn/functional.pyi``, ``linalg.pyi``) are written by ``tools/make_stubs.py``;
``autograd/engine.pyi`` is written by hand.  See the README's "Type checking" section.
"""
import ast
import importlib.util
import inspect
import pathlib
import re
import time

import pytest

import chainrule
import chainrule.linalg
import chainrule.nn.functional

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
HERE = pathlib.Path(__file__).resolve().parent


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _stub(rel):
    return ast.parse((SRC / "chainrule" / rel).read_text())


def _defs(body):
    """name -> list of FunctionDef (overloads give several) at one level of a stub."""
    out = {}
    for node in body:
        if isinstance(node, ast.FunctionDef):
            out.setdefault(node.name, []).append(node)
    return out


def _declared(tree):
    """Every name a stub module binds at its top level."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name for a in node.names)
    return names


def _tensor_class(tree):
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")


# --- the stubs describe the runtime ----------------------------------------------------

def test_generated_stubs_are_current():
    make_stubs = _load(ROOT / "tools" / "make_stubs.py", "make_stubs")
    for rel, make in make_stubs.STUBS.items():
        assert (ROOT / rel).read_text() == make(), (
            f"{rel} is out of date: run `python tools/make_stubs.py` and commit the result")


def _public_tensor_names():
    """The runtime Tensor's public surface: its methods, properties and operators
    (``__x__`` names defined by chainrule, not inherited from ``object``)."""
    names = set()
    for name in dir(chainrule.Tensor):
        if name.startswith("_") and not name.startswith("__"):
            continue
        if name.startswith("__"):
            if not any(name in vars(k) for k in chainrule.Tensor.__mro__[:-1]):
                continue
            if name in ("__slots__", "__module__", "__doc__", "__dict__", "__weakref__",
                        "__array_priority__"):
                continue
        names.add(name)
    return names


def test_tensor_stub_has_every_public_method_and_property():
    """A public method or property added to Tensor must be added to the stub."""
    stub = _tensor_class(_stub("_tensor.pyi"))
    in_stub = set(_defs(stub.body))
    missing = sorted(_public_tensor_names() - in_stub)
    assert not missing, (f"chainrule.Tensor has public names that _tensor.pyi lacks: "
                         f"{missing}; run `python tools/make_stubs.py`")
    extra = sorted(in_stub - set(dir(chainrule.Tensor)))
    assert not extra, f"_tensor.pyi declares names the runtime Tensor lacks: {extra}"


def _public_package_names(module):
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    return {n for n in names if not inspect.ismodule(getattr(module, n))}


def test_package_stub_has_every_public_name():
    declared = _declared(_stub("__init__.pyi"))
    # the names loaded on first use (nn, optim, save, load ...) as well as those bound now
    public = _public_package_names(chainrule) | set(chainrule._LAZY)
    missing = sorted(public - declared)
    assert not missing, f"chainrule has public names that __init__.pyi lacks: {missing}"
    assert {"autograd", "func", "linalg", "nn", "optim", "utils"} <= declared


@pytest.mark.parametrize("module, stub", [(chainrule.nn.functional, "nn/functional.pyi"),
                                          (chainrule.linalg, "linalg.pyi")])
def test_namespace_stub_has_every_public_name(module, stub):
    declared = _declared(_stub(stub))
    missing = sorted(_public_package_names(module) - declared)
    assert not missing, f"{module.__name__} has public names that {stub} lacks: {missing}"


def _stub_params(fn_def, method):
    a = fn_def.args
    ps = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    return ps[1:] if method else ps


def _check_params(where, defs, runtime, method):
    """The stub parameters of ``defs`` that the runtime function does not take."""
    bad = []
    for name, overloads in defs.items():
        obj = runtime(name)
        if not callable(obj) or isinstance(obj, type):
            continue
        ps = list(inspect.signature(obj).parameters.values())[1 if method else 0:]
        if any(p.kind is p.VAR_KEYWORD for p in ps):
            continue                                  # takes any keyword
        names = {p.name for p in ps if p.kind is not p.VAR_POSITIONAL}
        for d in overloads:
            unknown = [p for p in _stub_params(d, method) if p not in names]
            if unknown:
                bad.append(f"{where}.{name}: {unknown}")
    return bad


def test_stub_parameters_exist_at_runtime():
    """Every parameter a stub declares is one the runtime function takes (so the
    hand-written overloads and engine.pyi cannot drift from the code)."""
    from chainrule.autograd import engine
    bad = _check_params("Tensor", _defs(_tensor_class(_stub("_tensor.pyi")).body),
                        lambda n: inspect.getattr_static(chainrule.Tensor, n, None), True)
    bad += _check_params("chainrule", _defs(_stub("__init__.pyi").body),
                         lambda n: getattr(chainrule, n, None), False)
    bad += _check_params("nn.functional", _defs(_stub("nn/functional.pyi").body),
                         lambda n: getattr(chainrule.nn.functional, n, None), False)
    bad += _check_params("linalg", _defs(_stub("linalg.pyi").body),
                         lambda n: getattr(chainrule.linalg, n, None), False)
    engine_defs = {k: v for k, v in _defs(_stub("autograd/engine.pyi").body).items()
                   if k != "__getattr__"}
    assert set(engine_defs) == {"backward", "grad"}
    bad += _check_params("autograd.engine", engine_defs, lambda n: getattr(engine, n), False)
    for name, overloads in engine_defs.items():
        runtime = list(inspect.signature(getattr(engine, name)).parameters)
        for d in overloads:
            assert _stub_params(d, False) == runtime, f"engine.pyi {name}() differs from engine"
    assert not bad, "stub parameters the runtime does not take: " + "; ".join(bad)


def test_package_ships_its_types():
    assert (SRC / "chainrule" / "py.typed").exists()
    import tomllib
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = data["tool"]["setuptools"]["package-data"]["chainrule"]
    assert "py.typed" in shipped and any(p.endswith(".pyi") for p in shipped)


# --- a typed program checks, runs, and a wrong one is rejected ---------------------------

def test_typed_program_runs():
    out = _load(HERE / "typed_program.py", "typed_program").main()
    assert out["da"] == 27.0                       # d(a^3)/da at 3
    assert out["dcube"] == 15.0                    # 3 * (1 + 4)
    assert out["hess"] == 18.0                     # trace of diag(6x) at (1, 2)
    assert out["rows"] == 2 and out["max"] == 12.0 and out["argmax"] == 1
    assert out["last_loss"] < out["first_loss"] / 20


def test_typed_layers_program_runs():
    out = _load(HERE / "typed_layers.py", "typed_layers").main()
    assert out["features"] == 2.0                  # 4x4 image, 2x2 average pooling
    assert out["seq"] == 5.0 and out["h"] == 4.0 and out["attended"] == 4.0
    assert abs(out["weights"] - 10.0) < 1e-5       # 2 x 5 rows of attention weights
    assert out["lr"] == 0.5                        # StepLR halved 1.0 once
    assert out["square_grad"] == 6.0               # d(x^2)/dx at 3, from the Function
    assert out["norm"] == 5.0
    assert out["noise"] == 3.0
    assert out["tangent"] == 12.0                  # d(x^3)/dx at 2, by forward mode


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory):
    from mypy import api          # in the test extra: the check must run, not skip
    cache = tmp_path_factory.mktemp("mypy_cache")
    import os
    old = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = str(SRC)            # this checkout's chainrule, not an installed one
    try:
        start = time.perf_counter()
        # errors inside chainrule itself are not reported (--follow-imports=silent), as
        # for any installed package: the check is of what the user program sees
        stdout, stderr, status = api.run(
            ["--strict", "--follow-imports=silent", "--cache-dir", str(cache),
             "--no-error-summary", "--show-error-codes", "--hide-error-context",
             str(HERE / "typed_program.py"), str(HERE / "typed_layers.py"),
             str(HERE / "wrong_program.py")])
        seconds = time.perf_counter() - start
    finally:
        if old is None:
            del os.environ["MYPYPATH"]
        else:
            os.environ["MYPYPATH"] = old
    assert not stderr, stderr
    return stdout, seconds


def _errors(report, filename):
    found = {}
    for line in report.splitlines():
        m = re.match(rf".*{re.escape(filename)}:(\d+): error: .*\[([\w-]+)\]$", line)
        if m:
            found.setdefault(int(m.group(1)), set()).add(m.group(2))
    return found


def test_typed_programs_pass_mypy_strict(mypy_report):
    report, seconds = mypy_report
    assert _errors(report, "typed_program.py") == {}, report
    assert _errors(report, "typed_layers.py") == {}, report
    assert seconds < 60, f"mypy took {seconds:.0f} s"


def test_mypy_rejects_type_errors(mypy_report):
    report, _ = mypy_report
    expected = {}
    for i, line in enumerate((HERE / "wrong_program.py").read_text().splitlines(), 1):
        m = re.search(r"# error: ([\w-]+)", line)
        if m:
            expected[i] = {m.group(1)}
    found = _errors(report, "wrong_program.py")
    assert found == expected, report
