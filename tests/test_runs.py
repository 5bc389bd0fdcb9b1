"""deepres.runs: the run directory and its typed records (keys as written before they were typed)."""

import json

import pytest
import torch

from deepres.errors import RunDirError
from deepres.runs import CheckpointState, RunDir, RunStatus, RunSummary
from deepres.runs.environment import changes_during_run
from deepres.runs.records import Best, Sums, WindowTotals
from deepres.runs.rundir import data_slug

# summary.json as `deepres train` wrote it before the records were typed.
SUMMARY = {
    "status": "stopped by SIGINT",
    "iterations": 2,
    "planned_iterations": 4,
    "model": "resnet20",
    "data": "cifar10",
    "params": 272474,
    "test_error": 0.9,
    "val_error": 0.88,
    "best_val_error": 0.88,
    "best_iteration": 2,
    "train_seconds": 1.5,
    "images_per_s": 85.3,
    "bad_files": 0,
    "run_dir": "out/run",
    "world_size": 1,
    "rank": 0,
}


def test_summary_reads_and_writes_the_same_keys(tmp_path):
    summary = RunSummary.from_dict(SUMMARY)
    assert summary.stopped and not summary.finished and summary.best_iteration == 2
    assert summary.to_dict() == SUMMARY
    run = RunDir(tmp_path)
    assert run.read_summary() is None
    run.write_summary(summary)
    assert json.loads((tmp_path / "summary.json").read_text()) == SUMMARY
    assert run.read_summary() == summary
    assert RunSummary.from_dict({**SUMMARY, "added_later": 1}) == summary  # newer files read
    with pytest.raises(ValueError, match="not a complete RunSummary: no iterations"):
        RunSummary.from_dict({"status": "completed"})


@pytest.mark.parametrize(
    "words, status, reason",
    [
        ("completed", RunStatus.COMPLETED, None),
        ("reached target", RunStatus.REACHED_TARGET, None),
        ("diverged", RunStatus.DIVERGED, None),
        ("stopped by SIGTERM", RunStatus.STOPPED, "SIGTERM"),
        ("stopped by a signal", RunStatus.STOPPED, "a signal"),
        (
            "stopped: cannot write out/run/summary.json",
            RunStatus.FAULT,
            "cannot write out/run/summary.json",
        ),
    ],
)
def test_a_status_is_typed_in_memory_and_the_same_words_on_disk(words, status, reason):
    summary = RunSummary.from_dict({**SUMMARY, "status": words})
    assert (summary.status, summary.reason) == (status, reason)
    assert summary.status_said == words and summary.to_dict() == {**SUMMARY, "status": words}
    assert summary.stopped == words.startswith("stopped")
    assert summary.finished == (words in ("completed", "diverged"))


def test_a_summary_with_an_unknown_status_is_refused_in_one_line(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({**SUMMARY, "status": "paused"}))
    with pytest.raises(RunDirError, match="not a run status: 'paused'"):
        RunDir(tmp_path).read_summary()


def test_checkpoint_state_keeps_the_payload_layout():
    payload = {
        "iteration": 7,
        "model": {"w": torch.ones(2)},
        "model_name": "resnet20",
        "recipe": {"lr": 0.1},
        "classes": ["a", "b"],
        "preprocessing": {"size": 8},
        "optimizer": {"state": {}},
        "schedule": {"lr": 0.1},
        "data": {"epoch": 1},
        "window": {"loss_sum": 3.5, "wrong": 2, "seen": 4, "seconds": 0.5},
        "best": {"val_error": 0.25, "iteration": 5},
        "rng": {"torch": torch.get_rng_state(), "cuda": []},
    }
    state = CheckpointState.from_dict({"format": "deepres-checkpoint-1", **payload})
    assert state.resumable and state.best == Best(0.25, 5)
    assert state.window == WindowTotals(Sums(3.5, 2, 4), 0.5)
    assert state.window.sums.loss == 0.875 and state.window.sums.error == 0.5
    assert state.to_dict().keys() == payload.keys()
    assert state.to_dict()["window"] == payload["window"]
    network = CheckpointState(  # what best.pt holds
        iteration=7, model={}, model_name="resnet20", recipe={}, classes=[], preprocessing={}
    )
    assert not network.resumable
    assert set(network.to_dict()) == {
        "iteration",
        "model",
        "model_name",
        "recipe",
        "classes",
        "preprocessing",
    }


def test_sums_keep_one_order_on_the_device():
    sums = Sums(loss_sum=6.0, wrong=1, seen=3)
    tensor = sums.as_tensor()
    assert tensor.dtype == torch.float64 and tensor.tolist() == [6.0, 1.0, 3.0]
    assert Sums.from_tensor(tensor + tensor) == Sums(12.0, 2, 6)


