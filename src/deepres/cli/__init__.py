"""The `deepres` command: a thin layer that parses arguments and calls the library."""

from __future__ import annotations

import argparse
import os
import sys

from . import (embed_cmd, eval_cmd, export_cmd, models_cmd, predict_cmd, reproduce_cmd,
               serve_cmd, train_cmd)

COMMANDS = {"models": models_cmd, "train": train_cmd, "eval": eval_cmd,
            "predict": predict_cmd, "embed": embed_cmd, "export": export_cmd,
            "serve": serve_cmd, "reproduce": reproduce_cmd}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepres",
        description="The networks and experiments of He et al., 'Deep Residual Learning for "
        "Image Recognition' (2015).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command].run(args) or 0
    except ValueError as err:
        # Library errors are written to be read by a person: print them, not a traceback.
        print(f"deepres {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Whoever read our output has stopped (`deepres predict ... | head`): stop quietly, as
        # other command-line tools do, and keep Python from complaining again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for such a pipeline
