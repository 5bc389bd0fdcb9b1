"""How the commands write numbers for a person to read."""

from __future__ import annotations


def pct(fraction: float | None) -> str:
    """0.0661 -> '6.61%'; None (not measured) -> '-'."""
    return "-" if fraction is None else f"{100 * fraction:.2f}%"
