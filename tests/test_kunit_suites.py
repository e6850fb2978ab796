"""Every generated KUnit suite passes on the verbatim framework, whatever the uptime.

tests/kshim/kunit.py builds each monitor with the kernel's own
kernel/trace/rv/rv_monitors_test.c (the monitor's #include and KUNIT_CASE()
lines added as `hamodel gen` says) and runs the `rv_mon` suite at a long
uptime and at 0.5 s, the uptime of a KUnit run at boot under qemu: every
case of the monitor must pass, the kernel's own cases of monitors not built
in must skip as in a kernel without them.  Monitors: tlob, every upstream
model with its binding, and models generated without a binding (their XXX
filled as a maintainer would).
"""

from __future__ import annotations

from pathlib import Path

import kshim
import pytest
from conftest import ROOT, SHARED
from kshim import kunit

from hamodel.binding import load_binding
from hamodel.gen import GenOptions, kernel_c, kernel_kunit
from hamodel.load import load_model

pytestmark = pytest.mark.skipif(not kshim.available(), reason=kshim.MISSING)

UPSTREAM = SHARED / "models" / "upstream"
BINDINGS = ROOT / "models" / "upstream"
# the kernel's own cases rv_monitors_test.c lists, and what they do in a build without
# their monitor
IN_TREE = ("sco", "sssw", "sts", "opid", "nomiss", "pagefault", "sleep")

# Monitors generated without a binding: (model, -t, values a maintainer gives the
# parameters).  BUDGET_NS() is a macro the cases cannot set: it stays below the 0.5 s
# uptime the suite runs at, as a maintainer's value has to.
SKELETONS = {
    "stall": ("stall.dot", "per_task", {"threshold_jiffies": "1000"}),
    "wip": ("wip.dot", "per_cpu", {}),
    "sco": ("sched/sco.dot", "global", {}),
    "tlob": (str(ROOT / "models/tlob.dot"), "per_obj", {"BUDGET_NS": "(100000000ull)"}),
}


def upstream_names() -> list[str]:
    return sorted(p.name.removesuffix(".binding.toml") for p in BINDINGS.rglob("*.binding.toml"))


def _generate(model: Path, binding_path: Path | None = None, **options):
    a, diags = load_model(model)
    assert a is not None, diags
    binding = None
    if binding_path is not None:
        binding, diags = load_binding(binding_path, a)
        assert binding is not None, diags
    opts = GenOptions(str(model), binding=binding, **options)
    return kernel_c.generate(a, opts), kernel_c.build_view(a, opts)


def bound(name: str):
    if name == "tlob":
        return _generate(ROOT / "models/tlob.dot", ROOT / "models/tlob.binding.toml")
    path = next(BINDINGS.rglob(f"{name}.binding.toml"))
    rel = path.relative_to(BINDINGS).as_posix().removesuffix(".binding.toml")
    return _generate(UPSTREAM / f"{rel}.dot", path)


def skeleton(name: str):
    model, monitor_type, values = SKELETONS[name]
    path = Path(model) if model.startswith("/") else UPSTREAM / model
    files, view = _generate(path, monitor_type=monitor_type)
    return kunit.fill_skeleton(files, view, values), view


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Each monitor built once, on first use."""
    made: dict[str, kunit.KunitBuild] = {}

    def get(key: str) -> kunit.KunitBuild:
        if key not in made:
            kind, name = key.split(":")
            files, view = bound(name) if kind == "bound" else skeleton(name)
            made[key] = kunit.build_suite(files, view, tmp_path_factory.mktemp(name))
        return made[key]

    return get


def check_run(build: kunit.KunitBuild, uptime: int, **options) -> None:
    results, lines = build.run(uptime, **options)
    by_name = {r.name: r for r in results}
    ours = build.view.kunit.case_names
    assert [r.name for r in results if r.name in ours] == list(ours), lines
    failed = [r.name for r in results if r.status == "fail"]
    assert not failed, "\n".join(lines)
    assert by_name["rv_test_dummy"].status == "pass"
    for name in ours:
        assert by_name[name].status == "pass", (name, by_name[name].reason)
    for name in IN_TREE:
        if name != build.view.name:
            assert by_name[f"rv_test_{name}"].status == "skip", name
    assert not [line for line in lines if " WARNING " in line or " BUG " in line], lines


MONITORS = [f"bound:{n}" for n in ["tlob", *upstream_names()]] + \
    [f"skeleton:{n}" for n in SKELETONS]


@pytest.mark.parametrize("key", MONITORS)
@pytest.mark.parametrize("uptime", [kunit.LONG_UPTIME, kunit.BOOT_UPTIME], ids=["long", "boot"])
def test_suite_passes(builds, key, uptime):
    check_run(builds(key), uptime)


@pytest.mark.parametrize("key", ["bound:tlob", "bound:stall", "bound:nomiss", "skeleton:stall"])
def test_suite_passes_with_late_timers(builds, key):
    """Timer callbacks 10 ms late (TCG): an overrun is then caught by the next event's
    check, still exactly once."""
    check_run(builds(key), kunit.BOOT_UPTIME, latency_ns=10_000_000)


def test_stall_at_hz_1000(tmp_path):
    """The jiffy bounds and waits count ticks of the kernel's HZ."""
    files, view = bound("stall")
    check_run(kunit.build_suite(files, view, tmp_path, hz=1000), kunit.BOOT_UPTIME)


