"""Reading and writing what training produces: checkpoints (and weight files).

Sits below train, evaluate and export, which all read checkpoints, and above models and data.
"""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint

__all__ = ["CheckpointError", "load_checkpoint", "save_checkpoint"]
