"""``chainrule.backends.cuda``: whether chainrule has a CUDA backend (not yet).

>>> import chainrule as torch
>>> torch.backends.cuda.is_built()
False
"""

__all__ = ["is_built"]


def is_built():
    """False: chainrule has no CUDA backend yet (see ``chainrule.cuda``).

    >>> import chainrule as torch
    >>> torch.backends.cuda.is_built()
    False
    """
    return False
