"""Shared paths: the project's models and the read-only corpus in ../shared/."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
MODELS = SHARED / "models"

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/strategies.py


def corpus(*folders: str) -> list[Path]:
    """Every .dot under the given folders of ../shared/models (empty if shared/ is absent)."""
    found: list[Path] = []
    for folder in folders:
        found += sorted((MODELS / folder).rglob("*.dot"))
    return found


@pytest.fixture(scope="session")
def shared_models() -> Path:
    if not MODELS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected {MODELS}")
    return MODELS
