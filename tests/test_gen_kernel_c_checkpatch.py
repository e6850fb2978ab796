"""Generated kernel C passes the kernel's own style checker, `checkpatch.pl --no-tree`.

checkpatch.pl comes from Debian's linux-source-6.12 tarball (.ci/setup installs
it); the test extracts the script once into pytest's cache.  Set
HAMODEL_CHECKPATCH to use another copy.  Two warnings are accepted, each only
on the line the kernel API forces: see ALLOWED.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import MODELS, ROOT

from hamodel.binding import find_binding
from hamodel.gen import GenError, GenOptions
from hamodel.gen.kernel_c import generate
from hamodel.load import load_model

TARBALLS = sorted(Path("/usr/src").glob("linux-source-6.12.tar.*"))
SCRIPTS = ("checkpatch.pl", "spelling.txt", "const_structs.checkpatch")

# checkpatch type -> (pattern the flagged line must match, why it is accepted)
ALLOWED = {
    "NEW_TYPEDEFS": (
        r"^typedef .*\bmonitor_target;$",
        "per_obj monitors must name their target type (include/rv/da_monitor.h), as nomiss.c does",
    ),
    "MACRO_ARG_UNUSED": (
        r"^#define \w+\(ha_mon\) /\* XXX: the value of \w+\(ha_mon\) \*/$",
        "an rvgen-style XXX skeleton of a parameter the developer defines",
    ),
}

CASES = [
    ("tlob (bound)", ROOT / "models/tlob.dot", None, True),
    ("stall", MODELS / "upstream/stall.dot", "per_task", False),
    ("nomiss", MODELS / "upstream/deadline/nomiss.dot", "per_obj", False),
    ("opid", MODELS / "upstream/sched/opid.dot", "per_cpu", False),
    ("sssw", MODELS / "upstream/sched/sssw.dot", "per_task", False),
    ("wip", MODELS / "upstream/wip.dot", "global", False),
    ("sts", MODELS / "upstream/sched/sts.dot", "per_obj", False),
]


@pytest.fixture(scope="session")
def checkpatch(request) -> Path:
    if os.environ.get("HAMODEL_CHECKPATCH"):
        return Path(os.environ["HAMODEL_CHECKPATCH"])
    if shutil.which("perl") is None:
        pytest.skip("perl is not installed")
    cache = Path(request.config.cache.mkdir("checkpatch"))
    script = cache / "checkpatch.pl"
    if not script.exists():
        if not TARBALLS:
            pytest.skip("checkpatch.pl unavailable: install Debian's linux-source-6.12 (.ci/setup)")
        members = [f"linux-source-6.12/scripts/{name}" for name in SCRIPTS]
        subprocess.run(["tar", "-xf", str(TARBALLS[0]), "-C", str(cache),
                        "--strip-components=2", *members], check=True, timeout=300)
    return script


@pytest.mark.parametrize(("label", "path", "mtype", "bound"), CASES, ids=[c[0] for c in CASES])
def test_checkpatch_clean(label, path, mtype, bound, checkpatch, tmp_path):
    if not path.exists():
        pytest.skip(f"{path} is missing")
    a, diags = load_model(path)
    assert a is not None
    binding = find_binding(path, a)[0] if bound else None
    files = generate(a, GenOptions(str(path), binding=binding, monitor_type=mtype))
    for rel, text in files.items():
        (tmp_path / rel).write_text(text)
    paths = sorted(str(tmp_path / rel) for rel in files)
    done = subprocess.run(["perl", str(checkpatch), "--no-tree", "-f", "--terse", "--show-types",
                           "--no-summary", *paths], capture_output=True, text=True, timeout=120)
    # a checkpatch that crashed or did not run prints nothing on stdout: judge it by its
    # exit status (0 clean, 1 something reported) and a silent stderr
    assert not done.stderr, done.stderr
    assert done.returncode == (1 if done.stdout.strip() else 0), (done.returncode, done.stdout)
    problems = []
    for line in done.stdout.splitlines():
        m = re.match(r"(.+?):(\d+): (?:WARNING|ERROR|CHECK):(\w+): (.*)", line)
        assert m, line
        file, lineno, kind = m.group(1), int(m.group(2)), m.group(3)
        source = Path(file).read_text().splitlines()[lineno - 1]
        pattern = ALLOWED.get(kind, (None, None))[0]
        if pattern is None or not re.match(pattern, source):
            problems.append(f"{line}\n    {source}")
    assert not problems, "\n".join(problems)


def _column_cases():
    paths = sorted(MODELS.rglob("*.dot")) + sorted((ROOT / "tests").rglob("*.dot"))
    return [ROOT / "models/tlob.dot", *paths]


def test_no_generated_line_passes_100_columns():
    """checkpatch's limit, checked directly for every model and monitor type we can load
    (tabs count 8), so a long line cannot hide behind a checkpatch that did not run."""
    too_long = []
    generated = 0
    for path in _column_cases():
        a, _ = load_model(path)
        if a is None:
            continue
        binding = find_binding(path, a)[0]
        for mtype in (None, "global", "per_cpu", "per_task", "per_obj"):
            if mtype is None and binding is None:
                continue
            try:
                files = generate(a, GenOptions(str(path), binding=binding if mtype is None
                                               else None, monitor_type=mtype))
            except GenError:
                continue
            generated += 1
            for rel, text in files.items():
                if not rel.endswith((".c", ".h")):
                    continue
                for n, line in enumerate(text.splitlines(), 1):
                    if len(line.expandtabs(8)) > 100:
                        too_long.append(f"{path.name} {mtype}: {rel}:{n}: {line.strip()}")
    assert generated > 40
    assert not too_long, "\n".join(too_long)


def _bound_cases():
    from kernel_build import monitors

    return [pytest.param(u, id=u.name, marks=pytest.mark.skipif(
        not u.model.exists(), reason=f"the upstream model {u.model} is missing"))
        for u in monitors.upstream()]


@pytest.mark.parametrize("u", _bound_cases())
def test_bound_monitors_pass_checkpatch_strict(u, checkpatch, tmp_path):
    """What the kernel build check runs on each monitor, with its accepted findings
    (tests/kernel_build/findings.py), here without a kernel tree."""
    from kernel_build import findings, monitors

    files = monitors.generate_upstream(u)
    for rel, text in files.items():
        (tmp_path / rel).write_text(text)
    paths = sorted(str(tmp_path / rel) for rel in files)
    done = subprocess.run(["perl", str(checkpatch), "--no-tree", "--strict", "-f", "--terse",
                           "--show-types", "--no-summary", *paths], capture_output=True,
                          text=True, timeout=120)
    assert not findings.unparsed_checkpatch(done.stdout + done.stderr), done.stdout + done.stderr
    bad = [str(f) for f in findings.parse_checkpatch(done.stdout)
           if not findings.accepted(f, Path(f.path).read_text())]
    assert not bad, "\n".join(bad)
