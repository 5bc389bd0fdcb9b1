"""The paper's experiments as commands: trainings (``deepres.train``) and their report
(``deepres.experiments.report``), resumable, with every number measured.

The guide: docs/reproducing.md; the measured results in docs/results.md.
"""

from .cifar10 import reproduce_cifar10
from .settings import PAPER_DEPTHS, PARTS, Cifar10Settings

__all__ = ["PAPER_DEPTHS", "PARTS", "Cifar10Settings", "reproduce_cifar10"]
