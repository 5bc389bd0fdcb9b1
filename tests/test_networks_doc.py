"""docs/networks.md shows what `deepres models` prints, as it prints it now: shipping new
weights changes the command's last column, and the page must follow."""

from pathlib import Path

from deepres.cli import main

PAGE = Path(__file__).parents[1] / "docs" / "networks.md"


def _first_code_block(text: str) -> str:
    start = text.index("\n```\n") + len("\n```\n")
    return text[start : text.index("\n```", start)]


def test_the_page_shows_the_commands_output(capsys):
    assert main(["models"]) == 0
    printed = capsys.readouterr().out.rstrip("\n")
    assert _first_code_block(PAGE.read_text()) == printed, (
        "docs/networks.md: put the output of `deepres models` in its first code block"
    )
