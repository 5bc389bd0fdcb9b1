"""Fig. 6 in the paper's three panels: which network's curves land in which panel."""

from deepres.analysis import figures
from deepres.runs.records import RunRecord


def _run(depth: int, residual: bool) -> RunRecord:
    return RunRecord(
        name=f"{'resnet' if residual else 'plain'}{depth}-seed0",
        model=f"{'resnet' if residual else 'plain'}{depth}",
        depth=depth,
        residual=residual,
        seed=0,
        status="completed",
        iterations=2000,
        test_error=0.1,
        best_val_error=None,
        best_iteration=None,
        params=1,
        train_seconds=None,
        images_per_s=None,
        curves={
            "train_error": [[1000, 0.2], [2000, 0.1]],
            "test_error": [[1000, 0.3], [2000, 0.1]],
        },
        response_std=None,
    )


def _panels(runs, monkeypatch, tmp_path) -> dict[str, list[str]]:
    """The legend of each panel of the figure drawn, by the panel's title."""
    drawn = []
    monkeypatch.setattr(figures, "save_png", lambda figure, path: drawn.append(figure))
    figures.plot_training_curves(runs, tmp_path / "figure6.png", "subtitle")
    return {
        ax.get_title(): [text.get_text() for text in ax.get_legend().get_texts()]
        if ax.get_legend()
        else []
        for ax in drawn[0].axes
    }


def test_resnet110_has_the_right_panel_of_its_own_as_well(monkeypatch, tmp_path):
    runs = [_run(20, False), _run(56, False), _run(110, True), _run(20, True), _run(1202, True)]
    assert _panels(runs, monkeypatch, tmp_path) == {
        "plain": ["plain-20", "plain-56"],
        "ResNet": ["ResNet-20", "ResNet-110", "ResNet-1202"],
        "ResNet, 110 layers and more": ["ResNet-110", "ResNet-1202"],
    }


def test_a_panel_without_runs_is_drawn_empty(monkeypatch, tmp_path):
    panels = _panels([_run(20, True)], monkeypatch, tmp_path)
    assert panels == {"plain": [], "ResNet": ["ResNet-20"], "ResNet, 110 layers and more": []}
