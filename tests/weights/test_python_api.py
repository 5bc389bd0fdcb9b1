"""The Python API as a new user meets it (issue 29, item 9)."""

import pydoc

import pytest
import torch

import deepres
import deepres.models
from deepres.errors import DeepresError, ModelError


def test_create_model_takes_the_name_that_list_weights_prints():
    assert "resnet20-cifar10" in deepres.list_weights()
    by_data = deepres.create_model("resnet20", weights="cifar10")
    by_name = deepres.create_model("resnet20", weights="resnet20-cifar10")
    for key, value in by_data.state_dict().items():
        assert torch.equal(value, by_name.state_dict()[key]), key
    with pytest.raises(
        ModelError, match='create_model\\("resnet20", weights="resnet20-cifar10"\\)'
    ):
        deepres.create_model("resnet56", weights="resnet20-cifar10")


def test_one_builder_users_call_and_the_architecture_alone_under_it():
    torch.manual_seed(0)
    built = deepres.models.build_network("resnet20", num_classes=5)
    torch.manual_seed(0)
    created = deepres.create_model("resnet20", num_classes=5)
    assert created.state_dict().keys() == built.state_dict().keys()
    for key, value in built.state_dict().items():
        assert torch.equal(value, created.state_dict()[key]), key
    assert not hasattr(deepres.models, "create_model")  # one name, one signature


def test_predict_refuses_no_images_and_top_k_below_one_clearly():
    trained = deepres.load_model("resnet20-cifar10")
    with pytest.raises(DeepresError, match="no images given"):
        trained.predict([])
    image = torch.zeros(3, 32, 32, dtype=torch.uint8)
    for top_k in (0, -1):
        with pytest.raises(DeepresError, match="top_k must be a whole number of at least 1"):
            trained.predict(image, top_k=top_k)
    assert len(trained.predict(image, top_k=2)) == 2


def test_top_classes_are_the_most_probable_first_and_at_most_every_class():
    trained = deepres.load_model("resnet20-cifar10")
    probabilities = torch.zeros(2, 10)
    probabilities[0, [1, 2]] = torch.tensor([0.75, 0.25])
    probabilities[1, 9] = 1.0
    top = trained.top_classes(probabilities, 2)
    assert top[0] == [(trained.classes[1], 0.75), (trained.classes[2], 0.25)]
    assert top[1][0] == (trained.classes[9], 1.0)
    assert [len(row) for row in trained.top_classes(probabilities, 20)] == [10, 10]


def test_help_shows_the_main_functions_and_info_stays_short():
    text = pydoc.render_doc(deepres, renderer=pydoc.plaintext)
    functions = text.split("FUNCTIONS", 1)[1]
    for name in ("create_model", "load_model", "list_models", "list_weights"):
        assert f"{name}(" in functions, name
    info = deepres.load_model("resnet20-cifar10").info()
    assert len(repr(info)) < 2000 and "<3x32x32 floats>" in repr(info)
    assert len(info["preprocessing"]["mean_image"]) == 3  # the data itself is whole
