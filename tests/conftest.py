import os
import sys

sys.path.insert(0, os.path.dirname(__file__))   # so tests can import the oplib helpers

# The code under test is this checkout's src/ (pyproject's pythonpath puts it first on
# sys.path); subprocesses the tests start (python -m chainrule, examples) see it too.
_SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_SRC] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _restore_state():
    """Each test starts with grad mode on, float32 default and no open forward levels."""
    import chainrule
    from chainrule._grad_mode import STATE
    yield
    chainrule.set_default_dtype(chainrule.float32)
    chainrule.set_default_device(None)
    STATE.enabled = True
    assert STATE.fw_level == 0, "a test left a forward-AD level open"
