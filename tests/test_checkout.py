"""The suite tests the code in this checkout, not an installed copy."""
import os
import subprocess
import sys

import chainrule

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def test_chainrule_is_imported_from_this_checkout():
    assert os.path.dirname(os.path.abspath(chainrule.__file__)) == os.path.join(SRC, "chainrule")


def test_subprocesses_import_this_checkout(tmp_path):
    out = subprocess.run([sys.executable, "-c", "import chainrule; print(chainrule.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert os.path.abspath(out.stdout.strip()) == os.path.join(SRC, "chainrule", "__init__.py")
