"""docs/reliability.md names the tests behind each promise: each one must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITED = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def test_every_test_the_reliability_doc_cites_exists():
    cited = CITED.findall((ROOT / "docs" / "reliability.md").read_text())
    assert cited
    missing = [
        f"{path}::{name}"
        for path, name in cited
        if not (ROOT / path).is_file()
        or not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
    ]
    assert missing == []
