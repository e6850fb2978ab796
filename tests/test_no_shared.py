"""How conftest finds the tests that need ../shared, so a clone without it skips
exactly those (with one reason) and runs the rest.

The whole-suite check is by hand: `git clone . /tmp/noshared/hamodel`, then
`python3 -m pytest -rs` there (366 passed, 185 skipped, one reason, on 2026-12-05).
"""

from __future__ import annotations

from pathlib import Path

import conftest
from conftest import MODELS, SHARED, _reaches_shared, _under_shared

STALL = SHARED / "models/upstream/stall.dot"
LOCAL = Path(__file__).parent / "check_models"


def _helper():
    return STALL.read_text()


def uses_a_constant():
    return STALL


def uses_models():
    return MODELS / "x.dot"


def calls_a_helper():
    return _helper()


def needs_nothing():
    return LOCAL / "overlap.dot"


def test_tests_that_reach_the_corpus_are_found():
    assert _reaches_shared(uses_a_constant)
    assert _reaches_shared(uses_models)
    assert _reaches_shared(calls_a_helper)
    assert not _reaches_shared(needs_nothing)


def test_parameters_under_the_corpus_are_found():
    assert _under_shared([STALL])
    assert _under_shared({"case": (str(STALL), "per_task")})
    assert not _under_shared([LOCAL, "per_task", 3])


def test_the_reason_names_the_folder():
    assert str(SHARED) in conftest.NO_SHARED
