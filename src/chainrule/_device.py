"""Devices: ``chainrule.device``, the default device, and the checks that factories,
``Tensor.to`` and ``Module.to`` make on a device argument.

A CPU tensor holds a NumPy array; a tensor on ``"cuda"`` holds the CUDA backend's array
(CuPy's, see ``_backend``).  Without a CUDA backend (no CuPy or no GPU), ``device('cuda')``
objects can still be made (so code such as d2l's ``try_gpu`` runs), but placing a tensor on
a CUDA device raises PyTorch's CPU-build error (``AssertionError: Torch not compiled with
CUDA enabled``) with a line saying what is needed.
"""
import numpy as np

from ._backend import CPU_BACKEND, backend_of, cuda_backend

__all__ = ["device", "set_default_device", "get_default_device"]

# the device types PyTorch's parser knows, in its order (its error message lists them)
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
          "privateuseone")
_DIGITS = frozenset("0123456789")


class device:
    """Where a tensor lives: ``device('cpu')``, ``device('cuda')``, ``device('cuda:0')``,
    ``device('cuda', 0)``.  Equal devices hash equal; ``type`` and ``index`` read back.
    A CUDA device can always be named; tensors can be put on it when CuPy sees a GPU.
    ``with torch.device(...)`` makes it the default device of factories inside the block.

    >>> import chainrule as torch
    >>> torch.device('cpu'), torch.zeros(1).device
    (device(type='cpu'), device(type='cpu'))
    >>> d = torch.device('cuda', 0)
    >>> d, str(d), d.type, d.index, d == torch.device('cuda:0')
    (device(type='cuda', index=0), 'cuda:0', 'cuda', 0, True)
    """
    __slots__ = ("_type", "_index")

    def __new__(cls, type: "str | int | device | None" = None,   # noqa: A002 (PyTorch's name)
                index: int | None = None) -> "device":
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): argument 'type' (position 1) must be str, not "
                                "torch.device")
            return type
        if index is not None:
            if not isinstance(index, int) or isinstance(index, bool):
                raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                                f"{builtins_type(index).__name__}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        if isinstance(type, str):
            name, idx = _parse(type)
            if idx is not None:
                if index is not None:
                    raise RuntimeError(f"type (string) must not include an index because "
                                       f"index was passed explicitly: {type}")
                index = idx
        elif isinstance(type, int) and not isinstance(type, bool):
            # a bare index means "the current accelerator": the CUDA GPU, when there is one
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            if cuda_backend() is None:
                raise RuntimeError("Cannot access accelerator device when none is "
                                   "available.\nNo GPU is available to chainrule (it needs "
                                   "CuPy and a CUDA GPU); pass 'cpu' (or a torch.device) "
                                   "instead of a device index.")
            name, index = "cuda", type
        else:
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({builtins_type(type).__name__}), but expected one of:\n"
                            f" * (torch.device device)\n * (str type, int index = -1)\n"
                            f"Pass a string such as 'cpu' or 'cuda:0', or ('cuda', 0) as two "
                            f"arguments.")
        self = object.__new__(cls)
        object.__setattr__(self, "_type", name)
        object.__setattr__(self, "_index", index)
        return self

    @property
    def type(self) -> str:
        """The device type, ``'cpu'`` or ``'cuda'`` (or another of PyTorch's names)."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device index, or ``None`` when none was given."""
        return self._index

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"attribute {name!r} of 'torch.device' objects is not writable")

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented       # PyTorch: device('cpu') == 'cpu' is False
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))

    def __enter__(self):
        _STACK.append(_DEFAULT[0])
        _DEFAULT[0] = self
        return self

    def __exit__(self, *exc):
        _DEFAULT[0] = _STACK.pop() if _STACK else None
        return False


builtins_type = type
device.__module__ = "chainrule"      # shown as chainrule.device, as torch.device


def _parse(s):
    """``'cuda:1'`` -> ``('cuda', 1)``, with PyTorch's errors for malformed strings."""
    if not s:
        raise RuntimeError("Device string must not be empty")
    name, sep, idx = s.partition(":")
    ok_name = name.isascii() and name.replace("_", "a").isalpha()
    ok_idx = not sep or (idx == "0" or (idx[:1] in _DIGITS and idx[0] != "0"
                                        and set(idx) <= _DIGITS))
    if not (ok_name and ok_idx):
        raise RuntimeError(f"Invalid device string: '{s}'")
    if name not in _TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                           f"device string: {s}\nchainrule's devices are 'cpu' and, with "
                           f"CuPy and a GPU, 'cuda' (e.g. 'cuda:0').")
    return name, (int(idx) if sep else None)


CPU = device("cpu")
_DEFAULT = [None]       # the default device set by set_default_device; None: the CPU
_STACK = []             # defaults saved by ``with torch.device(...)`` blocks


