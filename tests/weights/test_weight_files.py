"""Weight files: safetensors and PyTorch, torchvision's layout, and clear refusals."""

import os
from pathlib import Path

import pytest
import torch
from layouts import torchvision_layout

from deepres.models import build_network
from deepres.weights import (
    CheckpointError,
    guess_model_name,
    load_model,
    read_weights,
    save_weights,
)
from deepres.weights.fit import load_strictly


def _random_state(model):
    """The model's state_dict with every tensor random (BN statistics and counters too)."""
    generator = torch.Generator().manual_seed(0)
    state = {}
    for k, v in model.state_dict().items():
        if v.is_floating_point():
            state[k] = torch.rand(v.shape, generator=generator) + 0.5
        else:
            state[k] = torch.randint(0, 1000, v.shape, generator=generator, dtype=v.dtype)
    return state


def _torchvision_file(path, depth, num_classes=1000, **save_options):
    """A bare state_dict in torchvision's layout, as its resnet{depth}-*.pth files hold."""
    generator = torch.Generator().manual_seed(depth)
    state = {}
    for key, shape in torchvision_layout(depth, num_classes).items():
        value = torch.randn(shape, generator=generator) if shape else torch.tensor(0)
        if len(shape) >= 2:  # keep activations finite through 50 layers
            value /= torch.tensor(shape[1:]).prod().sqrt()
        state[key] = value.abs() + 0.5 if key.endswith("running_var") else value
    torch.save(state, path, **save_options)
    return state


def test_safetensors_round_trip_is_exact(tmp_path):
    model = build_network("resnet20", num_classes=7)
    state = _random_state(model)
    info = {"model_name": "resnet20", "classes": list("abcdefg"), "model_args": {}}
    save_weights(tmp_path / "w.safetensors", state, info)
    back = read_weights(tmp_path / "w.safetensors")
    assert back.info == info
    assert back.state_dict.keys() == state.keys()
    for k, v in state.items():
        assert back.state_dict[k].dtype == v.dtype and torch.equal(back.state_dict[k], v), k
    trained = load_model(tmp_path / "w.safetensors")
    assert trained.classes == list("abcdefg") and trained.model_name == "resnet20"
    assert all(torch.equal(trained.model.state_dict()[k], v) for k, v in state.items())


def test_pytorch_weights_round_trip_with_their_description(tmp_path):
    state = _random_state(build_network("resnet20", shortcut="B", in_chans=1))
    save_weights(
        tmp_path / "w.pt", state, {"model_name": "resnet20", "model_args": {"shortcut": "B"}}
    )
    trained = load_model(tmp_path / "w.pt")
    assert trained.model.shortcut == "B" and trained.model.in_chans == 1
    assert torch.equal(trained.model.conv1.weight, state["conv1.weight"])
    assert not trained.classes_named and trained.classes == [str(i) for i in range(10)]


@pytest.mark.parametrize("depth, name", [(18, "resnet18"), (50, "resnet50_v1_5")])
def test_torchvision_state_dict_loads_strictly_into_the_matching_network(tmp_path, depth, name):
    path = tmp_path / f"resnet{depth}-0123abcd.pth"
    state = _torchvision_file(path, depth)
    trained = load_model(path)
    assert trained.model_name == name and trained.model.num_classes == 1000
    reference = build_network(name)
    reference.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(trained.model(x), reference.eval()(x))
    # torchvision's ResNet-50 file fits the paper's v1 layout key for key too; asked for, it
    # loads, and it computes something else (the stride sits in another convolution).
    if depth == 50:
        v1 = load_model(path, model_name="resnet50").model
        with torch.no_grad():
            assert not torch.allclose(v1(x), reference(x))


def test_guess_reads_depth_block_and_plainness_from_the_keys():
    assert guess_model_name(build_network("resnet34").state_dict()) == "resnet34"
    assert guess_model_name(build_network("resnet152").state_dict()) == "resnet152_v1_5"
    assert guess_model_name(build_network("plain18").state_dict()) == "plain18"
    assert (
        guess_model_name(build_network("resnet20").state_dict()) is None
    )  # 3x3 stem: plain or not?