def test_every_edge_and_refusal_is_a_scenario():
    """The cases cover the model: each edge of a bound upstream model that a case can
    reach, and each event a state refuses."""
    for name in upstream_names():
        _, view = bound(name)
        cases = {c.name: c for c in view.kunit.cases}
        edges = {sc.comment for sc in cases[f"rv_test_{name}"].scenarios}
        a, _ = load_model(next(UPSTREAM.rglob(f"{name}.dot")))
        for e in a.edges:
            if not e.guard:  # guarded edges need envs a case can set
                assert f"{e.src} --{e.event}--> {e.dst}" in edges, (name, e)
        refused = cases.get(f"rv_test_{name}_refused")
        pairs = {(e.src, e.event) for e in a.edges}
        missing = [(s.name, ev.name) for s in a.states for ev in a.events
                   if (s.name, ev.name) not in pairs]
        got = {sc.comment for sc in refused.scenarios} if refused else set()
        assert got == {f"{s} refuses {ev}" for s, ev in missing}, name


# --- the cases can fail ------------------------------------------------------------------


def test_a_wrong_table_fails_the_edge_case(tmp_path, builds):
    """A monitor whose table sends an edge elsewhere than the model: the edge case fails."""
    files, view = bound("wip")
    header = files["wip.h"]
    # preemptive --preempt_disable--> non_preemptive becomes a self-loop
    broken = header.replace("{ non_preemptive_wip,      INVALID_STATE,",
                            "{     preemptive_wip,      INVALID_STATE,")
    assert broken != header, header
    build = kunit.build_suite(dict(files, **{"wip.h": broken}), view, tmp_path)
    results, lines = build.run(kunit.LONG_UPTIME)
    status = {r.name: r.status for r in results}
    assert status["rv_test_wip"] == "fail"


def test_a_budget_above_the_uptime_fails_at_boot(tmp_path):
    """Issue 13: a fixed 1 s budget, as the suite before had, wraps the framework's ns
    check while the uptime is below it; the generated cases choose theirs below it."""
    files, view = bound("tlob")
    fixed = files["tlob_kunit.c"].replace(
        "clamp_t(u64, ktime_get_ns() / 2, 1000ull, 3600000000000ull)", "1000000000ull")
    assert fixed != files["tlob_kunit.c"]
    build = kunit.build_suite(dict(files, **{"tlob_kunit.c": fixed}), view, tmp_path)
    late = {r.name: r.status for r in build.run(kunit.LONG_UPTIME)[0]}
    early = {r.name: r.status for r in build.run(kunit.BOOT_UPTIME)[0]}
    assert late["rv_test_tlob"] == "pass" and early["rv_test_tlob"] == "fail"


# --- what a maintainer adds to rv_monitors_test.c ----------------------------------------


def test_monitors_test_patch_is_idempotent_and_keeps_the_kernel_lines():
    text = (kshim.FRAMEWORK / "kernel/trace/rv/rv_monitors_test.c").read_text()
    for name in ("stall", "sco"):
        _, view = bound(name)
        once = kernel_kunit.patch_monitors_test(text, view.kunit)
        assert kernel_kunit.patch_monitors_test(once, view.kunit) == once
        include, cases = kernel_kunit.monitors_test_lines(view.kunit)
        assert once.count(include) == 1
        for case in cases:
            assert once.count(case) == 1
        # the kernel's own lines are all still there
        assert all(line in once.splitlines() for line in text.splitlines())
