"""The docstring examples of nn, optim, utils.data and save/load run and print what they
show."""
import doctest
import importlib

import pytest

MODULES = ["chainrule.nn", "chainrule.nn.module", "chainrule.nn.layers", "chainrule.nn.init",
           "chainrule.nn.loss", "chainrule.nn.parameter", "chainrule.nn._losses",
           "chainrule.optim", "chainrule.optim.sgd", "chainrule.optim.adam",
           "chainrule.optim.optimizer", "chainrule.utils.data", "chainrule.serialization"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