def test_a_run_directory_is_created_once_and_resumed_only_when_started(tmp_path):
    run = RunDir(tmp_path / "run")
    with pytest.raises(ValueError, match="not a deepres run directory"):
        run.check_resumable()
    run.create()
    run.write_description(
        {"model": "resnet20"}, ["a"], {"device": "cpu"}, [("x.png", "empty file")]
    )
    run.check_resumable()
    assert run.read_recipe() == {"model": "resnet20"} and run.read_meta() == {"device": "cpu"}
    assert (run.path / "bad_files.txt").read_text() == "x.png\tempty file\n"
    with pytest.raises(ValueError, match="already holds files: continue that run with --resume"):
        run.create()


def test_what_a_start_stopped_before_its_recipe_left_is_removed(tmp_path):
    run = RunDir(tmp_path / "run")
    (run.path / "checkpoints").mkdir(parents=True)  # what a start killed early leaves
    (run.path / ".lock").write_text("12345\n")
    run.remove_unstarted(made=False)  # the folder was there before the start: it stays
    assert run.path.is_dir() and not any(run.path.iterdir())
    run.create()
    held = run.lock()  # a process starting in it now
    try:
        run.remove_unstarted()
        assert (run.path / "checkpoints").is_dir() and (run.path / ".lock").exists()
    finally:
        held.release()
    run.remove_unstarted()
    assert not run.path.exists()
    (run.path / "checkpoints").mkdir(parents=True)
    (run.path / "notes.txt").write_text("someone's")
    run.remove_unstarted()
    assert [p.name for p in run.path.iterdir()] == ["notes.txt"]
    run.write_recipe({})  # started: nothing of it goes
    (run.path / "checkpoints").mkdir()
    run.remove_unstarted()
    assert (run.path / "checkpoints").is_dir()


def test_metrics_append_and_forget_what_a_resume_recomputes(tmp_path):
    run = RunDir(tmp_path)
    assert run.read_metrics() == []
    for i in (1, 2, 3):
        run.log_metrics({"iteration": i, "train_error": 0.5})
    run.forget_metrics_after(2)
    assert [r["iteration"] for r in run.read_metrics()] == [1, 2]


def test_checkpoints_belong_to_their_run(tmp_path):
    run = RunDir(tmp_path / "run")
    run.create()
    assert run.trained_checkpoint() is None
    run.last.write_bytes(b"")
    assert run.trained_checkpoint() == run.last
    run.best.write_bytes(b"")
    assert run.trained_checkpoint() == run.best  # chosen on the validation split
    assert RunDir.of_checkpoint(run.best) is None  # no recipe.yaml: not started
    run.write_recipe({})
    assert RunDir.of_checkpoint(run.best).path == run.path
    assert RunDir.of_checkpoint(tmp_path / "loose.pt") is None


@pytest.mark.parametrize(
    "data, slug", [("cifar10", "cifar10"), ("imagenet:/d/in-1k", "in_1k"), ("~/pics/", "pics")]
)
def test_data_slug(data, slug):
    assert data_slug(data) == slug


def test_a_damaged_file_is_one_line_naming_it(tmp_path):
    run = RunDir(tmp_path)
    (tmp_path / "recipe.yaml").write_text("model: [\n")
    (tmp_path / "summary.json").write_text("{")
    for read, name in ((run.read_recipe, "recipe.yaml"), (run.read_summary, "summary.json")):
        with pytest.raises(RunDirError) as err:
            read()
        assert str(err.value).startswith(f"{tmp_path / name}: unreadable (")
        assert "\n" not in str(err.value)


def test_changes_during_run_name_what_each_resume_changed():
    first = {
        "git_commit": "aaa",
        "torch_version": "2.13.0",
        "device": "cpu",
        "device_name": "x86_64",
        "cpu_threads": 1,
        "world_size": 1,
    }
    assert changes_during_run(first) == []
    same = {**first, "iteration": 500}
    more_threads = {**first, "iteration": 45_400, "cpu_threads": 2}
    new_code = {**more_threads, "iteration": 50_000, "git_commit": "bbb", "world_size": 2}
    meta = {**first, "resumes": [same, more_threads, new_code]}
    assert changes_during_run(meta) == [
        "2 CPU threads from iteration 45,400",
        "code bbb, 2 processes from iteration 50,000",
    ]
    assert changes_during_run({**first, "resumes": None}) == []  # as a report's record holds it


def test_record_resume_keeps_the_first_session_and_adds_each_resume(tmp_path):
    run = RunDir(tmp_path)
    run.write_json("meta.json", {"cpu_threads": 1})
    run.record_resume({"iteration": 5, "cpu_threads": 2})
    run.record_resume({"iteration": 9, "cpu_threads": 1})
    assert run.read_meta() == {
        "cpu_threads": 1,
        "resumes": [{"iteration": 5, "cpu_threads": 2}, {"iteration": 9, "cpu_threads": 1}],
    }
