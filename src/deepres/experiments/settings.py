"""The settings of `deepres reproduce cifar10`, each defined once: a field of ``Cifar10Settings``
with its default and its command-line ``Option`` (flag and help). The command's parser is made
from them (``deepres.cli.reproduce_cmd``), and so is the command line that repeats a
reproduction, which its report quotes; ``OUT/experiment.json`` keeps the recorded ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from deepres.errors import RunDirError, UsageError
from deepres.models import list_models
from deepres.train import load_recipe, parse_overrides

PAPER_DEPTHS = (20, 32, 44, 56, 110)  # Table 6 and Fig. 6; 1202 on request
PARTS = ("table6", "figure6", "figure7")
OWN_OPTIONS = ("model", "seed", "data", "val_size", "iterations")  # not for --set

EXPERIMENT = "experiment.json"  # in OUT: the settings that its runs share


@dataclass(frozen=True)
class Option:
    """How a setting is given on the command line."""

    flag: str
    help: str
    # "one" word, "several" (--depths 20 32), "pairs" (--set KEY=VALUE, repeated) or "switch"
    words: str = "one"
    word: Callable[[str], Any] = str  # what one word is read as
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    recorded: bool = False  # kept in OUT/experiment.json, where --report-only finds it
    repeated: bool = True  # part of the command line that repeats the reproduction

    def value(self, parsed: Any) -> Any:
        """The setting's value from what the parser made of its words."""
        if self.words == "several":
            return tuple(parsed)
        if self.words == "pairs":
            return parse_overrides(parsed)
        return parsed

    def spelled(self, value: Any) -> list[str]:
        """The words that give ``value``; none for a value left unset (None) or off."""
        if value is None or value is False:
            return []
        if self.words == "switch":
            return [self.flag]
        if self.words == "several":
            return [self.flag, *map(str, value)]
        if self.words == "pairs":
            return [word for k, v in value.items() for word in (self.flag, f"{k}={v}")]
        return [self.flag, str(value)]


