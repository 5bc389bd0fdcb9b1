"""The public CIFAR ResNets of other projects load into deepres and compute the same function.

Each project's layout is written here as a small reference module from its published
description (not its code): its own key names, its own shortcut. Its randomly initialised
weights, saved as that project saves them, must give the same logits in deepres."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import deepres
from deepres.cli import main
from deepres.weights import CheckpointError, ConvertedLayout, load_model, read_weights


class ReferenceBlock(nn.Module):
    """A CIFAR basic block; ``pad_both_sides``: akamaster's option A, else a 1x1 projection
    where the shape changes (chenyaofo's, torchvision's key names)."""

    def __init__(self, cin, cout, stride, pad_both_sides):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad_both_sides = pad_both_sides
        self.changes = stride != 1 or cin != cout
        if self.changes and not pad_both_sides:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def shortcut(self, x):
        if not self.changes:
            return x
        if self.pad_both_sides:
            side = (self.conv1.out_channels - x.shape[1]) // 2
            return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, side, side))
        return self.downsample(x)

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + self.shortcut(x))


class ReferenceResNet(nn.Module):
    def __init__(self, depth, pad_both_sides, classifier, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for stage, width in enumerate((16, 32, 64), start=1):
            blocks = []
            for i in range(n):
                stride = 2 if stage > 1 and i == 0 else 1
                blocks.append(ReferenceBlock(cin, width, stride, pad_both_sides))
                cin = width
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
        self.classifier = classifier
        setattr(self, classifier, nn.Linear(64, num_classes))

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return getattr(self, self.classifier)(x.mean(dim=(2, 3)))


def _randomised(build):
    """The model ``build()`` makes, its weights drawn from a seeded generator (not from
    whatever the tests run before left in the global one), in eval mode with random BN
    statistics and affine parameters, so that a channel put in the wrong place changes the
    logits."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build()
    generator = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=generator) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=generator) * 0.1)
    return model.eval()


def akamaster_file(path, depth=20):
    """A checkpoint as akamaster's trainer saves it: DataParallel's keys, no BN counters."""
    reference = _randomised(
        lambda: ReferenceResNet(depth, pad_both_sides=True, classifier="linear")
    )
    state = {
        f"module.{k}": v
        for k, v in reference.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }
    torch.save({"best_prec1": 91.7, "state_dict": state}, path)
    return reference


def chenyaofo_file(path, depth=20, num_classes=10):
    """A bare state_dict, as chenyaofo's release files hold."""
    reference = _randomised(lambda: ReferenceResNet(depth, False, "fc", num_classes))
    torch.save(reference.state_dict(), path)
    return reference


@pytest.mark.parametrize("depth", [20, 32])
@pytest.mark.parametrize("make", [akamaster_file, chenyaofo_file])
def test_public_layouts_compute_the_same_logits_in_deepres(tmp_path, make, depth):
    reference = make(tmp_path / "theirs.pt", depth)
    with pytest.warns(ConvertedLayout, match=f"layout: resnet{depth} .shortcut option"):
        trained = load_model(tmp_path / "theirs.pt")
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = reference(x), trained.model(x)
    assert expected.std() > 0.1  # a real function of the input, not a constant
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    assert trained.classes[0] == "airplane" and trained.model_name == f"resnet{depth}"


def test_akamaster_without_reordering_would_differ(tmp_path):
    """The channel order matters: loading the renamed keys as they are gives other logits."""
    reference = akamaster_file(tmp_path / "theirs.th")
    model = deepres.create_model("resnet20")
    renamed = {k.replace("linear", "fc"): v for k, v in reference.state_dict().items()}
    model.load_state_dict(renamed, strict=False)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(model.eval()(x), reference(x), atol=1e-2)


def test_each_layout_carries_its_authors_preprocessing_and_shortcut(tmp_path):
    akamaster_file(tmp_path / "a.th")
    chenyaofo_file(tmp_path / "c.pt", num_classes=100)
    a, c = read_weights(tmp_path / "a.th"), read_weights(tmp_path / "c.pt")
    assert a.info["preprocessing"]["mean"] == [0.485, 0.456, 0.406]
    assert a.info["preprocessing"]["std"] == [0.229, 0.224, 0.225]
    assert c.info["preprocessing"]["mean"] == [0.4914, 0.4822, 0.4465]
    assert c.info["preprocessing"]["std"] == [0.2023, 0.1994, 0.2010]
    assert a.info["model_args"] == {"shortcut": "A"} and c.info["model_args"] == {"shortcut": "B"}
    assert "akamaster/pytorch_resnet_cifar10" in a.note
    assert "chenyaofo/pytorch-cifar-models" in c.note and "option B" in c.note
    assert "classes" not in c.info  # CIFAR-100: shown as indices


def test_commands_say_the_layout_in_one_line(tmp_path, capsys):
    reference = akamaster_file(tmp_path / "resnet20-theirs.th")
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3), np.uint8)
    Image.fromarray(pixels).save(tmp_path / "image.png")
    assert (
        main(
            ["predict", str(tmp_path / "resnet20-theirs.th"), str(tmp_path / "image.png"), "--json"]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert [line for line in err.splitlines() if "akamaster" in line] == [
        line for line in err.splitlines() if "layout" in line
    ]
    assert (
        sum("akamaster/pytorch_resnet_cifar10's layout" in line for line in err.splitlines()) == 1
    )
    # Their normalisation, applied by predict: the probabilities of the reference module.
    x = (torch.from_numpy(pixels).permute(2, 0, 1).float() / 255)[None]
    x = (x - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor(
        [0.229, 0.224, 0.225]
    )[:, None, None]
    with torch.no_grad():
        best = reference(x).softmax(1)[0].max().item()
    shown = json.loads(out.splitlines()[-1])
    assert shown["top"][0]["probability"] == pytest.approx(best, abs=1e-4)


def test_create_model_and_init_from_take_their_file(tmp_path, color_folder, capsys):
    reference = chenyaofo_file(tmp_path / "cifar10_resnet20.pt")
    with pytest.warns(ConvertedLayout):
        model = deepres.create_model("resnet20", weights=tmp_path / "cifar10_resnet20.pt")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), reference(x), rtol=1e-4, atol=1e-4)
    argv = ["train", "--init-from", str(tmp_path / "cifar10_resnet20.pt"), "--data"]
    argv += [str(color_folder), "--iterations", "1", "--out", str(tmp_path / "run"), "--quiet"]
    argv += ["--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "chenyaofo/pytorch-cifar-models's layout: resnet20" in err
    assert "loaded" in err


def test_an_unknown_layout_names_the_keys_that_match_none(tmp_path, capsys):
    state = {"stem.weight": torch.zeros(16, 3, 3, 3), "head.weight": torch.zeros(10, 64)}
    torch.save({"state_dict": state}, tmp_path / "other.pt")
    with pytest.raises(
        CheckpointError, match="other.pt: weights in a layout deepres does not know"
    ):
        load_model(tmp_path / "other.pt")
    assert main(["predict", str(tmp_path / "other.pt"), "x.png"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stem.weight, head.weight" in err
