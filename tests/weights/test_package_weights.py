"""The trained weights that ship inside the package (src/deepres/weights/shipped): each loads
by name, matches its model card (sha256, size, the finished run it came from, whose records
are in docs/runs/NAME/), and classifies real CIFAR-10 test images of the data set its card
names (the original PNGs or the JPEG copy) about as well as its card says. Each card reads
as a ``ModelCard`` and writes back (NAME.json and NAME.md) byte for byte."""

import json
from pathlib import Path

import pytest

import deepres
from deepres import catalog
from deepres.data import Preprocessing, open_source
from deepres.evaluate import evaluate
from deepres.weights import ModelCard, card_markdown, load_model, read_card
from deepres.weights.zoo import shipped_file

REPO = Path(__file__).resolve().parents[2]
# what the model-zoo runs (issue 10) and the cifar-fast runs (issue 11) have shipped
SHIPPED = [
    "resnet20-cifar10",
    "resnet20-cifar10-fast",
    "plain20-cifar10",
    "resnet32-cifar10",
    "resnet56-cifar10",
    "resnet56-cifar10-fast",
    "plain56-cifar10",
]


@pytest.fixture(autouse=True)
def package_weights(monkeypatch):
    monkeypatch.delenv(catalog.WEIGHTS_DIR_VARIABLE, raising=False)


def test_the_package_ships_the_finished_runs_weights():
    assert set(SHIPPED) <= set(catalog.list_weights())


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_weight_matches_its_card_and_its_run(name):
    card = catalog.model_card(name)
    path = shipped_file(name)
    card.verify(path)
    assert path.stat().st_size == card.bytes
    records = REPO / card.results
    summary = json.loads((records / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["iterations"] == card.iterations
    assert summary["iterations"] == summary["planned_iterations"]
    model = deepres.create_model(card.model, weights=card.weights)
    assert sum(p.numel() for p in model.parameters()) == summary["params"]


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_card_reads_and_writes_back_as_it_is(name):
    json_card = catalog.weights_folder() / f"{name}.json"
    card = ModelCard.read(json_card)
    assert card.to_json() == json_card.read_text()
    assert card_markdown(card) == json_card.with_suffix(".md").read_text()


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_card_opens_with_its_figures_for_model_hubs(name):
    card = catalog.model_card(name)
    matter = read_card(catalog.weights_folder() / f"{name}.md")
    (result,) = matter["model-index"][0]["results"]
    values = {m["name"]: m["value"] for m in result["metrics"]}
    assert values["test error (centre view, %)"] == round(100 * card.test_error, 2)
    assert matter["library_name"] == "deepres" and matter["datasets"] == [card.data.name]


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_weight_classifies_real_test_images_as_its_card_says(name, request):
    # 200 test images (20 a class) of the card's data set: a fixed sample, so the figure is
    # fixed too; 8 points is more than 3 standard deviations of a 200-image sample at the
    # card's error.
    card = catalog.model_card(name)
    slices = {"cifar10-png": "cifar_png_test_200", "cifar10-jpeg": "cifar_jpeg_slice"}
    test_folder = request.getfixturevalue(slices[card.data.set])
    trained = load_model(name)
    prep = Preprocessing.from_record(trained.preprocessing, name, trained.input_size)
    test = open_source(str(test_folder), need_train=False).test
    error = evaluate(trained, prep, test, ["center"])["modes"]["center"]["top1_error"]
    assert error <= card.test_error + 0.08, (error, card.test_error)
