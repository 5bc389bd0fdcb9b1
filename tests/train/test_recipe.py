"""Recipes: presets, files, overrides, validation, epochs converted to iterations."""

import pytest

from deepres.train import Recipe, load_recipe, parse_overrides, preset_names


def test_presets_exist_and_cifar_paper_is_the_paper():
    assert {"cifar-paper", "imagenet-paper", "quick"} <= set(preset_names())
    r = load_recipe("cifar-paper")
    assert (r.batch_size, r.lr, r.momentum, r.weight_decay) == (128, 0.1, 0.9, 1e-4)
    assert (r.iterations, r.milestones, r.lr_factor) == (64000, [32000, 48000], 0.1)
    assert (r.augment, r.normalize, r.decay_norm_and_bias) == ("cifar", "pixel_mean", True)
    r = load_recipe("imagenet-paper")
    assert (r.batch_size, r.iterations, r.schedule, r.augment) == (
        256,
        600000,
        "plateau",
        "imagenet",
    )


def test_file_with_base_and_overrides(tmp_path):
    path = tmp_path / "resnet56.yaml"
    path.write_text("base: cifar-paper\nmodel: resnet56\nval_size: 5000\n")
    r = load_recipe(str(path))
    assert (r.model, r.val_size, r.iterations) == ("resnet56", 5000, 64000)
    changes = parse_overrides(["lr=0.05", "milestones=[100, 200]", "model_args={shortcut: C}"])
    r = r.replace(**changes)
    assert (r.lr, r.milestones, r.model_args) == (0.05, [100, 200], {"shortcut": "C"})


def test_integer_or_exponent_given_for_float_is_accepted():
    assert Recipe(lr=1).lr == 1.0 and isinstance(Recipe(lr=1).lr, float)
    assert Recipe(**parse_overrides(["weight_decay=1e-4"])).weight_decay == 1e-4


def test_epochs_are_converted_to_iterations():
    r = Recipe(iterations="2ep", milestones=["1ep", 150], eval_every="0.5ep").resolved(391)
    assert (r.iterations, r.milestones, r.eval_every) == (782, [391, 150], 196)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Recipe(lr="fast"), "lr must be float, got 'fast'"),
        (lambda: Recipe(batch_size=0), "batch_size must be at least 1"),
        (lambda: Recipe(batch_size=True), "batch_size must be int"),
        (
            lambda: Recipe(schedule="linear"),
            r"schedule must be one of \('step', 'plateau', 'cosine'",
        ),
        (lambda: Recipe(iterations="10 epochs"), "iterations must be iterations .* or epochs"),
        (lambda: Recipe(schedule="plateau"), "set val_size"),
        (lambda: Recipe(stop_at_val_error=0.1), "stop_at_val_error watches .* set val_size"),
        (lambda: Recipe(val_size=10, stop_at_val_error=10), r"a fraction in \(0, 1\)"),
        (
            lambda: Recipe().replace(learning_rate=0.1),
            "unknown recipe key learning_rate; valid keys: model",
        ),
        (lambda: parse_overrides(["lr"]), "--set takes key=value"),
        (lambda: parse_overrides(["lrr=0.1"]), "unknown recipe key lrr"),
        (lambda: load_recipe("cifar-papr"), "no recipe 'cifar-papr': give a preset"),
    ],
)
def test_bad_recipes_say_what_is_valid(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_unknown_key_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("base: quick\nbatchsize: 64\n")
    with pytest.raises(ValueError, match=f"recipe {path}: unknown recipe key batchsize"):
        load_recipe(str(path))
    path.write_text("base: " + str(path) + "\n")
    with pytest.raises(ValueError, match="names itself as a base"):
        load_recipe(str(path))
    path.write_text("lr: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_recipe(str(path))


def test_unused_fields_are_those_the_schedule_and_average_ignore():
    assert Recipe().unused_fields() == {"plateau_patience", "lr_rise", "ema_every"}
    cosine = Recipe(schedule="cosine", ema_decay=0.999)
    assert cosine.unused_fields() == {"milestones", "lr_factor", "plateau_patience"}
    plateau = Recipe(schedule="plateau", val_size=10)
    assert plateau.unused_fields() == {"milestones", "lr_rise", "ema_every"}
