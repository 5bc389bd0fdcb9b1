"""The pages that quote the shipped networks follow their model cards: the README's table has a
row for every shipped name with the card's test error, and docs/using.md's INT8 table a row
for each with the card's error in float. A network shipped or shipped again without its row
brought up to date fails here."""

import re
from pathlib import Path

import pytest

from deepres import catalog

REPO = Path(__file__).resolve().parents[2]
README_ROW = re.compile(r"^\| `([\w.-]+)` \|(.*)$", re.M)
INT8_ROW = re.compile(r"^\| ([\w.-]+-cifar10[\w-]*) \| [\w-]+ \| ([\d.]+)% \|", re.M)


@pytest.fixture(autouse=True)
def package_weights(monkeypatch):
    monkeypatch.delenv(catalog.WEIGHTS_DIR_VARIABLE, raising=False)


def percent(error: float) -> str:
    return f"{100 * error:.2f}%"


def test_the_readme_has_a_row_for_every_shipped_network_with_its_cards_error():
    rows = dict(README_ROW.findall((REPO / "README.md").read_text()))
    assert sorted(rows) == sorted(catalog.list_weights())
    for name, row in rows.items():
        card = catalog.model_card(name)
        assert percent(card.test_error) in row, name
        if card.test_error_center_flip is not None:
            assert percent(card.test_error_center_flip) in row, name


def test_the_int8_table_has_a_row_for_every_shipped_network_with_its_float_error():
    rows = dict(INT8_ROW.findall((REPO / "docs" / "using.md").read_text()))
    assert sorted(rows) == sorted(catalog.list_weights())
    for name, float_error in rows.items():
        assert f"{float_error}%" == percent(catalog.model_card(name).test_error), name
