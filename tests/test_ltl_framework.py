"""hamodel's LTL reference monitor says what the kernel's own ltl_monitor.h does.

Each spec is generated as `hamodel gen --target kernel-c X.ltl` writes its
`<m>.h` and `<m>_trace.h` and compiled with the verbatim
include/rv/ltl_monitor.h, include/linux/rv.h and kernel/trace/rv/rv_trace.h
on tests/kshim (tests/kshim/ltl.py).  Random calls (task creation, what
ltl_atoms_fetch reads, and ltl_atom_update / _pulse / _set, as the generated
handlers make them, with random atom set-ups) go through that binary and
through hamodel.ltl.monitor.LtlMonitor; both must print the same lines: every
`event_<m>` / `error_<m>` line in the kernel's text, every reaction, and
after every call the task's states, known atoms and unknown atoms.  The
tables of every spec are compared too, for every valuation of the atoms.

The number of hypothesis examples is bounded for CI; set HAMODEL_DIFF_EXAMPLES
to run more.  A failure prints the spec, the set-up and the calls.
"""

from __future__ import annotations

import difflib
import io
import os
import tempfile
from pathlib import Path

import kshim
import pytest
from conftest import MODELS, ROOT
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from kshim.ltl import LtlBuild, Reference, build_ltl
from ltl_strategies import formulas

from hamodel.ltl.binding import find_ltl_binding
from hamodel.ltl.buchi import build_buchi
from hamodel.ltl.formula import LtlSpec, explicit, text
from hamodel.ltl.load import load_ltl, load_ltl_text
from hamodel.ltl.monitor import AtomSetup, LtlMonitor
from hamodel.ltl.replay import Report, replay_ftrace
from hamodel.ltl.sat import Witness, first_violation

pytestmark = pytest.mark.skipif(not kshim.available(), reason=kshim.MISSING)

EXAMPLES = int(os.environ.get("HAMODEL_DIFF_EXAMPLES", "0") or 0)
PAGEFAULT = ROOT / "models" / "pagefault.ltl"
UPSTREAM = {
    "pagefault": "rtapp/pagefault.ltl",
    "sleep": "rtapp/sleep.ltl",
    "wakeup": "rtapp/wakeup.ltl",
    "sleep_00f0dadd": "history/rtapp/sleep.ltl@00f0dadd",
    "test_ltl": "rvgen-tests/test_ltl.ltl",
}
PIDS = (1, 2, 3)

_BUILT: dict[str, LtlBuild] = {}


def _spec(name: str) -> LtlSpec:
    path = PAGEFAULT if name == "bundled" else MODELS / "upstream-ltl" / UPSTREAM[name]
    if not path.exists():
        pytest.skip(f"{path} is not available (shared test data)")
    spec, diags = load_ltl(path, "m" if name == "bundled" else name)
    assert spec is not None, [d.message for d in diags]
    return spec


def _build(name: str, tmp_path_factory) -> LtlBuild:
    if name not in _BUILT:
        # AddressSanitizer: a write past a task's bitmaps would fail the test, as KASAN would
        _BUILT[name] = build_ltl(_spec(name), tmp_path_factory.mktemp(f"ltl-{name}"),
                                 sanitize=True)
    return _BUILT[name]


# --- random calls --------------------------------------------------------------------

SETUPS = (AtomSetup(), AtomSetup(init=False), AtomSetup(init=True),
          AtomSetup(init=False, init_new_tasks_only=True), AtomSetup(fetched=True))
# weights by repetition: mostly the atom calls of the handlers; `learn` sets every atom
# of a task, so specs of many atoms start too
KINDS = ("update",) * 4 + ("pulse",) * 3 + ("set",) * 2 + ("prop",) * 2 + ("fork", "toggle",
                                                                         "learn")


def setups(atoms: tuple[str, ...]):
    return st.fixed_dictionaries({a: st.sampled_from(SETUPS) for a in atoms})


def _witness(build: LtlBuild) -> tuple[dict[str, bool], ...]:
    """The atoms at each update of the shortest run the monitor reports (hamodel check
    --violate), or none: random calls alone rarely lead a spec of 15 atoms there."""
    found = first_violation(build.buchi)
    return found.steps if isinstance(found, Witness) else ()


