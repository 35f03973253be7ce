"""Every ```python block in docs/ runs, in order, one namespace per file."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
ROOT = DOCS.parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def test_docs_exist() -> None:
    assert PAGES, "docs/ has no pages"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_doc_code_blocks_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for number, block in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")), 1):
        code = compile(block, f"{page.name} (block {number})", "exec")
        exec(code, namespace)
    assert os.getcwd() == str(ROOT)