def test_legacy_format_and_wrapper_prefixes_load(tmp_path):
    path = tmp_path / "resnet18-5c106cde.pth"
    state = _torchvision_file(path, 18, _use_new_zipfile_serialization=False)
    assert torch.equal(load_model(path).model.fc.weight, state["fc.weight"])
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, tmp_path / "ddp.pth")
    assert torch.equal(load_model(tmp_path / "ddp.pth").model.fc.weight, state["fc.weight"])


def test_another_architecture_names_the_first_mismatching_keys(tmp_path):
    path = tmp_path / "resnet18.pth"
    _torchvision_file(path, 18, num_classes=5)
    with pytest.raises(CheckpointError) as err:
        load_model(path, model_name="resnet34")
    message = str(err.value)
    assert message.startswith(
        f"{path}: its weights do not fit resnet34: missing keys: "
        "layer1.2.conv1.weight, layer1.2.bn1.weight, layer1.2.bn1.bias and"
    )
    torch.save(build_network("resnet32").state_dict(), tmp_path / "r32.pth")
    with pytest.raises(CheckpointError, match="r32.pth: its weights do not fit resnet56: missing"):
        load_model(tmp_path / "r32.pth", model_name="resnet56")
    with pytest.raises(
        CheckpointError,
        match=r"w.pt: its weights do not fit resnet20: other "
        r"shapes: fc.weight \(5x64 in the file, 10x64 in the network\), fc.bias",
    ):
        load_strictly(
            build_network("resnet20"),
            build_network("resnet20", num_classes=5).state_dict(),
            Path("w.pt"),
            "resnet20",
        )


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize(
    "payload",
    [
        lambda state: {**state, "extra": RunsCode()},  # a torchvision-style file with a payload
        lambda state: {"state_dict": state, "trainer": RunsCode()},
    ],
)
def test_code_carrying_weight_files_are_refused(tmp_path, payload):
    path = tmp_path / "evil.pth"
    torch.save(payload(build_network("resnet18").state_dict()), path)
    for read in (read_weights, load_model):
        with pytest.raises(
            CheckpointError,
            match="evil.pth: refused to load: the file holds Python objects that would run code",
        ):
            read(path)


def test_damaged_foreign_and_anonymous_files_are_named(tmp_path):
    good = tmp_path / "good.safetensors"
    save_weights(good, build_network("resnet20").state_dict(), {"model_name": "resnet20"})
    data = good.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.safetensors: damaged or truncated safetensors"):
        load_model(tmp_path / "cut.safetensors")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="list.pt: holds no state_dict of tensors"):
        load_model(tmp_path / "list.pt")
    torch.save(build_network("resnet20").state_dict(), tmp_path / "bare.pt")
    with pytest.raises(CheckpointError, match="bare.pt: the file does not say which network"):
        load_model(tmp_path / "bare.pt")
    assert load_model(tmp_path / "bare.pt", model_name="resnet20").model_name == "resnet20"
    with pytest.raises(ValueError, match="unknown model 'resnet21'"):
        load_model(tmp_path / "bare.pt", model_name="resnet21")
    with pytest.raises(CheckpointError, match="a folder without checkpoints/best.pt"):
        load_model(tmp_path)


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")  # deprecated in recent torch
def test_exported_networks_are_told_apart_from_checkpoints(tmp_path):
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(tmp_path / "net.pt"))
    with pytest.raises(
        CheckpointError,
        match="net.pt: a TorchScript archive, written for other "
        "programs; deepres reads the run directory or checkpoint",
    ):
        load_model(tmp_path / "net.pt")
    (tmp_path / "net.onnx").write_bytes(b"\x08\x07\x12\x07pytorch")
    # An ONNX file runs only with the description `deepres export` writes beside it.
    with pytest.raises(CheckpointError, match="net.onnx: an ONNX model without net.onnx.json"):
        load_model(tmp_path / "net.onnx")
