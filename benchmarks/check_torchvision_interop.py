"""torchvision's ResNets in deepres: same weights, same outputs (needs torchvision).

Builds torchvision's resnet18, resnet50 and resnet152 with random weights (batch-norm
scales, shifts and statistics randomised too, so that every tensor matters), saves each state_dict as torchvision
publishes them (a bare ``torch.save`` file), loads the file with ``deepres.weights.load_model``
(which takes resnet18, resnet50_v1_5 and resnet152_v1_5 from the keys and loads strictly), and
prints the largest absolute difference between the two networks' outputs on the same input.
For contrast, ResNet-50's file also goes into the paper's v1 layout (same keys, stride in the
other convolution), which computes something else. Runs on a GPU when there is one.

    python benchmarks/check_torchvision_interop.py [--device cuda] [--batch 4]

Where torchvision is not installed (it is not a deepres dependency), says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

from deepres.weights import load_model

NETWORKS = ("resnet18", "resnet50", "resnet152")


def randomised(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every batch-norm tensor random too. Scales in [0.5, 1) keep ResNet-152's output moderate
    (with the initial scale of 1 it grows to about 1e10 on a random input)."""
    generator = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=generator) * 0.5 + 0.5
            m.bias.data = torch.randn(n, generator=generator) * 0.1
            m.running_mean = torch.randn(n, generator=generator) * 0.1
            m.running_var = torch.rand(n, generator=generator) + 0.5
    return model.eval()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()
    try:
        import torchvision
    except Exception as err:  # absent, or present but broken (as on CPU-only machines here)
        print(
            f"torchvision is not usable here ({type(err).__name__}: {err}); this check needs "
            "it. Nothing was compared."
        )
        return 0
    torch.backends.cudnn.deterministic = True
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    device = torch.device(args.device)
    print(
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "")
    )
    x = torch.randn(args.batch, 3, 224, 224, generator=torch.Generator().manual_seed(0)).to(device)
    with tempfile.TemporaryDirectory() as folder, torch.no_grad():
        for seed, name in enumerate(NETWORKS):
            torch.manual_seed(seed)
            theirs = randomised(getattr(torchvision.models, name)(weights=None), seed)
            path = Path(folder) / f"{name}-random.pth"
            torch.save(theirs.state_dict(), path)
            ours = load_model(path, device=device)
            expected = theirs.to(device)(x)
            diff = (ours.model(x) - expected).abs().max().item()
            print(
                f"{name:<10} -> deepres {ours.model_name:<15} max |difference| {diff:.3g}"
                f"   (outputs up to {expected.abs().max().item():.3g})"
            )
            if name == "resnet50":
                v1 = load_model(path, model_name="resnet50", device=device).model
                print(
                    f"{'':<10} -> deepres {'resnet50':<15} max |difference| "
                    f"{(v1(x) - expected).abs().max().item():.3g}   (the paper's v1: "
                    "stride in the 1x1, so not torchvision's network)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
