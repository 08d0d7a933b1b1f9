"""CSV cells a spreadsheet will not run as formulas, and back.

Excel, LibreOffice and Google Sheets treat a cell that starts with =, +, -, @, a tab or a
carriage return as a formula (CSV injection: `=HYPERLINK(...)` in a rationale becomes a
link, worse in older Excel). As OWASP advises, such text is written with a leading single
quote, which spreadsheets show as text. Import removes that one quote again, so an export
re-imported gives back the same signals. Text that already starts with quotes before such
a character gets one more, so it too survives the round trip.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def _looks_like_formula(text: str) -> bool:
    return text.lstrip(GUARD).startswith(FORMULA_STARTS)


def guard_cell(text: str) -> str:
    """Text for a CSV cell that no spreadsheet runs as a formula."""
    return GUARD + text if _looks_like_formula(text) else text


def unguard_cell(text: str) -> str:
    """The text guard_cell was given (a hand-written `'=x` also reads as `=x`)."""
    return text[1:] if text.startswith(GUARD) and _looks_like_formula(text) else text
