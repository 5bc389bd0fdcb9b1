"""The `deepres` command: a thin layer that parses arguments and calls the library."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from types import ModuleType
from typing import Callable

import deepres
from deepres.errors import DeepresError

# Command -> its module. A module is imported only when its command runs (or for help), so
# that `deepres models` does not wait for torch.
COMMANDS = {
    "models": "models_cmd",
    "train": "train_cmd",
    "eval": "eval_cmd",
    "predict": "predict_cmd",
    "embed": "embed_cmd",
    "export": "export_cmd",
    "serve": "serve_cmd",
    "reproduce": "reproduce_cmd",
    "ship": "ship_cmd",
    "runs": "runs_cmd",
}


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
    parser = build_parser(
        first if first in COMMANDS else None, commands=first is not None or "--version" not in argv
    )
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return run_command(args.command, command_module(args.command).run, args)


def run_command(
    name: str, run: Callable[[argparse.Namespace], int | None], args: argparse.Namespace
) -> int:
    """``run(args)``'s exit status, with the errors it raises turned into what a person reads."""
    try:
        return run(args) or 0
    except DeepresError as err:
        # Bad input, explained for the person who gave it: one line, no traceback.
        print(f"deepres {name}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C (while data is scanned or decoded, say): what was written stays whole, as
        # every file is written atomically; a run folder not yet started is removed.
        print(f"deepres {name}: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT, what a shell reports
    except BrokenPipeError:
        # Whoever read our output has stopped (`deepres predict ... | head`): stop quietly, as
        # other command-line tools do, and keep Python from complaining again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for such a pipeline
    except Exception:
        # Anything else is a bug: keep the whole traceback, and say what to do with it.
        traceback.print_exc()
        print(
            f"deepres {name}: this is a bug in deepres, not a problem with your "
            "input; please report it with the traceback above",
            file=sys.stderr,
        )
        return 1
