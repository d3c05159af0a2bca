"""``chainrule.backends.mps``: Apple's Metal (MPS) backend, which chainrule does not have.

>>> import chainrule as torch
>>> torch.backends.mps.is_available()
False
"""

__all__ = ["is_available", "is_built"]


def is_available():
    """False: chainrule has no MPS (Apple GPU) backend; its tensors live on the CPU.

    >>> import chainrule as torch
    >>> torch.backends.mps.is_available()
    False
    """
    return False


def is_built():
    """False: chainrule is not built with MPS support.

    >>> import chainrule as torch
    >>> torch.backends.mps.is_built()
    False
    """
    return False
