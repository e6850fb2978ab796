"""`hamodel export --format tchecker`: the file's syntax, the command, and TChecker's verdicts.

The syntax is checked here against TChecker's file format (its doc/file-format.md
and the lexers of its system and program parsers), read independently of the
exporter.  Where TChecker's `tck-reach` is on PATH, its reachability on the
exported automaton must equal hamodel's zone graph, location by location
(every state, every violation kind in every state), on the seeded models, the
upstream corpus and random models, for both same-instant orders, both timers
and a callback latency; and `hamodel check --reach/--violate` must answer as
`tck-reach -l` does.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import PARAM, automata

from hamodel.check import Options, check_automaton
from hamodel.check.timing import Unsupported, platform_timer
from hamodel.check.zones import ExplorationLimit, explore
from hamodel.export.tchecker import MAX_CONSTANT, ExportError, render, translate
from hamodel.load import load_model
from hamodel.semantics import Platform, Tie, Timer

SEEDED = sorted((ROOT / "tests" / "check_models").glob("*.dot"))
PARAMS = {"DEADLINE_NS": 1_000_000, "BUDGET_NS": 5_000_000, "LIMIT_NS": 3_000_000,
          "LOW_NS": 4_000, "threshold_jiffies": 10}
TCK_REACH = shutil.which("tck-reach")
NO_TCHECKER = ("TChecker's tck-reach is not on PATH (build github.com/ticktac-project/tchecker"
               " and put its tck-reach on PATH to compare its verdicts with hamodel's)")
PLATFORMS = [Platform(tie=tie, timer=timer, latency_ns=lat) for tie in Tie
             for timer in (None, Timer.WHEEL) for lat in (0, 3)]


def _values(a) -> dict[str, int]:
    return {p.name: PARAMS.get(p.name, 2_500) for p in a.parameters}


def _fixed(a, platform: Platform) -> Platform:
    return dataclasses.replace(platform, timer=platform_timer(a, platform))


# --- the file format, read independently ------------------------------------------------

DECL_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")  # system.ll {id}
EXPR_ID = re.compile(r"[A-Za-z_$][A-Za-z0-9_]*\Z")  # program.ll {id}
KEYWORDS = {"clock", "edge", "event", "int", "location", "process", "sync", "system",
            "if", "then", "else", "end", "while", "do", "local", "nop"}
ATOM = re.compile(r"([A-Za-z_$][A-Za-z0-9_]*)(==|<=|>=|<|>)(-?[0-9]+)\Z")
ASSIGN = re.compile(r"([A-Za-z_$][A-Za-z0-9_]*)=(-?[0-9]+)\Z")


def tck_problems(text: str) -> list[str]:
    """What in `text` TChecker's format does not allow (for the subset hamodel writes)."""
    problems: list[str] = []
    events: set[str] = set()
    clocks: set[str] = set()
    ints: dict[str, tuple[int, int]] = {}
    processes: set[str] = set()
    locations: set[str] = set()
    initial = 0
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    if not lines or not lines[0].startswith("system:"):
        problems.append("the first declaration is not `system`")

    def ident(name: str, expr: bool = False) -> bool:
        ok = (EXPR_ID if expr else DECL_ID).match(name) and name not in KEYWORDS
        if not ok:
            problems.append(f"{name!r} is not an identifier")
        return bool(ok)

    def conjunction(value: str, where: str) -> None:
        for atom in value.split("&&"):
            m = ATOM.match(atom.strip())
            if not m or (m[1] not in clocks and m[1] not in ints):
                problems.append(f"{where}: {atom.strip()!r} is not a declared comparison")
            elif m[1] in clocks and abs(int(m[3])) > MAX_CONSTANT:
                problems.append(f"{where}: {m[3]} is above TChecker's clock bounds")

    def attributes(body: str, allowed: set[str], where: str) -> dict[str, str]:
        found: dict[str, str] = {}
        if not body:
            return found
        for part in body.split(" : "):
            key, sep, value = part.partition(":")
            if not sep or key not in allowed or key in found:
                problems.append(f"{where}: bad attribute {part!r}")
            found[key] = value
        return found

    for line in lines:
        kind, _, rest = line.partition(":")
        if kind == "system":
            ident(rest)
        elif kind == "event":
            if ident(rest):
                events.add(rest)
        elif kind == "clock":
            size, _, name = rest.partition(":")
            if size == "1" and ident(name, expr=True):
                clocks.add(name)
        elif kind == "int":
            parts = rest.split(":")
            if len(parts) != 5 or parts[0] != "1" or not ident(parts[4], expr=True):
                problems.append(f"bad int declaration {line!r}")
            else:
                low, high, init = map(int, parts[1:4])
                if not low <= init <= high:
                    problems.append(f"{line!r}: initial value out of range")
                ints[parts[4]] = (low, high)
        elif kind == "process":
            if ident(rest):
                processes.add(rest)
        elif kind == "location":
            m = re.match(r"([^:]+):([^:{]+)\{(.*)\}\Z", rest)
            if not m or m[1] not in processes or not ident(m[2]) or m[2] in locations:
                problems.append(f"bad location {line!r}")
                continue
            locations.add(m[2])
            attrs = attributes(m[3], {"initial", "urgent", "labels", "invariant"}, m[2])
            initial += "initial" in attrs
            if "labels" in attrs and not all(
                    re.fullmatch(r"[^:@#,\s{}]+", x) for x in attrs["labels"].split(",")):
                problems.append(f"{m[2]}: bad labels {attrs['labels']!r}")
            if "invariant" in attrs:
                conjunction(attrs["invariant"], m[2])
        elif kind == "edge":
            m = re.match(r"([^:]+):([^:]+):([^:]+):([^:{]+)\{(.*)\}\Z", rest)
            if not m or m[1] not in processes or m[2] not in locations or (
                    m[3] not in locations) or m[4] not in events:
                problems.append(f"edge before its declarations, or malformed: {line!r}")
                continue
            attrs = attributes(m[5], {"provided", "do"}, line)
            if "provided" in attrs:
                conjunction(attrs["provided"], line)
            for stmt in attrs.get("do", "").split(";") if "do" in attrs else ():
                a = ASSIGN.match(stmt.strip())
                if not a or a[1] not in clocks and a[1] not in ints:
                    problems.append(f"{line}: {stmt.strip()!r} is not an assignment")
                elif a[1] in ints and not ints[a[1]][0] <= int(a[2]) <= ints[a[1]][1]:
                    problems.append(f"{line}: {stmt.strip()!r} is out of range")
        else:
            problems.append(f"unknown declaration {line!r}")
    if initial != 1:
        problems.append(f"{initial} initial locations, expected 1")
    return problems


