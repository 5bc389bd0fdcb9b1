"""The networks of "Deep Residual Learning for Image Recognition": pure nn.Modules, no I/O."""

from .blocks import SHORTCUT_OPTIONS, BasicBlock, Bottleneck, PadShortcut, ResidualBlock
from .registry import ModelInfo, create_model, list_models, model_info, register
from .resnet import ResNet, cifar_resnet, imagenet_resnet

__all__ = [
    "SHORTCUT_OPTIONS",
    "BasicBlock",
    "Bottleneck",
    "PadShortcut",
    "ResidualBlock",
    "ModelInfo",
    "create_model",
    "list_models",
    "model_info",
    "register",
    "ResNet",
    "cifar_resnet",
    "imagenet_resnet",
]
