"""The experiment runner's view of a run directory: done, to resume, or to start afresh (a
folder left by a start that stopped before its recipe is cleared first)."""

import pytest

from deepres.errors import RunDirError
from deepres.experiments.runner import Job
from deepres.runs import RunDir
from deepres.train import Recipe


def test_a_job_is_done_resumed_or_started_afresh(tmp_path):
    job = Job("resnet20-seed0", Recipe(), tmp_path / "resnet20-seed0")
    assert job.state() == "fresh" and job.how_far() == "not started"
    (job.path / "checkpoints").mkdir(parents=True)  # a start killed before its recipe
    (job.path / ".lock").write_text("12345\n")
    assert job.state() == "fresh" and not job.path.exists()

    run = RunDir(job.path)
    run.create()
    held = run.lock()  # another process is starting in it
    try:
        with pytest.raises(RunDirError, match="is in use: a process is starting a training"):
            job.state()
    finally:
        held.release()
    (job.path / "notes.txt").write_text("someone's")
    with pytest.raises(RunDirError, match="holds files but is not a deepres run directory"):
        job.state()

    run.write_recipe(Recipe().to_dict())
    assert job.state() == "resume"
    # summary.json as a stopped and then a completed run write it
    run.write_json("summary.json", {"status": "stopped by SIGINT", "iterations": 2})
    assert job.state() == "resume"
    run.write_json("summary.json", {"status": "completed", "iterations": 4})
    assert job.state() == "done"
