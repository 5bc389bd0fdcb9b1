"""The errors a user causes and can fix: one family, so that the command line can tell them
from bugs.

A ``DeepresError`` names the file or value at fault and says what to do; `deepres` prints it
as one line. Any other exception is a bug in deepres (or below it) and keeps its traceback.
The family derives from ``ValueError``, as deepres's errors did before it existed, so that
code catching ``ValueError`` still catches them. Standard library only: every layer uses it.
"""


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