def setting(default: Any, flag: str, help: str, **option: Any) -> Any:
    """A field of the settings, with its default and its option."""
    metadata = {"option": Option(flag, help, **option)}
    if isinstance(default, dict):
        return field(default_factory=dict, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class Cifar10Settings:
    """What to train and report, and how to run it: the options of the command."""

    only: str | None = setting(
        None,
        "--only",
        "table6: the ResNets; figure6: ResNets and plain nets; figure7: both, and their "
        "layer responses (default: all three)",
        choices=PARTS,
        recorded=True,
    )
    depths: tuple[int, ...] = setting(
        PAPER_DEPTHS,
        "--depths",
        f"layers (default: {' '.join(map(str, PAPER_DEPTHS))}; 1202 also exists)",
        words="several",
        word=int,
        metavar="N",
        recorded=True,
    )
    seeds: int = setting(
        1, "--seeds", "runs per network, seeds 0..N-1 (default 1)", word=int, recorded=True
    )
    data: str = setting(
        "cifar10",
        "--data",
        "'cifar10' (the official release, in the cache) or a folder with train/ and test/ "
        "(default: cifar10)",
        recorded=True,
    )
    val_size: int = setting(
        5000,  # the paper's 45k/5k split, on which its schedule was chosen
        "--val-size",
        "training images held out for validation (default 5000, the paper's)",
        word=int,
        recorded=True,
    )
    iterations: int | None = setting(
        None,  # the recipe's own (the paper's 64,000)
        "--iterations",
        "a shortened schedule, for trying things out: the lr falls at 50% and 75% of it, "
        "and the report says so everywhere (default: the recipe's own, 64000 for the paper's)",
        word=int,
        recorded=True,
    )
    recipe: str = setting(
        "cifar-paper",
        "--recipe",
        "cifar-paper (default) or another preset or YAML file, such as cifar-fast; every "
        "heading and figure of the report names a recipe that is not the paper's",
        recorded=True,
    )
    eval_every: int | None = setting(
        None,  # the recipe's 2k of 64k, scaled (Recipe.scaled_to)
        "--eval-every",
        "iterations between val/test evaluations (default: 1/32 of the run)",
        word=int,
        recorded=True,
    )
    overrides: dict = setting(
        {},
        "--set",
        "change a recipe field for every run (listed in the report)",
        words="pairs",
        metavar="KEY=VALUE",
        recorded=True,
    )
    parallel: int = setting(
        1,
        "--parallel",
        "trainings side by side, each in a process of its own (default 1)",
        word=int,
        metavar="K",
    )
    processes: int = setting(
        1,
        "--processes-per-run",
        "torchrun processes per training, sharing its batch, each batch norm over its own "
        "share: 2 is the paper's arrangement (two GPUs of 64 images; default 1)",
        word=int,
        metavar="N",
    )
    out: Path = setting(
        Path("runs/reproduce-cifar10"),
        "--out",
        "where the runs and the report go (default runs/reproduce-cifar10)",
        word=Path,
    )
    device: str = setting("auto", "--device", "cpu, cuda, cuda:1, ... (default: auto)")
    cache_dir: Path | None = setting(
        None, "--cache-dir", "where decoded data sets are cached", word=Path, repeated=False
    )
    download: bool = setting(
        False,
        "--download",
        "download CIFAR-10 if not cached",
        words="switch",
        repeated=False,
    )
    quiet: bool = setting(
        False,
        "--quiet",
        "the trainings' output in their logs (OUT/jobs/NAME.log) only; by default it is "
        "shown here too when they run one at a time",
        words="switch",
        repeated=False,
    )
    report_only: bool = setting(
        False,
        "--report-only",
        "train nothing: write the report of the runs in OUT as they stand (finished runs in "
        "the table and figures, the others listed with their iteration), e.g. while a long "
        "queue goes on in another process; the settings not given are OUT's own "
        "(OUT/experiment.json)",
        words="switch",
        repeated=False,
    )

    def models(self) -> list[str]:
        """ResNets for every part; plain nets for the figures (the paper has no plain-1202).
        Depth by depth in the order given, each ResNet before its plain net, so that a long
        queue finishes whole comparisons first."""
        plain = self.only != "table6"
        return [
            name
            for d in self.depths
            for name in (f"resnet{d}", f"plain{d}")
            if name.startswith("resnet") or (plain and name in list_models())
        ]

    def recorded(self) -> dict:
        """What ``OUT/experiment.json`` keeps of these settings (``recorded_settings``)."""
        return {name: getattr(self, name) for name, o in options().items() if o.recorded}

    def command_line(self) -> list[str]:
        """The command that repeats these settings, every one spelled out."""
        words = ["deepres", "reproduce", "cifar10"]
        for name, option in options().items():
            if option.repeated:
                words += option.spelled(getattr(self, name))
        return words


def options() -> dict[str, Option]:
    """Each setting's option by its field name, in the order of the command's help."""
    return {f.name: f.metadata["option"] for f in fields(Cifar10Settings)}


def check_settings(s: Cifar10Settings) -> None:
    if s.only is not None and s.only not in PARTS:
        raise UsageError(f"--only takes one of {', '.join(PARTS)}, not {s.only!r}")
    unknown = [d for d in s.depths if f"resnet{d}" not in list_models()]
    if unknown or not s.depths:
        raise UsageError(
            f"--depths: the paper's CIFAR-10 nets have 20, 32, 44, 56, 110 or 1202 "
            f"layers, not {', '.join(map(str, unknown)) or 'none'}"
        )
    for name in ("seeds", "parallel", "processes", "iterations"):
        if getattr(s, name) is not None and getattr(s, name) < 1:
            flag = options()[name].flag
            raise UsageError(f"{flag} must be at least 1, got {getattr(s, name)}")
    taken = sorted(set(s.overrides) & set(OWN_OPTIONS))
    if taken:
        raise UsageError(f"--set {', '.join(taken)}: use the command's own options instead")


def recorded_settings(out: Path) -> dict:
    """The settings that ``OUT/experiment.json`` records, as ``Cifar10Settings`` fields, so
    that ``--report-only --out OUT`` needs nothing else ({} without one). A file written
    before the settings were recorded gives what its recipe says (its --eval-every and --set
    changes too), and the depths of the runs in OUT."""
    path = out / EXPERIMENT
    if not path.exists():
        return {}
    try:
        written = json.loads(path.read_text())
        if "settings" in written:
            settings = dict(written["settings"])
            settings["depths"] = tuple(settings["depths"])
            return settings
        recipe = written["recipe"]
        depths = {
            int(re.sub(r"\D", "", p.name.split("-")[0])) for p in (out / "runs").glob("*-seed*")
        }
        settings = {k: recipe[k] for k in ("data", "val_size", "eval_every")}
        paper = load_recipe("cifar-paper")
        if recipe["iterations"] != paper.iterations:
            settings["iterations"] = recipe["iterations"]
        # What --set changed: the fields that differ from the paper's recipe as these settings
        # make it (on these data, scaled to this length).
        made = paper.replace(data=recipe["data"], val_size=recipe["val_size"])
        made = made.scaled_to(recipe["iterations"], eval_every=recipe["eval_every"]).to_dict()
        changed = {k: v for k, v in recipe.items() if made.get(k, v) != v}
        settings.update({"overrides": changed} if changed else {})
        return {**settings, **({"depths": tuple(sorted(depths))} if depths else {})}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise RunDirError(
            f"{path}: unreadable ({err}); give the settings on the command line"
        ) from None
