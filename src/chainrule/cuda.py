"""``chainrule.cuda``: PyTorch's ``torch.cuda`` queries, so device-aware code such as
d2l's ``try_gpu()`` runs unchanged: on the GPU where CuPy sees one, on the CPU elsewhere.

``is_available()`` is True when chainrule has a CUDA backend (``_backend.cuda_backend``:
CuPy imports and sees a GPU).  Without one, ``is_available()`` is False, ``device_count()``
is 0, functions that need a GPU (``current_device``, ``get_device_name``, ``synchronize``)
raise PyTorch's CPU-build error, and seeding and ``empty_cache`` do nothing, as in PyTorch
without a GPU.  Importing this module never imports CuPy (the first query does).

>>> import chainrule as torch
>>> torch.cuda.is_available() == (torch.cuda.device_count() > 0)
True
"""
from ._backend import cuda_backend as _backend, seed_device as _seed_device
from ._device import cuda_unavailable as _cuda_unavailable

__all__ = ["is_available", "device_count", "current_device", "get_device_name", "synchronize",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "empty_cache",
           "is_initialized"]


def is_available():
    """True if chainrule can put tensors on a CUDA GPU (CuPy is installed and sees one).

    >>> import chainrule as torch
    >>> torch.cuda.is_available() in (True, False)
    True
    """
    return _backend() is not None


def device_count():
    """The number of CUDA GPUs chainrule can use: 1 where CuPy sees a GPU (chainrule computes
    on the current one, ``cuda:0``, even on a machine with several), 0 without CuPy or a GPU.

    >>> import chainrule as torch
    >>> torch.cuda.device_count() >= 0
    True
    """
    b = _backend()
    return 0 if b is None else b.device_count


def _require_gpu(what):
    if not is_available():
        raise _cuda_unavailable(what)


def current_device():
    """The index of the current CUDA device; without a GPU it raises PyTorch's CPU-build
    error (``AssertionError``).

    >>> import chainrule as torch
    >>> try:
    ...     torch.cuda.current_device()
    ... except AssertionError as e:
    ...     print(str(e).splitlines()[0])
    Torch not compiled with CUDA enabled
    """
    _require_gpu("torch.cuda.current_device()")
    return 0


def get_device_name(device=None):
    """The name of a CUDA device; without a GPU it raises PyTorch's CPU-build error.

    >>> import chainrule as torch
    >>> try:
    ...     torch.cuda.get_device_name(0)
    ... except AssertionError as e:
    ...     print(str(e).splitlines()[0])
    Torch not compiled with CUDA enabled
    """
    _require_gpu("torch.cuda.get_device_name()")
    return _backend().device_name()


def synchronize(device=None):
    """Wait for the GPU's queued work; without a GPU it raises PyTorch's CPU-build error.

    >>> import chainrule as torch
    >>> try:
    ...     torch.cuda.synchronize()
    ... except AssertionError as e:
    ...     print(str(e).splitlines()[0])
    Torch not compiled with CUDA enabled
    """
    _require_gpu("torch.cuda.synchronize()")
    _backend().synchronize()


def manual_seed(seed):
    """Seed the current GPU's generator (CuPy's, which draws ``device='cuda'`` random
    numbers): without a GPU nothing happens (as in PyTorch), after checking that ``seed``
    is an integer.

    >>> import chainrule as torch
    >>> torch.cuda.manual_seed(0)
    """
    _seed_device(int(seed))


def manual_seed_all(seed):
    """Seed every GPU's generator: without a GPU nothing happens (as in PyTorch).

    >>> import chainrule as torch
    >>> torch.cuda.manual_seed_all(0)
    """
    _seed_device(int(seed))


def seed():
    """Seed the current GPU's generator randomly: without a GPU nothing happens.

    >>> import chainrule as torch
    >>> torch.cuda.seed()
    """


def seed_all():
    """Seed every GPU's generator randomly: without a GPU nothing happens.

    >>> import chainrule as torch
    >>> torch.cuda.seed_all()
    """


def empty_cache():
    """Release cached GPU memory (CuPy's memory pool): without a GPU nothing happens.

    >>> import chainrule as torch
    >>> torch.cuda.empty_cache()
    """
    b = _backend()
    if b is not None:
        b.empty_cache()


def is_initialized():
    """Whether CUDA has been initialised: True once chainrule has found a GPU.

    >>> import chainrule as torch
    >>> torch.cuda.is_initialized() == torch.cuda.is_available()
    True
    """
    return _backend() is not None
