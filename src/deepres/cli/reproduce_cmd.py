"""`deepres reproduce cifar10`: the paper's CIFAR-10 experiments, trained and reported. Its
options are the fields of ``Cifar10Settings`` (``deepres.experiments.settings``)."""

from __future__ import annotations

import argparse

from deepres.experiments import Cifar10Settings, reproduce_cifar10
from deepres.experiments.settings import Option, options, recorded_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="run the paper's CIFAR-10 experiments and write their report",
        description="Train the networks of the paper's Table 6, Figure 6 and Figure 7 with the "
        "cifar-paper recipe (64k iterations, lr / 10 at 32k and 48k, the 45k/5k split), then "
        "write OUT/report.md, OUT/results.json and the figures as PNG. Run it again to resume: "
        "finished runs are skipped, stopped ones continue from their last checkpoint.",
    )
    p.add_argument("experiment", choices=("cifar10",), help="which of the paper's experiments")
    for name, option in options().items():
        # An option not given is absent from the namespace: the settings' default applies.
        p.add_argument(
            option.flag,
            dest=name,
            default=argparse.SUPPRESS,
            help=option.help.replace("%", "%%"),  # argparse's own escape
            **_how_given(option),
        )


def _how_given(option: Option) -> dict:
    """The option's words in argparse's terms."""
    if option.words == "switch":
        return {"action": "store_true"}
    if option.words == "pairs":
        return {"action": "append", "metavar": option.metavar}
    return {
        "type": option.word,
        "nargs": "+" if option.words == "several" else None,
        "metavar": option.metavar,
        "choices": option.choices,
    }


def run(args: argparse.Namespace) -> int:
    return reproduce_cifar10(settings_from(args))


def settings_from(args: argparse.Namespace) -> Cifar10Settings:
    """The settings that the command line gives; with ``--report-only``, those not given are
    what the experiment in OUT recorded (a report of its runs needs only OUT)."""
    given = {
        name: option.value(getattr(args, name))
        for name, option in options().items()
        if hasattr(args, name)
    }
    settings = Cifar10Settings(**given)
    if settings.report_only:
        settings = Cifar10Settings(**{**recorded_settings(settings.out), **given})
    return settings
