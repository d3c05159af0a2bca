"""``chainrule.utils``: data loading utilities (``chainrule.utils.data``)."""
from . import data  # noqa: F401

__all__ = ["data"]
