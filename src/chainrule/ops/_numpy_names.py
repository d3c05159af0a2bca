"""NumPy's argument names that PyTorch also accepts: ``axis=`` for ``dim=`` and
``keepdims=`` for ``keepdim=`` (``x.cumsum(axis=0)``, ``torch.amax(x, axis=1, keepdims=True)``).

PyTorch's argument parser takes them for every function and method with a ``dim`` /
``keepdim`` parameter written in C++ (not for ``norm``, ``split``, ``flip``'s ``dims`` or
``transpose``'s ``dim0``); ``numpy_names`` gives a chainrule function the same aliases.
"""
import functools


def _rename(name, kwargs):
    kwargs = dict(kwargs)
    for alias, real in (("axis", "dim"), ("keepdims", "keepdim")):
        if alias in kwargs:
            if real in kwargs:
                raise TypeError(f"{name}() got both {real}= and {alias}= (an alias of {real}); "
                                f"pass only one of them")
            kwargs[real] = kwargs.pop(alias)
    return kwargs


def numpy_names(fn):
    """Let ``fn`` (with ``dim``/``keepdim`` parameters) also take ``axis=``/``keepdims=``.

    >>> import chainrule as torch
    >>> torch.cumsum(torch.tensor([[1., 2.], [3., 4.]]), axis=0)
    tensor([[1., 2.],
            [4., 6.]])
    """
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            kwargs = _rename(fn.__name__, kwargs)
        return fn(*args, **kwargs)
    return call
