"""The repository's scripts and benchmarks as modules, for the tests that call them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def load_script(relative: str) -> ModuleType:
    """The file at ``relative`` to the repository (e.g. "scripts/embed_report.py"), loaded."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shell_function(relative: str, name: str) -> str:
    """The definition of the bash function ``name`` in the script at ``relative``, to run alone."""
    text = (REPO / relative).read_text()
    start = text.index(f"{name}() {{")
    return text[start : text.index("\n}\n", start) + 3]
