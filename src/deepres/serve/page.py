"""The web page at ``/``: choose or drop an image, see it with its five most probable classes
as bars. One self-contained file (page.html): no script, style or font from elsewhere, so it
works offline."""

from __future__ import annotations

from importlib import resources


def page_html() -> str:
    return resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
