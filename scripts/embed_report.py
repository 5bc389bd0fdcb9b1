"""Put a `deepres reproduce cifar10` report into docs/results.md (for maintainers; issues 10, 11).

    python scripts/embed_report.py ~/deepres-zoo/reproduce --name cifar10-paper --levels 2

- Replaces the copy of the report in docs/results.md, from its title heading to its end
  marker (an HTML comment, END), with REPORT_DIR/report.md, every heading LEVELS deeper, and
  the marker after it. A copy without the marker (pasted by hand) ends at the next heading no
  deeper than the title, so that the words after a report survive once it has its marker.
- Copies the report's figures and results.json to docs/results/NAME-*, and points the
  report's links at those copies.
- The first copy is pasted by hand where it belongs; after that this script keeps it current.
  The words around it (which command, when) are yours to update.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = Path("docs/results.md")  # in the repository
FILES = Path("docs/results")  # in the repository
HEADING = re.compile(r"(#+) ")
END = "<!-- end of the report {name}: scripts/embed_report.py replaces what lies above -->"
LINK = re.compile(r"\]\(([\w.-]+\.png)\)")  # a figure beside report.md


class Refused(Exception):
    """Nothing was written; the message says why and what to do."""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("report_dir", type=Path, metavar="REPORT_DIR", help="the --out of the report")
    p.add_argument("--name", required=True, help="prefix of the copied files: cifar10-paper")
    p.add_argument("--levels", type=int, required=True, help="how much deeper its headings go")
    p.add_argument("--repo", type=Path, default=REPO, help="the checkout to write into")
    args = p.parse_args(argv)
    try:
        title = embed(args.report_dir, args.name, args.levels, args.repo)
    except Refused as err:
        print(f"embed_report: refused: {err}", file=sys.stderr)
        return 2
    print(f"{args.repo / DOC}: replaced {title!r}; check the words around it")
    return 0


def embed(report_dir: Path, name: str, levels: int, repo: Path) -> str:
    """Check, then copy the files and rewrite the doc; the report's title as embedded."""
    report = report_dir / "report.md"
    if not report.is_file():
        raise Refused(f"{report} does not exist: REPORT_DIR is the --out of the report")
    block = deepened(report.read_text(), levels, name)
    doc = repo / DOC
    text = replaced(doc.read_text(), block, END.format(name=name), doc)
    copies = [(f, repo / FILES / f"{name}-{f.name}") for f in sorted(report_dir.glob("*.png"))]
    if (report_dir / "results.json").is_file():
        copies.append((report_dir / "results.json", repo / FILES / f"{name}-results.json"))
    for source, target in copies:
        shutil.copyfile(source, target)
    doc.write_text(text)
    return block.splitlines()[0]


def deepened(report: str, levels: int, name: str) -> str:
    """The report with its headings ``levels`` deeper and its figures at their copies."""
    lines = report.rstrip("\n").splitlines()
    for i, _ in headings(lines):
        lines[i] = "#" * levels + lines[i]
    folder = FILES.relative_to(DOC.parent).as_posix()  # as the doc links to it
    return LINK.sub(rf"]({folder}/{name}-\1)", "\n".join(lines)) + "\n"


def replaced(doc: str, block: str, end_mark: str, where: Path) -> str:
    """``doc`` with the section titled as ``block`` replaced by it and ``end_mark``."""
    title = block.splitlines()[0]
    lines = doc.splitlines(keepends=True)
    marks = list(headings(lines))
    found = [(i, level) for i, level in marks if lines[i].rstrip("\n") == title]
    if not found:
        raise Refused(f"{where} has no heading {title!r}: paste the report there once by hand")
    start, depth = found[0]
    after = [i + 1 for i, line in enumerate(lines) if i > start and line.rstrip("\n") == end_mark]
    ends = after or [i for i, level in marks if i > start and level <= depth]
    rest = "".join(lines[ends[0] :] if ends else []).lstrip("\n")
    return "".join(lines[:start]) + block + "\n" + end_mark + "\n" + ("\n" + rest if rest else "")


def headings(lines: list[str]):
    """(index, level) of each Markdown heading; lines inside ``` fences are not headings."""
    fenced = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            yield i, len(match[1])


if __name__ == "__main__":
    sys.exit(main())
