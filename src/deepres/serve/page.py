"""The web page at ``/``: the network's classes named; choose or drop one image or several,
see each with its five most probable classes as bars (or why it could not be read). One self-contained file (page.html): no script, style or font from elsewhere, so it
works offline."""

from __future__ import annotations

from importlib import resources


def page_html() -> str:
    return resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
