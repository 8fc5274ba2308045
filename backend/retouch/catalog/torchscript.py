"""The weights of a TorchScript archive (IOPaint's `big-lama.pt`), read without running anything from it.

A TorchScript file is a zip: `code/` holds the program, `data.pkl` pickles the module tree (objects of
`__torch__.*` classes whose attributes are sub-modules, parameters and buffers) and `data/N` holds the tensor
bytes. `torch.jit.load` would compile and run the program; `torch.load(weights_only=True)` refuses the
`__torch__` classes. Here a restricted unpickler reads `data.pkl`: a `__torch__.*` class becomes an inert
record of its attributes, tensors are rebuilt from the archive's bytes with torch's own rebuild function, and
any other global (a pickle carrying code) is refused before anything is constructed. The tensors are then
named by their attribute paths, as `state_dict()` names them.
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from retouch.errors import InputError

#: the only callables data.pkl may name: tensors are rebuilt with these, nothing else runs
_REBUILDERS = {("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter")}
_STORAGE_TYPES = {
    "FloatStorage",
    "DoubleStorage",
    "HalfStorage",
    "BFloat16Storage",
    "LongStorage",
    "IntStorage",
    "ShortStorage",
    "CharStorage",
    "ByteStorage",
    "BoolStorage",
}


def is_torchscript(path: Path) -> bool:
    """A zip holding TorchScript code (`code/`, `constants.pkl`) beside its data."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name or name.endswith("constants.pkl") for name in archive.namelist())


class _ScriptModule:
    """An inert stand-in for a `__torch__.*` object: its pickled attributes, and nothing callable."""

    def __init__(self) -> None:
        self.attributes: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        self.attributes = dict(state) if isinstance(state, dict) else {}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: Any, archive: zipfile.ZipFile, prefix: str, where: str) -> None:
        super().__init__(data)
        self.archive = archive
        self.prefix = prefix
        self.where = where

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("__torch__.") or module == "__torch__":
            return _ScriptModule
        if (module, name) in _REBUILDERS:
            import torch._utils

            return getattr(torch._utils, name)
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch" and name in _STORAGE_TYPES:
            import torch

            return getattr(torch, name)
        raise InputError(
            f"{self.where} is a TorchScript archive whose data names {module}.{name}, which is not a tensor; "
            "Retouch does not run code from model files"
        )

    def persistent_load(self, pid: Any) -> Any:
        import torch

        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise InputError(f"{self.where}: unexpected persistent id in a TorchScript archive")
        _, storage_type, key, _location, numel = pid
        dtype = storage_type.dtype
        raw = self.archive.read(f"{self.prefix}data/{key}")
        element = torch.empty((), dtype=dtype).element_size()
        if len(raw) < numel * element:
            raise InputError(f"{self.where}: tensor data {key} is truncated")
        untyped = torch.UntypedStorage.from_buffer(raw, dtype=torch.uint8) if raw else torch.UntypedStorage(0)
        return torch.storage.TypedStorage(wrap_storage=untyped, dtype=dtype, _internal=True)


def read_torchscript_tensors(path: Path) -> dict[str, Any]:
    """Every parameter and buffer of a TorchScript archive, named `a.b.c` as `state_dict()` names them."""
    import torch

    where = repr(str(path))
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
            if not pickles:
                raise InputError(f"{where} is a zip without a TorchScript data.pkl")
            prefix = pickles[0][: -len("data.pkl")]
            with archive.open(pickles[0]) as data, warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # TypedStorage's deprecation notice
                root = _Unpickler(data, archive, prefix, where).load()
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError, KeyError, ValueError, AttributeError) as exc:
        raise InputError(f"{where} cannot be read as a TorchScript archive ({type(exc).__name__}: {exc})") from None
    tensors: dict[str, Any] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, torch.Tensor):
            tensors[path] = node
        elif isinstance(node, _ScriptModule):
            for name, value in node.attributes.items():
                walk(value, f"{path}.{name}" if path else name)

    walk(root, "")
    if not tensors:
        raise InputError(f"{where} is a TorchScript archive without tensors")
    return tensors


def lama_state_dict(tensors: dict[str, Any]) -> dict[str, Any]:
    """Names a LaMa archive's tensors as spandrel's LaMa expects (`model.model.N...`), whatever module held the
    generator when it was saved (IOPaint's wrapper, a bare generator, spandrel's own LaMa)."""
    anchor = "model.1.bn_l.running_mean"
    found = next((k for k in tensors if k == anchor or k.endswith("." + anchor)), None)
    if found is None:
        return tensors
    prefix = found[: -len(anchor)]
    return {
        "model.model." + k[len(prefix) + len("model.") :]: v
        for k, v in tensors.items()
        if k.startswith(prefix + "model.")
    }
