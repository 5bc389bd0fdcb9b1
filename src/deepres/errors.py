"""The errors a user causes and can fix: one family, so that the command line can tell them
from bugs.

A ``DeepresError`` names the file or value at fault and says what to do; `deepres` prints it
as one line. Any other exception is a bug in deepres (or below it) and keeps its traceback.
The family derives from ``ValueError``, as deepres's errors did before it existed, so that
code catching ``ValueError`` still catches them. ``show_path`` prints a path in such a message.
Standard library only: every layer uses it.
"""

import os


class DeepresError(ValueError):
    """Bad input that a person has to fix; the message says what to do."""


class UsageError(DeepresError):
    """A command-line option or argument that cannot work as given."""


class RecipeError(DeepresError):
    """A training recipe (preset, YAML file or --set) that is not valid."""


class ModelError(DeepresError):
    """An unknown network, or arguments that its builder does not take."""


class DataError(DeepresError):
    """A data source, split or image that cannot be used."""


class CheckpointError(DeepresError):
    """A checkpoint or weight file that cannot be used."""


class RunDirError(DeepresError):
    """A run directory that cannot be started, resumed or read."""


class ExportError(DeepresError):
    """An export whose result could not be written or does not agree with PyTorch."""


def show_path(path: str | os.PathLike, *, reversible: bool = False) -> str:
    """A path (or a class name) that prints on one line of any terminal: bytes that are not
    UTF-8 appear as \\xNN, newlines, tabs and other unprintable characters as \\n, \\t,
    \\xNN or \\uNNNN. ``reversible``: backslashes are doubled too, so that the exact name
    can be read back (the file list that ``deepres embed`` writes, one name per line).

    File names on Linux are bytes; Python carries undecodable ones as lone surrogates, which
    would raise UnicodeEncodeError at the moment we try to report them.
    """
    text = os.fsdecode(path)
    if text.isprintable() and not (reversible and "\\" in text):
        return text
    return "".join(_escape(c, reversible) for c in text)


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(c: str, reversible: bool) -> str:
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode carries it
        return f"\\x{code - 0xDC00:02x}"
    if c == "\\":
        return "\\\\" if reversible else c
    if c.isprintable():
        return c
    return _NAMED_ESCAPES.get(c) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
