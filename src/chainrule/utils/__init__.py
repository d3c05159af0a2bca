"""``chainrule.utils``: data loading utilities (``chainrule.utils.data``)."""
from . import data  # noqa: F401
