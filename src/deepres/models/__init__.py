"""The networks of "Deep Residual Learning for Image Recognition": pure nn.Modules, no I/O.

    build_network("resnet56")                  # a registered network, freshly initialised
    build_network("resnet34", shortcut="C")    # overrides: num_classes, in_chans, shortcut, ...
    list_models("plain*"), model_info("resnet20")

``deepres.create_model`` builds through ``build_network`` and adds trained weights; the
families themselves (any 6n+2 CIFAR depth) are ``deepres.models.resnet``'s ``cifar_resnet``
and ``imagenet_resnet``, the blocks ``deepres.models.blocks``.

The guide: docs/networks.md.
"""

from .registry import ModelInfo, build_network, list_models, model_info
from .resnet import ResNet

__all__ = ["build_network", "list_models", "model_info", "ModelInfo", "ResNet"]