def _exportable() -> list[Path]:
    return SEEDED + corpus("upstream", "tlob-proposal") + [ROOT / "models" / "tlob.dot"]


@pytest.mark.parametrize("path", _exportable(), ids=lambda p: p.name)
def test_every_export_is_well_formed(path):
    a, _ = load_model(path)
    assert a is not None
    for platform in PLATFORMS:
        try:
            text = render(translate(a, _values(a), _fixed(a, platform)))
        except Unsupported:
            assert path.name == "mixed_clocks.dot"
            return
        assert tck_problems(text) == [], text


def test_the_validator_catches_what_tchecker_refuses():
    good = render(translate(load_model(ROOT / "models" / "tlob.dot")[0], PARAMS,
                            _fixed(load_model(ROOT / "models" / "tlob.dot")[0], Platform())))
    assert tck_problems(good) == []
    assert tck_problems(good.replace("event:preempt\n", ""))  # used, not declared
    assert tck_problems(good.replace("clk_elapsed<=", "clk_elapsed=<", 1))
    assert tck_problems(good.replace("process:monitor", "process:event"))
    assert tck_problems(good.replace("{initial: : ", "{", 1))


def test_export_names_avoid_keywords_and_each_other(tmp_path):
    """A model whose names are TChecker keywords, or what the export adds, still exports."""
    model = tmp_path / "edge.dot"
    model.write_text(
        "digraph state_automaton {\n"
        '\t{node [shape = plaintext, style=invis, label=""] "__init_violation"};\n'
        '\t{node [shape = doublecircle] "violation"};\n'
        '\t{node [shape = circle] "monitor"};\n'
        '\t"__init_violation" -> "violation";\n'
        '\t"violation" [label = "violation"];\n'
        '\t"monitor" [label = "monitor\\nclock < 5ms"];\n'
        '\t"violation" -> "monitor" [ label = "event;reset(clock)" ];\n'
        '\t"monitor" -> "violation" [ label = "timer;set_clock > 1" ];\n'
        "}\n")
    a, diags = load_model(model)
    assert a is not None, diags
    text = render(translate(a, {}, _fixed(a, Platform())))
    assert tck_problems(text) == []
    assert "\nevent:event_2\n" in text and "\nevent:timer\n" in text
    assert "\nevent:timer_2\n" in text and "\nclock:1:clock_2\n" in text
    assert "int:1:0:1:0:set_clock_2\n" in text and "labels:violation_2," in text


