"""generated/tlob/python/ is what `hamodel gen --target python models/tlob.dot` makes now."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hamodel import cli

ROOT = Path(__file__).resolve().parent.parent
CHECKED_IN = ROOT / "generated" / "tlob" / "python"


def test_checked_in_python_monitor_is_fresh(tmp_path):
    assert cli.main(["gen", "--target", "python", str(ROOT / "models" / "tlob.dot"),
                     "-o", str(tmp_path)]) == 0
    fresh = {p.name: p.read_text() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_text() for p in CHECKED_IN.iterdir() if p.is_file()}
    assert fresh == committed, (
        "generated/tlob/python/ is stale: run "
        "`python -m hamodel gen --target python models/tlob.dot -o generated/tlob/python`"
    )


def test_output_does_not_depend_on_hash_seed(tmp_path):
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        subprocess.run(
            [sys.executable, "-m", "hamodel", "gen", "--target", "python", "models/tlob.dot",
             "-o", str(out)],
            cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}, check=True,
            capture_output=True,
        )
        outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outputs[0] == outputs[1]
