"""scripts/embed_report.py: a report replaces its copy in docs/results.md and nothing else."""

from repo_scripts import load_script

embed_report = load_script("scripts/embed_report.py")

DOC = """# Results

## The paper's runs

```bash
# a comment in a fence is not a heading
```

### Report title

#### Table 6

| old | table |

### The queue

waiting
"""

REPORT = """# Report title

## Table 6

| new | table |

## Figure 6

![Figure 6](figure6.png)
"""


def make(tmp_path, report=REPORT):
    repo, out = tmp_path / "repo", tmp_path / "out"
    (repo / "docs" / "results").mkdir(parents=True)
    (repo / "docs" / "results.md").write_text(DOC)
    out.mkdir()
    (out / "report.md").write_text(report)
    (out / "figure6.png").write_bytes(b"png bytes")
    (out / "results.json").write_text("{}")
    return repo, out


def embed(repo, out):
    return embed_report.main(
        [str(out), "--name", "cifar10-paper", "--levels", "2", "--repo", str(repo)]
    )


def test_the_report_replaces_its_copy_with_deeper_headings_and_copied_figures(tmp_path):
    repo, out = make(tmp_path)
    assert embed(repo, out) == 0
    doc = (repo / "docs" / "results.md").read_text()
    head, tail = DOC.split("### Report title\n")[0], "### The queue\n\nwaiting\n"
    expected = (
        "### Report title\n\n#### Table 6\n\n| new | table |\n\n#### Figure 6\n\n"
        "![Figure 6](results/cifar10-paper-figure6.png)\n\n"
        f"{embed_report.END.format(name='cifar10-paper')}\n\n"
    )
    assert doc == head + expected + tail
    files = repo / "docs" / "results"
    assert (files / "cifar10-paper-figure6.png").read_bytes() == b"png bytes"
    assert (files / "cifar10-paper-results.json").read_text() == "{}"
    assert embed(repo, out) == 0  # again: the same document
    assert (repo / "docs" / "results.md").read_text() == doc


def test_the_words_after_a_report_survive_once_it_has_its_end_marker(tmp_path):
    repo, out = make(tmp_path)
    assert embed(repo, out) == 0
    doc = repo / "docs" / "results.md"
    end = embed_report.END.format(name="cifar10-paper")
    words = "The next report, by another command:\n\n"
    doc.write_text(doc.read_text().replace(f"{end}\n\n", f"{end}\n\n{words}"))
    before = doc.read_text()
    assert words in before
    (out / "report.md").write_text(REPORT.replace("| new | table |", "| newer | table |"))
    assert embed(repo, out) == 0
    assert doc.read_text() == before.replace("| new | table |", "| newer | table |")


def test_a_report_the_doc_does_not_hold_is_refused_and_nothing_written(tmp_path, capsys):
    repo, out = make(tmp_path, REPORT.replace("Report title", "Another title"))
    assert embed(repo, out) == 2
    assert "has no heading '### Another title'" in capsys.readouterr().err
    assert (repo / "docs" / "results.md").read_text() == DOC
    assert not list((repo / "docs" / "results").iterdir())
    (out / "report.md").unlink()
    assert embed(repo, out) == 2
    assert "report.md does not exist" in capsys.readouterr().err
