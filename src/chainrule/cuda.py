"""``chainrule.cuda``: PyTorch's ``torch.cuda`` queries, so device-aware code such as
d2l's ``try_gpu()`` runs unchanged and falls back to the CPU.

chainrule has no GPU backend yet: ``is_available()`` is False and ``device_count()`` is 0
on every machine, even one with CuPy and a GPU, until that backend (built on CuPy) lands.
Functions that need a GPU (``current_device``, ``get_device_name``, ``synchronize``) raise
PyTorch's CPU-build error; seeding and ``empty_cache`` do nothing, as in PyTorch without
a GPU.  Importing this module never imports CuPy.

>>> import chainrule as torch
>>> torch.cuda.is_available(), torch.cuda.device_count()
(False, 0)
"""
import importlib.util

from ._device import cuda_unavailable as _cuda_unavailable

__all__ = ["is_available", "device_count", "current_device", "get_device_name", "synchronize",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "empty_cache",
           "is_initialized"]

# PLACEHOLDER until chainrule's GPU backend lands: chainrule cannot keep tensors on a GPU
# yet, so every query below reports no GPU, even where CuPy and a GPU exist (reporting one
# would send d2l's try_gpu() to a device that then fails).  The backend sets this to True;
# then device_count() reports what CuPy sees (_cupy_device_count).
_BACKEND = False
_COUNT = []             # the cached result of _cupy_device_count


def _cupy_device_count():
    """GPUs that CuPy sees: 0 without CuPy, a CUDA driver or a GPU.  CuPy is found with
    ``find_spec`` (no import) and imported only here, on the first call; any failure of the
    import or the driver query counts as no GPU."""
    if not _COUNT:
        n = 0
        try:
            if importlib.util.find_spec("cupy") is not None:
                import cupy
                n = int(cupy.cuda.runtime.getDeviceCount())
        except Exception:           # a broken install, no driver, no device: no GPU
            n = 0
        _COUNT.append(n)
    return _COUNT[0]


def is_available():
    """True if chainrule can put tensors on a CUDA GPU: always False for now (no GPU
    backend yet, even where CuPy and a GPU exist).

    >>> import chainrule as torch
    >>> torch.cuda.is_available()
    False
    """
    return device_count() > 0


def device_count():
    """The number of CUDA GPUs chainrule can use: 0 until its GPU backend lands.

    >>> import chainrule as torch
    >>> torch.cuda.device_count()
    0
    """
    return _cupy_device_count() if _BACKEND else 0


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


def manual_seed(seed):
    """Seed the current GPU's generator: without a GPU nothing happens (as in PyTorch),
    after checking that ``seed`` is an integer.

    >>> import chainrule as torch
    >>> torch.cuda.manual_seed(0)
    """
    int(seed)


def manual_seed_all(seed):
    """Seed every GPU's generator: without a GPU nothing happens (as in PyTorch).

    >>> import chainrule as torch
    >>> torch.cuda.manual_seed_all(0)
    """
    int(seed)


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
    """Release cached GPU memory: without a GPU there is none, and nothing happens.

    >>> import chainrule as torch
    >>> torch.cuda.empty_cache()
    """


def is_initialized():
    """Whether CUDA has been initialised: never, without a GPU backend.

    >>> import chainrule as torch
    >>> torch.cuda.is_initialized()
    False
    """
    return False