# --- the command ---------------------------------------------------------------------


def _hamodel(*args: str, cwd: Path = ROOT, seed: str = "0") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED=seed)
    return subprocess.run([sys.executable, "-m", "hamodel", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def test_export_command_writes_the_file_whole_and_deterministically(tmp_path):
    out = tmp_path / "tlob.tck"
    done = _hamodel("export", "--format", "tchecker", "models/tlob.dot", "--param",
                    "BUDGET_NS=5000000", "-o", str(out))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    text = out.read_text()
    assert tck_problems(text) == []
    again = _hamodel("export", "--format", "tchecker", "models/tlob.dot", "--param",
                     "BUDGET_NS=5000000", seed="123")
    assert again.returncode == 0 and again.stdout == text
    assert "# platform: hrtimer, event-first, timer latency 0 ns, HZ=250; time in ns\n" in text
    assert ("location:monitor:running.armed{initial: : labels:running :"
            " invariant:clk_elapsed<=5000000}") in text
    assert ("edge:monitor:running.armed:running.timer:timer{provided:clk_elapsed>=5000000}"
            in text)
    late = _hamodel("export", "--format", "tchecker", "models/tlob.dot", "--param",
                    "BUDGET_NS=5000000", "--tie", "timer-first", "--timer-latency", "2us")
    assert "invariant:clk_elapsed<=5002000}" in late.stdout
    assert "edge:monitor:running.armed:waiting.armed:preempt{provided:clk_elapsed<=5000000}" \
        in late.stdout  # events after the bound fail the check, before the late callback


def test_export_refuses_with_clear_errors(tmp_path):
    missing = _hamodel("export", "--format", "tchecker", "models/tlob.dot")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == ("hamodel export: give a value to every parameter:"
                              " --param BUDGET_NS=VALUE\n")
    unknown = _hamodel("export", "--format", "tchecker", "models/tlob.dot", "--param",
                       "BUDGET_NS=5", "--param", "NOPE=3")
    assert unknown.returncode == 2
    assert unknown.stderr == "hamodel export: --param NOPE: the model has no such parameter\n"
    huge = _hamodel("export", "--format", "tchecker", "models/tlob.dot", "--param",
                    f"BUDGET_NS={MAX_CONSTANT}")
    assert huge.returncode == 2 and "Traceback" not in huge.stderr
    head, quoted, caret = huge.stderr.splitlines()[:3]
    assert re.match(r"models/tlob\.dot:\d+:\d+: error\[HA401\]: the invariant of 'running'"
                    r" needs clock constants up to \d+ ns, above TChecker's limit", head)
    line, column = int(head.split(":")[1]), int(head.split(":")[2])
    assert quoted == "    " + (ROOT / "models" / "tlob.dot").read_text().splitlines()[line - 1]
    assert caret.index("^") == len("    ") + column - 1  # the caret under the column
    mixed = _hamodel("export", "--format", "tchecker", "tests/check_models/mixed_clocks.dot")
    assert mixed.returncode == 2
    assert "error[HA402]: clocks of both ns and jiffies in one model" in mixed.stderr
    bad = _hamodel("export", "--format", "tchecker", "models/tlob.dot", "--param",
                   "BUDGET_NS=5", "--timer-latency", "soon")
    assert bad.returncode == 2 and bad.stderr.startswith("hamodel export: --timer-latency")
    ltl = _hamodel("export", "--format", "tchecker", "models/pagefault.ltl")
    assert ltl.returncode == 2 and ltl.stderr == (
        "hamodel export: models/pagefault.ltl is an LTL spec; --format tchecker takes a .dot"
        " automaton\n")
    (tmp_path / "folder.ltl").mkdir()  # found in review: was called an LTL spec
    folder = _hamodel("export", "--format", "tchecker", str(tmp_path / "folder.ltl"))
    assert folder.returncode == 2 and "LTL spec" not in folder.stderr
    assert "Traceback" not in folder.stderr and "folder.ltl" in folder.stderr
    twice = _hamodel("export", "--format", "tchecker", "models/tlob.dot", "--param",
                     "BUDGET_NS=5", "--param", "BUDGET_NS=7")
    assert twice.returncode == 2 and twice.stderr == (
        "hamodel export: --param 'BUDGET_NS=7': BUDGET_NS is given twice\n")
    nofile = _hamodel("export", "--format", "tchecker", str(tmp_path / "none.dot"))
    assert nofile.returncode == 2 and "Traceback" not in nofile.stderr
    (tmp_path / "a_file").write_text("")
    unwritable = _hamodel("export", "--format", "tchecker", "models/tlob.dot", "--param",
                          "BUDGET_NS=5", "-o", str(tmp_path / "a_file" / "x.tck"))
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr


# --- TChecker's own verdicts ---------------------------------------------------------


def _tck_locations(path: Path) -> set[str]:
    """Every location tck-reach reaches (its explored graph, no label searched)."""
    done = subprocess.run([TCK_REACH, "-a", "reach", "-C", "graph", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return set(re.findall(r'vloc="<([^>]*)>"', done.stdout))


def _tck_reaches(path: Path, label: str) -> bool:
    done = subprocess.run([TCK_REACH, "-a", "covreach", "-l", label, str(path)],
                          capture_output=True, text=True, timeout=300)
    if "Unknown label" in done.stdout + done.stderr:
        return False  # no location has it
    assert done.returncode == 0, done.stderr
    return "REACHABLE true" in done.stdout


def _agree(a, params, platform: Platform, where: Path) -> None:
    """tck-reach reaches exactly the states and violations the zone graph has."""
    try:
        g = explore(a, params, platform, budget_s=10)
        text = render(translate(a, params, platform))
    except (Unsupported, ExplorationLimit, ExportError):
        return
    where.write_text(text)
    reached = [loc.split(".") for loc in _tck_locations(where)]
    seen = {state for state, mode in reached if mode in ("none", "armed", "expired")}
    assert seen == set(g.reached), (platform, text)
    kinds = {"invalid_event": {s for s, _ in g.invalid_event},
             "guard": {s for s, _ in g.guard_violation},
             "late": {s for s, _ in g.late_event}, "timer": set(g.timer)}
    for kind, states in kinds.items():
        assert {state for state, k in reached if k == kind} == states, (kind, platform, text)


@pytest.mark.skipif(TCK_REACH is None, reason=NO_TCHECKER)
@pytest.mark.parametrize("path", _exportable(), ids=lambda p: p.name)
def test_tck_reach_agrees_with_the_zone_graph(path, tmp_path):
    a, _ = load_model(path)
    assert a is not None
    for platform in PLATFORMS:
        _agree(a, _values(a), _fixed(a, platform), tmp_path / "model.tck")


@pytest.mark.skipif(TCK_REACH is None, reason=NO_TCHECKER)
@pytest.mark.parametrize("path", SEEDED, ids=lambda p: p.name)
def test_tck_reach_answers_check_reach_and_violate(path, tmp_path):
    """`hamodel check --reach S --violate --tie T` and `tck-reach -l S` / `-l violation`."""
    a, diags = load_model(path)
    assert a is not None
    if path.name == "mixed_clocks.dot":
        return
    params = _values(a)
    for tie in Tie:
        report = check_automaton(a, Options(params, 30.0, tuple(s.name for s in a.states),
                                            True, tie=tie), diags)
        answers = dict(report.queries)
        where = tmp_path / f"{tie.value}.tck"
        where.write_text(render(translate(a, params, _fixed(a, Platform(tie=tie)))))
        for s in a.states:
            assert _tck_reaches(where, s.name) == answers[f"reach {s.name}"], (s.name, tie)
        assert _tck_reaches(where, "violation") == answers["violate"], tie


@pytest.mark.skipif(TCK_REACH is None, reason=NO_TCHECKER)
@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(automata(max_states=3, max_edges=6), st.sampled_from(PLATFORMS))
def test_tck_reach_agrees_on_random_models(tmp_path, a, platform):
    _agree(a, {PARAM: 3_000} if a.parameters else {}, _fixed(a, platform),
           tmp_path / "random.tck")


def test_export_takes_a_name_as_the_error_for_a_bad_file_name_advises(tmp_path):
    """Found in review: the advice "rename the file or pass -n" named an option that
    export did not have."""
    model = tmp_path / "1abc.dot"
    model.write_text((ROOT / "models" / "tlob.dot").read_text())
    refused = _hamodel("export", "--format", "tchecker", str(model), "--param", "BUDGET_NS=5")
    assert refused.returncode == 2 and "pass -n" in refused.stderr
    named = _hamodel("export", "--format", "tchecker", str(model), "-n", "tlob", "--param",
                     "BUDGET_NS=5")
    plain = _hamodel("export", "--format", "tchecker", "models/tlob.dot", "--param",
                     "BUDGET_NS=5")
    assert named.returncode == 0 and named.stdout == plain.stdout
