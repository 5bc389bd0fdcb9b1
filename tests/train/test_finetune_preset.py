"""`train --init-from` without --recipe fine-tunes: lr 0.01 on a cosine, at the weights' own
image size; a start-up note whenever the run's size differs from theirs (issue 29, item 5)."""

import pytest
import yaml
from runs import make_color_folder, train_run


@pytest.fixture(scope="module")
def larger_photos(tmp_path_factory):
    """24x24 images of three colours: not the 16 pixels that color_run was trained at."""
    return make_color_folder(
        tmp_path_factory.mktemp("larger") / "data",
        classes=("cyan", "pink", "red"),
        per_class=8,
        test_per_class=2,
        size=24,
    )


def _tune(tmp_path, color_run, folder, *args):
    out = train_run(
        tmp_path / f"tuned{len(list(tmp_path.iterdir()))}",
        "--init-from",
        str(color_run),
        "--data",
        str(folder),
        "--iterations",
        "4",
        "--cache-dir",
        str(tmp_path / "cache"),
        *args,
    )
    return yaml.safe_load((out / "recipe.yaml").read_text())


def test_init_from_fine_tunes_at_the_weights_size_by_default(
    color_run, larger_photos, tmp_path, capsys
):
    recipe = _tune(tmp_path, color_run, larger_photos)
    err = capsys.readouterr().err
    assert (recipe["lr"], recipe["schedule"], recipe["image_size"]) == (0.01, "cosine", 16)
    assert "recipe finetune:" in err and "trained on 16x16 images" not in err


def test_another_size_or_recipe_is_noted_at_start(color_run, larger_photos, tmp_path, capsys):
    recipe = _tune(tmp_path, color_run, larger_photos, "--image-size", "24")
    err = capsys.readouterr().err
    assert (recipe["lr"], recipe["image_size"]) == (0.01, 24)
    assert "its network was trained on 16x16 images, and this run trains it on 24x24 images" in err
    recipe = _tune(tmp_path, color_run, larger_photos, "--recipe", "quick")
    err = capsys.readouterr().err
    assert (recipe["lr"], recipe["image_size"]) == (0.1, 24)  # the user's choice, as given
    assert "trained on 16x16 images, and this run trains it on 24x24" in err
