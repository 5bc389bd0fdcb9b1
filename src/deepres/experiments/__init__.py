"""The paper's experiments as commands: trainings (``deepres.train``) and their report
(``deepres.analysis``), resumable, with every number measured."""

from .cifar10 import PAPER_DEPTHS, PARTS, Cifar10Settings, reproduce_cifar10

__all__ = ["PAPER_DEPTHS", "PARTS", "Cifar10Settings", "reproduce_cifar10"]
