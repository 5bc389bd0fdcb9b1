"""The `deepres` command: a thin layer that parses arguments and calls the library."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType

import deepres

# Command -> its module. A module is imported only when its command runs (or for help), so
# that `deepres models` does not wait for torch.
COMMANDS = {"models": "models_cmd", "train": "train_cmd", "eval": "eval_cmd",
            "predict": "predict_cmd", "embed": "embed_cmd", "export": "export_cmd",
            "serve": "serve_cmd", "reproduce": "reproduce_cmd"}


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{COMMANDS[name]}")


def build_parser(only: str | None = None, commands: bool = True) -> argparse.ArgumentParser:
    """The parser of every command, or of the command ``only``, or (``commands=False``) of
    the options alone, for ``--version``."""
    parser = argparse.ArgumentParser(
        prog="deepres",
        description="The networks and experiments of He et al., 'Deep Residual Learning for "
        "Image Recognition' (2015).",
    )
    parser.add_argument("--version", action="version", version=f"deepres {deepres.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only else COMMANDS if commands else []:
        command_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    first = next((a for a in argv if not a.startswith("-")), None)  # the command, if any
    parser = build_parser(first if first in COMMANDS else None,
                          commands=first is not None or "--version" not in argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return command_module(args.command).run(args) or 0
    except ValueError as err:
        # Library errors are written to be read by a person: print them, not a traceback.
        print(f"deepres {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Whoever read our output has stopped (`deepres predict ... | head`): stop quietly, as
        # other command-line tools do, and keep Python from complaining again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for such a pipeline