def device_of(array):
    """The device of a tensor's stored array: the CPU for a NumPy array, ``cuda:0`` for
    the CUDA backend's array."""
    if array.__class__ is np.ndarray:
        return CPU
    b = backend_of(array)
    if b is CPU_BACKEND:
        if isinstance(array, np.ndarray):
            return CPU
        raise TypeError(f"chainrule stores tensors as NumPy arrays or the CUDA backend's "
                        f"arrays, not {builtins_type(array).__name__}")
    return _CUDA0


_CUDA0 = device("cuda", 0)


def cuda_unavailable(what="CUDA"):
    """PyTorch's CPU-build error for a CUDA request, plus what chainrule would need."""
    try:
        import importlib.util
        have_cupy = importlib.util.find_spec("cupy") is not None
    except (ImportError, ValueError):
        have_cupy = False
    cupy = ("CuPy is installed, but chainrule's GPU backend found no usable GPU through it "
            "(check `python -c 'import cupy; print(cupy.cuda.runtime.getDeviceCount())'`)"
            if have_cupy else
            "chainrule's GPU backend needs CuPy (e.g. `pip install cupy-cuda13x`, matching "
            "your CUDA version) and a CUDA GPU")
    return AssertionError(f"Torch not compiled with CUDA enabled\n"
                          f"chainrule cannot use {what}: {cupy}. Tensors live on the CPU: use "
                          f"device='cpu' (torch.cuda.is_available() is False, so d2l's "
                          f"try_gpu() already returns it).")


def _unavailable(dev):
    if dev._type == "cuda":
        return cuda_unavailable(f"device '{dev}'")
    return NotImplementedError(f"chainrule has no '{dev._type}' device: tensors live on the "
                               f"CPU (NumPy arrays) or, with CuPy and a GPU, on 'cuda'. Use "
                               f"device='cpu'.")


def _cuda(dev):
    """The CUDA backend for a ``cuda`` / ``cuda:N`` device, or PyTorch's errors."""
    b = cuda_backend()
    if b is None:
        raise _unavailable(dev)
    if dev._index is not None and dev._index >= b.device_count:
        raise RuntimeError(f"CUDA error: invalid device ordinal\nchainrule computes on one "
                           f"GPU, 'cuda:0' (torch.cuda.device_count() is {b.device_count}); "
                           f"'{dev}' names another. Use 'cuda' or 'cuda:0'.")
    return b


def check_factory_device(dev):
    """A factory's ``device=`` argument (``None``: the default device): None for the CPU,
    the CUDA backend for a CUDA device when there is one; a malformed device raises
    RuntimeError, any other device raises (see ``_unavailable``)."""
    if dev is None:
        dev = _DEFAULT[0]
        if dev is None:
            return None
    elif dev.__class__ is str:
        if dev == "cpu":
            return None
        dev = device(dev)
    elif dev.__class__ is not device:
        dev = device(dev)
    if dev._type == "cpu":
        return None
    if dev._type == "cuda":
        return _cuda(dev)
    raise _unavailable(dev)


def check_target(dev):
    """A ``to(device)`` target's backend: the CPU's for ``cpu`` / ``cpu:N``, the CUDA
    backend for a CUDA device when there is one (None for no device); other devices
    raise."""
    if dev is None:
        return None
    if dev.__class__ is str and dev == "cpu":
        return CPU_BACKEND
    if dev.__class__ is not device:
        dev = device(dev)
    if dev._type == "cuda":
        return _cuda(dev)
    if dev._type != "cpu":
        raise _unavailable(dev)
    return CPU_BACKEND


def indexed_cpu(dev):
    """Whether ``dev`` is ``cpu:N``, which PyTorch's ``to`` copies to (not ``self``)."""
    if dev.__class__ is str:
        return dev.startswith("cpu:")
    return dev.__class__ is device and dev._type == "cpu" and dev._index is not None


def set_default_device(device):     # noqa: F811  (PyTorch's argument name)
    """Set the device factories use when no ``device=`` is given (``None`` resets it to the
    CPU).  As in PyTorch, an unavailable device such as ``'cuda'`` is accepted here and
    raises when a tensor is made.

    >>> import chainrule as torch
    >>> torch.set_default_device('cpu'); torch.get_default_device()
    device(type='cpu')
    >>> torch.set_default_device(None)
    """
    _DEFAULT[0] = None if device is None else _device_cls(device)


_device_cls = device


def get_default_device():
    """The device factories use when no ``device=`` is given (the CPU unless
    ``set_default_device`` chose another).

    >>> import chainrule as torch
    >>> torch.get_default_device()
    device(type='cpu')
    """
    dev = _DEFAULT[0]
    if dev is None:
        return CPU
    if dev._type == "cuda":
        _cuda(dev)
        return _CUDA0 if dev._index is None else dev
    return dev