@st.composite
def calls(draw, atoms: tuple[str, ...], most: int = 90,
          witness: tuple[dict[str, bool], ...] = ()) -> list[tuple]:
    """`enable`, then calls; `toggle` becomes a disable or an enable, in turn; `witness`
    plays the run to a report on one task (atoms it leaves open drawn at random)."""
    ops: list[tuple] = [("enable",)]
    enabled = True
    for _ in range(draw(st.integers(1, most))):
        kind = draw(st.sampled_from(KINDS + (("witness",) * 2 if witness else ())))
        pid = draw(st.sampled_from(PIDS))
        if kind == "witness":
            for values in witness:
                now = {a: values.get(a, draw(st.booleans())) for a in atoms}
                # whatever the set-up fetches or not, the update finds these values
                ops += [("prop", pid, a, v) for a, v in now.items()]
                ops += [("set", pid, a, v) for a, v in now.items()]
                ops.append(("update", pid, atoms[0], now[atoms[0]]))
        elif kind == "toggle":
            enabled = not enabled
            ops.append(("enable",) if enabled else ("disable",))
        elif kind == "fork":
            ops.append(("fork", pid))
        elif kind == "learn":
            ops += [("set", pid, a, draw(st.booleans())) for a in atoms]
        else:
            ops.append((kind, pid, draw(st.sampled_from(atoms)), draw(st.booleans())))
    return ops


