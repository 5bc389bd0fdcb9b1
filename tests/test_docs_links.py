"""Every relative link of README.md and docs/*.md leads somewhere: to a file or folder of the
repository, and through an anchor (`page.md#heading`) to a heading of that page, spelt as
GitHub spells it. Links to other sites are not followed (the tests run offline); links inside
code are not links."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCED = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+).+?\1", re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.M)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, ...


def without_code(text: str) -> str:
    """The text with fenced code blocks and code spans taken out."""
    return CODE_SPAN.sub("", FENCED.sub("", text))


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: the words as shown, in lower case, punctuation dropped,
    spaces as hyphens."""
    shown = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    shown = re.sub(r"[`*]", "", shown)
    return re.sub(r"[^\w\- ]", "", shown.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings; a repeated heading gets -1, -2, ... as on GitHub."""
    found: set[str] = set()
    for heading in HEADING.findall(FENCED.sub("", page.read_text())):
        base = anchor(heading)
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def links(page: Path) -> list[str]:
    return LINK.findall(without_code(page.read_text()))


def broken_links(page: Path, root: Path) -> list[str]:
    """Each relative link of `page` that leads nowhere, with the reason."""
    broken = []
    for link in links(page):
        if SCHEME.match(link):
            continue
        path, _, fragment = link.partition("#")
        target = (page.parent / unquote(path)).resolve() if path else page
        if not target.is_relative_to(root.resolve()):
            broken.append(f"{link}: outside the repository")
        elif not target.exists():
            broken.append(f"{link}: {target.relative_to(root.resolve())} does not exist")
        elif fragment and target.suffix == ".md" and fragment not in anchors(target):
            broken.append(f"{link}: {target.name} has no heading with the anchor #{fragment}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = broken_links(page, ROOT)
    assert not broken, f"{page.relative_to(ROOT)}: broken links:\n" + "\n".join(broken)


def test_the_readme_links_every_page_of_docs():
    linked = {
        (ROOT / link.partition("#")[0]).resolve()
        for link in links(ROOT / "README.md")
        if not SCHEME.match(link)
    }
    unlinked = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not unlinked, f"README.md links no page {unlinked}: a newcomer would not find them"


def test_a_missing_file_a_wrong_anchor_and_a_way_out_are_found(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "other.md").write_text("# Other page\n\n## Runs (issue 10)\n\n## Runs (issue 10)\n")
    page = docs / "page.md"
    page.write_text(
        "# Page\n\n## What `deepres` keeps: 8.13%\n\n"
        "[fine](other.md) [fine](other.md#runs-issue-10-1) [fine](#what-deepres-keeps-813)\n"
        "[fine](https://example.org/nowhere) ![fine](other.md)\n"
        "[gone](missing.md) [no heading](other.md#runs-issue-10-2) [no heading](#page-1)\n"
        "[out](../../elsewhere.md)\n"
        "`[in code](missing.md)`\n\n```\n[in a block](missing.md)\n```\n"
    )
    assert broken_links(page, tmp_path) == [
        "missing.md: docs/missing.md does not exist",
        "other.md#runs-issue-10-2: other.md has no heading with the anchor #runs-issue-10-2",
        "#page-1: page.md has no heading with the anchor #page-1",
        "../../elsewhere.md: outside the repository",
    ]


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Two commands", "two-commands"),
        (
            "ResNet-20 finished at 8.13% test error: 0.62 points below the paper's 8.75%",
            "resnet-20-finished-at-813-test-error-062-points-below-the-papers-875",
        ),
        ("`resnet50_v1_5` and **INT8**", "resnet50_v1_5-and-int8"),
        ("See [the queue](#the-queue)", "see-the-queue"),
        ("Refused or warned, in one line", "refused-or-warned-in-one-line"),
    ],
)
def test_anchors_are_spelt_as_github_spells_them(heading, expected):
    assert anchor(heading) == expected
