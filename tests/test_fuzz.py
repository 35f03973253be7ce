"""The pipeline fuzzer's CI budget: 100,000 mutated streams through stream(), every mode.

The fuzzer and its invariants are in ``tests/_fuzz.py`` (run it as a script for a long
campaign). ``STREAMKIT_FUZZ_CASES`` changes the budget, ``STREAMKIT_FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import os
import sys
from multiprocessing import get_context
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _fuzz

CASES = int(os.environ.get("STREAMKIT_FUZZ_CASES", "100000"))
SEED = int(os.environ.get("STREAMKIT_FUZZ_SEED", "1"))
JOBS = 2


@pytest.mark.timeout(600)
def test_the_pipeline_keeps_its_promises_on_mutated_streams() -> None:
    batch = max(1, CASES // (JOBS * 4))
    work = [(min(batch, CASES - start), SEED, start) for start in range(0, CASES, batch)]
    with get_context("fork").Pool(JOBS) as pool:
        reports = [report for found in pool.map(_fuzz._work, work) for report in found]
    assert not reports, f"{len(reports)} violation(s); the first:\n" + "\n".join(reports[:3])


def test_the_fuzzer_finds_what_it_looks_for() -> None:
    # The checker is not vacuous: a body that breaks an invariant is caught.
    with pytest.raises(_fuzz.Violation, match="done more than once"):
        _fuzz.check_changes_once([("part", "msg_1", 0)] * 2, [])
    body = b'event: thread.run.created\ndata: {"id": "run_1", "status": "queued"}\n\n'
    _fuzz.check(body, strict=True, tolerant=False)  # a clean, cut stream: no violation
