"""hubconf.py: deepres's networks through torch.hub, offline, from a checkout that is not
pip-installed. (torch.hub.list and help read only GitHub repositories; the test points their
download at the checkout, so that they run exactly as they would on the cloned repository.)"""

import shutil
import subprocess
import sys
from pathlib import Path

import torch

import deepres

REPO = Path(__file__).resolve().parents[1]


def test_hub_load_gives_the_trained_network():
    model = torch.hub.load(str(REPO), "resnet20", weights="cifar10", source="local")
    shipped = deepres.create_model("resnet20", weights="cifar10")
    for key, value in shipped.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    untrained = torch.hub.load(str(REPO), "plain20", source="local", num_classes=5)
    assert untrained.num_classes == 5 and not untrained.residual


def test_hub_list_and_help(monkeypatch):
    monkeypatch.setattr(torch.hub, "_get_cache_or_reload", lambda *args, **kwargs: str(REPO))
    entries = torch.hub.list("owner/deepres")
    assert entries == sorted(deepres.list_models())
    text = torch.hub.help("owner/deepres", "resnet56")
    assert text.startswith("resnet56: CIFAR-10 ResNet") and "'cifar10'" in text


def test_hub_works_from_a_checkout_that_is_not_installed(tmp_path):
    checkout = tmp_path / "deepres"
    shutil.copytree(REPO / "src", checkout / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "hubconf.py", checkout)
    code = (
        "import sys; sys.path[:] = [p for p in sys.path if not p.endswith('src')]; "
        "import torch; "
        f"m = torch.hub.load({str(checkout)!r}, 'resnet20', weights='cifar10', source='local'); "
        "import deepres; print(deepres.__file__, m.num_classes)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(checkout / "src" / "deepres" / "__init__.py"), "10"]
