"""The optional parts of deepres: each needs packages that ``pip install deepres`` leaves out,
installed with its extra (``pip install 'deepres[export]'``, or ``[all]``).

The core (networks, training, eval, predict, embed, the built-in digits, weight files) needs
torch, numpy, pillow, pyyaml, safetensors and tqdm alone. Optional packages are imported only
where they are used; ``require`` turns their absence into one line that says what to install.
Standard library only: every layer uses it.
"""

from __future__ import annotations

import importlib.util

from deepres.errors import DeepresError

# extra -> the modules it provides (as imported, not as named on PyPI)
EXTRAS = {
    "export": ("onnx", "onnxruntime", "onnxscript"),
    "serve": ("starlette", "uvicorn", "python_multipart"),
    "plots": ("matplotlib",),
    "tensorboard": ("tensorboard",),
    "jpeg": ("simplejpeg",),
}


class MissingExtra(DeepresError):
    """An optional part of deepres whose packages are not installed."""


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]


def available(extra: str) -> bool:
    return not missing(extra)


def require(extra: str, what: str) -> None:
    """Raise ``MissingExtra`` naming what to install when ``what`` (e.g. "ONNX export")
    cannot work here."""
    absent = missing(extra)
    if absent:
        raise MissingExtra(
            f"{what} needs {', '.join(absent)}, which {'is' if len(absent) == 1 else 'are'} "
            f"not installed: pip install 'deepres[{extra}]'"
        )
