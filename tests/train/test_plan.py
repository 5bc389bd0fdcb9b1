"""The plan of a run (``deepres.train.plan_run``), called directly: what `deepres train`
decides before it trains, from a request to the recipe, the run folder and the options."""

from pathlib import Path

import pytest
from runs import make_color_folder

import deepres
from deepres.errors import RecipeError, UsageError
from deepres.runs import RunDir
from deepres.train import RunRequest, load_recipe, plan_run
from deepres.weights.checkpoint import save_checkpoint


@pytest.fixture
def started_run(tmp_path):
    """A run directory as a started run leaves it: its resolved recipe.yaml."""
    run = RunDir(tmp_path / "started")
    run.create()
    recipe = load_recipe("quick").replace(data="digits", lr=0.05)
    run.write_recipe(recipe.to_dict())
    return run.path, recipe


def test_a_resumed_run_goes_on_in_its_own_folder_with_its_own_recipe(started_run, tmp_path):
    path, recipe = started_run
    plan = plan_run(RunRequest(resume=path), device="cpu", quiet=True)
    assert plan.recipe == recipe and plan.notes == ()
    options = plan.options
    assert (options.out, options.resume, options.device, options.quiet) == (path, True, "cpu", True)
    assert options.recipe_name is None  # the banner takes it from meta.json
    assert plan_run(RunRequest(resume=path, out=path)).options.out == path
    longer = plan_run(RunRequest(resume=path, iterations=1200))
    assert (longer.recipe.iterations, longer.recipe.lr) == (1200, 0.05) and longer.notes


@pytest.mark.parametrize(
    "changes, said",
    [
        ({"out": Path("elsewhere")}, "goes on in that run's own folder, not in --out elsewhere"),
        ({"overrides": ["lr=0.5"]}, "only --iterations may change"),
        ({"lr": 0.5}, "only --iterations may change"),
        ({"model": "resnet32"}, "only --iterations may change"),
        ({"recipe": "cifar-paper"}, "only --iterations may change"),
    ],
)
def test_a_resumed_run_refuses_any_other_change(started_run, changes, said):
    path, _ = started_run
    with pytest.raises(UsageError, match=said):
        plan_run(RunRequest(resume=path, **changes))


def test_resuming_a_folder_that_is_no_run_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a deepres run directory"):
        plan_run(RunRequest(resume=tmp_path))


def test_default_run_folders_never_collide(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("time.strftime", lambda fmt: "20260101-000000")
    first = plan_run(RunRequest(data="digits")).options.out
    assert first.parent == Path("runs") and first.name.startswith("resnet20-digits-20260101-")
    first.mkdir(parents=True)
    second = plan_run(RunRequest(data="digits")).options.out
    assert second.name == f"{first.name}-2"
    assert not second.exists()  # planning creates nothing


def test_under_torchrun_the_run_folder_must_be_given(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "test")
    with pytest.raises(UsageError, match="under torchrun, give --out"):
        plan_run(RunRequest())
    assert plan_run(RunRequest(out=tmp_path / "run")).options.out == tmp_path / "run"


def test_a_restarted_torchrun_worker_resumes_the_run_its_first_life_started(
    monkeypatch, started_run
):
    path, recipe = started_run
    monkeypatch.setenv("TORCHELASTIC_RESTART_COUNT", "1")
    assert plan_run(RunRequest(out=path)).options.resume
    assert not plan_run(RunRequest(out=path.parent / "new")).options.resume


@pytest.mark.parametrize(
    "asked, chosen",
    [
        (RunRequest(), False),  # the preset's batch: a default, which may shrink to fit
        (RunRequest(recipe="cifar-paper"), False),
        (RunRequest(batch_size=32), True),
        (RunRequest(overrides=["batch_size=32"]), True),
    ],
)
def test_only_a_batch_the_user_chose_is_kept_whatever_the_data(asked, chosen):
    assert plan_run(asked).options.fit_batch is not chosen


def test_a_recipe_files_batch_is_the_users_choice(tmp_path):
    recipe = tmp_path / "mine.yaml"
    recipe.write_text("base: quick\nlr: 0.02\n")
    plan = plan_run(RunRequest(recipe=str(recipe)))
    assert plan.recipe.lr == 0.02 and not plan.options.fit_batch
    assert plan.options.recipe_name == str(recipe)


def test_a_field_given_by_its_flag_and_by_set_is_refused():
    with pytest.raises(UsageError, match="--batch-size and --set batch_size=... both set"):
        plan_run(RunRequest(batch_size=32, overrides=["batch_size=64"]))
    with pytest.raises(UsageError, match="--epochs and --set iterations=... both set"):
        plan_run(RunRequest(epochs=2, overrides=["iterations=10"]))
    with pytest.raises(RecipeError, match="--set takes key=value"):
        plan_run(RunRequest(overrides=["lr"]))


def test_named_fields_and_switches_change_the_recipe():
    plan = plan_run(RunRequest(model="resnet32", data="digits", seed=3, scale_lr=True))
    recipe = plan.recipe
    assert (recipe.model, recipe.data, recipe.seed) == ("resnet32", "digits", 3)
    assert recipe.scale_lr and not recipe.compile
    assert plan.options.recipe_name == "quick"


def test_init_from_fine_tunes_the_weights_network_at_their_image_size(tmp_path):
    weights = tmp_path / "resnet32.pt"
    network = deepres.create_model("resnet32", num_classes=4)
    save_checkpoint(
        {
            "iteration": 1,
            "model": network.state_dict(),
            "model_name": "resnet32",
            "recipe": {},
            "classes": ["a", "b", "c", "d"],
            "preprocessing": {"crop": 24},
        },
        weights,
    )
    folder = make_color_folder(tmp_path / "data", per_class=1, test_per_class=1, size=8)
    plan = plan_run(RunRequest(init_from=str(weights), data=str(folder)))
    recipe, finetune = plan.recipe, load_recipe("finetune")
    assert (recipe.model, recipe.image_size) == ("resnet32", 24)
    assert (recipe.lr, recipe.schedule) == (finetune.lr, finetune.schedule)
    assert plan.options.recipe_name == "finetune"
    chosen = plan_run(RunRequest(init_from=str(weights), data=str(folder), image_size=8))
    assert chosen.recipe.image_size == 8
    built_in = plan_run(RunRequest(init_from=str(weights), data="digits"))
    assert built_in.recipe.image_size is None  # the data set's own size
    other = plan_run(RunRequest(init_from=str(weights), data=str(folder), model="resnet20"))
    assert other.recipe.model == "resnet20"
