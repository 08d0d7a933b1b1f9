"""Renderers draw report data and nothing else: besides the stdlib they import only the
core, jinja2 (with its markupsafe) and matplotlib. import-linter forbids the known
outer modules; this test also catches a module added later (say, a new use case)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import reports

ALLOWED_THIRD_PARTY = {"jinja2", "markupsafe", "matplotlib"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_reports_import_only_the_core_jinja2_matplotlib_and_the_stdlib() -> None:
    strays = {}
    for path in Path(reports.__file__).parent.rglob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top == "edgeledger":
                ok = name == "edgeledger.core" or name.startswith("edgeledger.core.")
            else:
                ok = top in ("reports", "__future__") or top in ALLOWED_THIRD_PARTY
                ok = ok or top in sys.stdlib_module_names
            if not ok:
                strays.setdefault(path.name, []).append(name)
    assert strays == {}
