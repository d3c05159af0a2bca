"""Every docstring example of chainrule runs and prints exactly what it shows, and every
public function/class has a docstring with an example (the project standard)."""
import copy
import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import chainrule
from chainrule import _creation, _printing, autograd
from chainrule._grad_mode import STATE

# Modules whose examples already run elsewhere (kept there, not run twice):
# tests/nn/test_doctests.py and tests/ops/test_coverage.py.
ELSEWHERE = {"chainrule.nn", "chainrule.nn.module", "chainrule.nn.layers", "chainrule.nn.init",
             "chainrule.nn.loss", "chainrule.nn.parameter", "chainrule.nn._losses",
             "chainrule.optim", "chainrule.optim.sgd", "chainrule.optim.adam",
             "chainrule.optim.optimizer", "chainrule.utils.data", "chainrule.serialization",
             "chainrule.linalg", "chainrule.ops.einsum", "chainrule.ops.diagonals",
             "chainrule.ops.linalg_norms", "chainrule.ops.decompositions", "chainrule.ops.scatter",
             "chainrule.ops.split", "chainrule.ops.flip_roll", "chainrule.ops.pad",
             "chainrule.ops.table"}
SKIP = {"chainrule.__main__"}      # the command-line entry point runs on import


def _module_names():
    names = ["chainrule"]
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        names.append(info.name)
    return sorted(n for n in names if n not in ELSEWHERE and n not in SKIP)


MODULES = _module_names()


def test_modules_left_to_other_doctest_tests_are_run_there():
    """Guard for ELSEWHERE: each module it names really is doctested by one of those files."""
    import pathlib
    here = pathlib.Path(__file__).parent
    nn_text = (here / "nn" / "test_doctests.py").read_text()
    ops_text = (here / "ops" / "test_coverage.py").read_text()
    ops_run = ops_text[ops_text.index("def test_docstring_examples_of_the_op_table_modules"):]
    for name in ELSEWHERE:
        short = name.rsplit(".", 1)[-1]
        assert f'"{name}"' in nn_text or f" {short}" in ops_run, f"{name} is doctested nowhere"


def _needs_dot(test):
    return any("render(" in ex.source or "_repr_svg_" in ex.source or "pipe(" in ex.source
               for ex in test.examples)


@pytest.fixture
def restored_state():
    dtype = chainrule.get_default_dtype()
    opts = {k: getattr(_printing.OPTS, k)
            for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}
    grad = chainrule.is_grad_enabled()
    anomaly = autograd.is_anomaly_enabled()
    check_nan = STATE.check_nan
    rng = np.random.get_state()
    gen = _creation.default_generator
    seed, gen_state = gen._seed, copy.deepcopy(gen._gen)
    yield
    chainrule.set_default_dtype(dtype)
    for k, v in opts.items():
        setattr(_printing.OPTS, k, v)
    chainrule.set_grad_enabled(grad)
    autograd.set_detect_anomaly(anomaly, check_nan=check_nan)
    np.random.set_state(rng)
    gen._seed, gen._gen = seed, gen_state


# classes that show a public module name (Tensor.__module__ == "chainrule", as torch.Tensor)
# but whose methods are defined in, and doctested with, their own module
REHOMED = {"chainrule._tensor": ["Tensor"]}


def test_rehomed_classes_keep_their_method_examples():
    from chainrule import _tensor
    finder = doctest.DocTestFinder()
    found = finder.find(_tensor.Tensor, "Tensor", module=_tensor)
    assert chainrule.Tensor.__module__ == "chainrule"
    assert sum(len(t.examples) for t in found) >= 30


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")      # the anomaly example
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, restored_state):
    mod = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    failures = []
    from chainrule.viz import drawing
    have_dot = drawing.graphviz_executable() is not None     # as the code decides, now
    tests = finder.find(mod, name)
    for cls in REHOMED.get(name, ()):       # their methods' examples live in this module
        tests += finder.find(getattr(mod, cls), f"{name}.{cls}", module=mod)
    for test in tests:
        if not have_dot and _needs_dot(test):
            continue
        runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_tensor_method_examples(restored_state):
    """Methods attached to Tensor from other modules (lambdas, ``_rng_fill`` methods) are not
    found by the module scan above: run their examples here."""
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    failures, seen = [], set()
    for n in sorted(dir(chainrule.Tensor)):
        fn = chainrule.Tensor.__dict__.get(n)
        if not inspect.isfunction(fn) or id(fn) in seen or ">>>" not in (fn.__doc__ or ""):
            continue
        seen.add(id(fn))
        home = importlib.import_module(fn.__module__)
        if getattr(home, fn.__name__, None) is fn or fn.__module__ == "chainrule._tensor":
            continue                        # run by test_docstring_examples
        for test in finder.find(fn, f"Tensor.{n}", module=False, globs={}):
            runner.run(test, out=failures.append)
    assert runner.tries > 20 and runner.failures == 0, "".join(failures)


# --- the standard: public names have a docstring with an example ---------------------------

NAMESPACES = ["chainrule", "chainrule.nn", "chainrule.nn.functional", "chainrule.nn.init",
              "chainrule.linalg", "chainrule.func", "chainrule.autograd",
              "chainrule.autograd.forward_ad", "chainrule.autograd.functional",
              "chainrule.optim", "chainrule.optim.lr_scheduler", "chainrule.utils.data",
              "chainrule.viz", "chainrule.distributions", "chainrule.cuda",
              "chainrule.backends", "chainrule.backends.mps", "chainrule.backends.cuda"]
# where an example makes no sense: exception classes and type objects
NO_EXAMPLE = {"chainrule.linalg.LinAlgError", "chainrule.viz.ExecutableNotFound",
              "chainrule.autograd.GradcheckError", "chainrule.dtype",
              "chainrule.autograd.forward_ad.UnpackedDualTensor"}   # a namedtuple


def _public(mod):
    names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
    for n in names:
        obj = getattr(mod, n)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield n, obj


@pytest.mark.parametrize("name", NAMESPACES)
def test_public_names_have_a_docstring_with_an_example(name):
    mod = importlib.import_module(name)
    missing = [n for n, obj in _public(mod)
               if f"{name}.{n}" not in NO_EXAMPLE and ">>>" not in (obj.__doc__ or "")]
    undocumented = [n for n, obj in _public(mod) if not (obj.__doc__ or "").strip()]
    assert not undocumented, f"{name}: no docstring: {undocumented}"
    assert not missing, f"{name}: docstring without a >>> example: {missing}"


def test_tensor_methods_have_docstrings():
    missing = [n for n in dir(chainrule.Tensor) if not n.startswith("_")
               and callable(getattr(chainrule.Tensor, n))
               and not (getattr(chainrule.Tensor, n).__doc__ or "").strip()]
    assert not missing, f"Tensor methods without a docstring: {missing}"