def _compare(build: LtlBuild, setup: dict[str, AtomSetup], ops: list[tuple]) -> None:
    note(f"spec: RULE = {explicit(build.spec.rule)}")
    note(f"set-up: {setup}")
    note(f"calls: {ops}")
    kernel = build.run(ops, setup)
    reference = Reference(build, setup).play(ops)
    if kernel != reference:
        diff = "\n".join(difflib.unified_diff(reference, kernel, "reference", "ltl_monitor.h",
                                              lineterm="", n=2))
        raise AssertionError(f"the framework and the reference differ:\n{diff}")


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_random_calls_on_the_upstream_specs(name, tmp_path_factory):
    build = _build(name, tmp_path_factory)

    @settings(max_examples=EXAMPLES or 30, deadline=None, derandomize=not EXAMPLES,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(setup=setups(build.spec.atoms),
           ops=calls(build.spec.atoms, witness=_witness(build)))
    def check(setup, ops):
        _compare(build, setup, ops)

    check()


def test_the_bundled_pagefault_with_its_binding(tmp_path_factory):
    """The set-up models/pagefault.binding.toml gives: RT fetched, PAGEFAULT false at a fork."""
    build = _build("bundled", tmp_path_factory)
    binding, _ = find_ltl_binding(PAGEFAULT, build.spec)
    setup = binding.setup()
    assert setup == {"RT": AtomSetup(fetched=True),
                     "PAGEFAULT": AtomSetup(init=False, init_new_tasks_only=True)}

    @settings(max_examples=EXAMPLES or 30, deadline=None, derandomize=not EXAMPLES,
              suppress_health_check=[HealthCheck.too_slow])
    @given(ops=calls(build.spec.atoms, witness=_witness(build)))
    def check(ops):
        _compare(build, setup, ops)

    check()


def test_a_real_time_fault_is_reported_in_the_kernels_words(tmp_path_factory):
    build = _build("bundled", tmp_path_factory)
    setup = {"RT": AtomSetup(fetched=True),
             "PAGEFAULT": AtomSetup(init=False, init_new_tasks_only=True)}
    ops = [("enable",), ("fork", 5), ("pulse", 5, "PAGEFAULT", True), ("prop", 5, "RT", True),
           ("pulse", 5, "PAGEFAULT", True)]
    out = build.run(ops, setup)
    assert out == Reference(build, setup).play(ops)
    assert [line for line in out if " ltl " not in line] == [
        "3 trace event_m: task5[5]: (0) x () -> (0)",
        "5 trace event_m: task5[5]: (0) x (pa,rt) -> ()",
        "5 trace error_m: task5[5]: violation detected",
        "5 react rv: m: task5[5]: violation detected",
    ]


def test_a_long_atom_list_is_cut_as_the_kernel_cuts_it(tmp_path_factory):
    """ltl_trace_event's 64-byte seq_buf holds 63 characters of the newest sleep's names."""
    build = _build("sleep", tmp_path_factory)
    atoms = build.spec.atoms
    ops = [("enable",)] + [("set", 1, a, True) for a in atoms] + [("update", 1, "RT", True),
                                                                   ("update", 1, "RT", True)]
    out = build.run(ops)
    assert out == Reference(build).play(ops)
    steps = [line for line in out if "event_sleep" in line]
    names = steps[0].split(" x (")[1].split(") -> ")[0]
    assert len(names) == 63 and names.startswith("ab_sl,bl_on_rt_mu,cl_na,")


@settings(max_examples=EXAMPLES or 12, deadline=None, derandomize=not EXAMPLES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(f=formulas(max_leaves=6), data=st.data())
def test_random_calls_on_random_specs(f, data):
    spec, _ = load_ltl_text(f"RULE = {text(f)}\n", "r.ltl", "r")
    if spec is None or not spec.atoms or len(build_buchi(spec).states) > 32:
        return
    with tempfile.TemporaryDirectory() as tmp:
        build = build_ltl(spec, Path(tmp))
        _compare(build, data.draw(setups(spec.atoms)),
                 data.draw(calls(spec.atoms, 60, _witness(build))))


# --- hamodel replay reads what the kernel traced -------------------------------------------


def _tracefs(lines: list[str]) -> list[str]:
    """The driver's trace lines as tracefs prints them (`comm-pid [cpu] flags time: ...`)."""
    out = []
    for line in lines:
        t, kind, body = line.split(" ", 2)
        if kind == "trace":
            pid = body.split("[", 1)[1].split("]", 1)[0]
            out.append(f"  task{pid}-{pid} [000] d..1. 100.{int(t):06d}: {body}")
    return out


@pytest.mark.parametrize("name", ["pagefault", "sleep", "wakeup"])
def test_replay_of_the_kernels_trace_agrees_with_it(name, tmp_path_factory):
    """Every step the kernel printed is the reference's (cut atom lists included), every
    error_<m> follows a step to no state."""
    build = _build(name, tmp_path_factory)

    @settings(max_examples=EXAMPLES or 15, deadline=None, derandomize=not EXAMPLES,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(setup=setups(build.spec.atoms),
           ops=calls(build.spec.atoms, witness=_witness(build)))
    def check(setup, ops):
        trace = _tracefs(build.run(ops, setup))
        out = io.StringIO()
        s = replay_ftrace(build.spec, build.buchi, trace, Report(out, "text", build.buchi))
        note("\n".join(trace))
        assert (s.disagreements, s.violations, s.steps) == (
            0, sum("error_" in x for x in trace), sum("event_" in x for x in trace)), \
            out.getvalue()

    check()


# --- the tables, for every valuation ------------------------------------------------------


def _python_tables(build: LtlBuild) -> list[str]:
    mon = LtlMonitor(build.buchi)
    lines = []
    for atoms in range(1 << len(build.spec.atoms)):
        lines.append(f"start {atoms} {mon._start(atoms)}")
        lines += [f"next {atoms} {s} {mon.successors(1 << s, atoms)}"
                  for s in range(len(mon.edges))]
    return lines


# every valuation is 2^atoms lines: the 19 atoms of sleep@00f0dadd would take a minute
@pytest.mark.parametrize("name", ["pagefault", "sleep", "test_ltl", "wakeup"])
def test_the_tables_of_the_upstream_specs(name, tmp_path_factory):
    build = _build(name, tmp_path_factory)
    assert build.tables() == _python_tables(build)


@settings(max_examples=EXAMPLES or 10, deadline=None, derandomize=not EXAMPLES,
          suppress_health_check=[HealthCheck.too_slow])
@given(formulas(max_leaves=7))
def test_the_tables_of_random_specs(f):
    spec, _ = load_ltl_text(f"RULE = {text(f)}\n", "r.ltl", "r")
    if spec is None or not spec.atoms or len(build_buchi(spec).states) > 32:
        return
    with tempfile.TemporaryDirectory() as tmp:
        build = build_ltl(spec, Path(tmp))
        assert build.tables() == _python_tables(build)
