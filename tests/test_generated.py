"""generated/ is what the generators make of models/ today, byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

from hamodel.gen import TARGETS
from hamodel.gen.regenerate import actual_tree, expected_tree


def test_generated_is_fresh():
    want, have = expected_tree(), actual_tree()
    stale = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
    assert not stale, "run `python -m hamodel.gen.regenerate`; stale: " + ", ".join(stale)
    assert sorted({k.split("/")[1] for k in have}) == sorted(TARGETS)


def test_generation_does_not_depend_on_hash_seed():
    code = (
        "import hashlib, json;"
        "from hamodel.gen.regenerate import expected_tree;"
        "t = expected_tree();"
        "print(hashlib.sha256(json.dumps(t, sort_keys=True).encode()).hexdigest())"
    )
    digests = set()
    for seed in ("0", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, cwd=ROOT, check=True)
        digests.add(out.stdout)
    assert len(digests) == 1
