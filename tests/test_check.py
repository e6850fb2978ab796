"""`hamodel check`: seeded defects at their lines, probes, real models, CLI, outputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from conftest import MODELS, ROOT, corpus

from hamodel.check import Options, Report, check_automaton
from hamodel.check.witness import confirms
from hamodel.cli import main
from hamodel.diagnostics import CODES
from hamodel.load import load_model
from hamodel.semantics import Tie

SEEDED = sorted((ROOT / "tests" / "check_models").glob("*.dot"))
REAL = corpus("upstream", "upstream-history", "tlob-proposal") + [ROOT / "models" / "tlob.dot"]
EXPECT = re.compile(r"//\s*E:\s*(.+)$")


@cache
def checked(path: Path, violate: bool = False) -> Report:
    a, diags = load_model(path)
    assert a is not None, diags
    reach = tuple(s.name for s in a.states)
    return check_automaton(a, Options(reach=reach, violate=violate, timeout_s=60), diags)


def expected(path: Path) -> set[tuple[int, str]]:
    out = set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            out |= {(number, code.strip()) for code in m.group(1).split(",")}
    return out


def check_codes(report: Report) -> set[tuple[int, str]]:
    """(line, code) of every HA1xx finding but the query answers."""
    return {
        (f.diagnostic.span.line if f.diagnostic.span else 0, f.diagnostic.code)
        for f in report.findings
        if CODES[f.diagnostic.code].number.startswith("HA1")
        and not f.diagnostic.code.startswith("query-")
    }


@pytest.mark.parametrize("path", SEEDED, ids=lambda p: p.stem)
def test_seeded_defect_found_at_its_line(path):
    want = expected(path)
    assert check_codes(checked(path)) == want


def test_every_check_code_is_seeded_or_documented():
    seeded = {code for p in SEEDED for _, code in expected(p)}
    docs = (ROOT / "docs" / "check.md").read_text()
    for slug, info in CODES.items():
        if info.number.startswith("HA1"):
            assert info.number in docs and slug in docs, slug
    assert len(seeded) >= 15


@pytest.mark.parametrize("path", SEEDED + REAL, ids=lambda p: p.stem)
def test_every_witness_replays_to_its_verdict(path):
    a, _ = load_model(path)
    report = checked(path, violate=True)
    witnessed = [f for f in report.findings if f.witness is not None]
    skipped = any(f.diagnostic.code == "timed-analysis-skipped" for f in report.findings)
    assert witnessed or skipped  # --reach of the initial state at least
    for f in witnessed:
        assert confirms(a, f.witness), f.diagnostic.message
    assert not any(f.diagnostic.code == "witness-not-confirmed" for f in report.findings)
    assert not report.incomplete


def test_timed_answer_differs_from_untimed():
    # b has an edge into it, but `x > 3ms` after `x < 2ms` without a reset never holds.
    report = checked(ROOT / "tests" / "check_models" / "timed_unreachable.dot")
    assert ("reach b", False) in report.queries and ("reach a", True) in report.queries


def test_parameter_threshold_witness():
    report = checked(ROOT / "tests" / "check_models" / "param_dependent.dot")
    [f] = [f for f in report.findings if f.diagnostic.code == "parameter-dependent"]
    # c needs x > 3ms first, then x < LIMIT_NS: LIMIT_NS must exceed 3ms + 1ns.
    assert dict(f.witness.params)["LIMIT_NS"] > 3_000_001


# --- the real models: what rvgen never said ---------------------------------------------

REAL_FINDINGS = {
    "nomiss.dot": {
        (15, "invariant-false-on-entry"),
        (30, "invariant-false-on-entry"),
        (31, "invariant-false-on-entry"),
        (18, "invariant-on-unset-clock"),
        (24, "invariant-on-unset-clock"),
        (18, "small-uptime-wrap"),
    },
    "tlob-v2.dot": {(10, "violation-by-design"), (10, "small-uptime-wrap")},
    "tlob.dot": {(10, "violation-by-design"), (10, "small-uptime-wrap")},
    "tlob-v3.dot": {
        (11, "invariant-on-unset-clock"),
        (12, "invariant-on-unset-clock"),
        (13, "invariant-on-unset-clock"),
        (11, "small-uptime-wrap"),
    },
    "tlob-stopped.dot": {(11, "small-uptime-wrap")},
}


@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_model_findings(path):
    report = checked(path)
    assert check_codes(report) == REAL_FINDINGS.get(path.name, set())
    assert not report.has_errors  # the upstream corpus checks clean of errors


# --- the probes: the diagnosis their README implies -------------------------------------

PROBES = {
    "nondet.dot": (1, "edge-not-in-table"),
    "dupedge.dot": (0, "repeated-edge-statement"),
    "labeltwice.dot": (2, "label-twice"),
    "twoinit.dot": (2, "init-marker"),
    "unreach.dot": (0, "unreachable-state"),
    "nolabeledge.dot": (2, "unlabelled-edge"),
    "barenode.dot": (2, "bare-node"),
    "twoclocks.dot": (0, "kernel-limit"),
    "invnonclock.dot": (2, "invariant-not-clock"),
    "nounit.dot": (0, "clock-without-unit"),
    "unitconst.dot": (0, "unit-after-symbol"),
    "tworesets.dot": (0, "kernel-limit"),
    "decimal.dot": (0, None),
    "comment.dot": (0, None),
    "chain.dot": (2, "edge-chain"),
}


def test_probe_table_is_complete():
    assert {p.name for p in (MODELS / "rvgen-probes").glob("*.dot")} == set(PROBES)


@pytest.mark.parametrize("name", sorted(PROBES))
def test_probe_diagnosis(name, capsys):
    rc, code = PROBES[name]
    assert main(["check", "--format", "json", str(MODELS / "rvgen-probes" / name)]) == rc
    out = json.loads(capsys.readouterr().out)
    names = {d["name"] for d in out["files"][0]["diagnostics"]}
    if code:
        assert code in names


def test_all_probes_at_once_through_the_real_command():
    """A separate process, so a crash would show as a traceback on stderr."""
    import subprocess
    import sys

    probes = sorted(str(p) for p in (MODELS / "rvgen-probes").glob("*.dot"))
    proc = subprocess.run([sys.executable, "-m", "hamodel", "check", "--format", "json", *probes],
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == max(rc for rc, _ in PROBES.values())
    assert len(json.loads(proc.stdout)["files"]) == len(probes)


# --- CLI: exit codes, several files, queries, formats -----------------------------------


def seeded(name: str) -> str:
    return str(ROOT / "tests" / "check_models" / f"{name}.dot")


def test_exit_codes(tmp_path, capsys):
    assert main(["check", seeded("joined"), seeded("vacuous")]) == 0
    assert main(["check", seeded("joined"), seeded("overlap")]) == 1
    assert main(["check", str(tmp_path / "missing.dot")]) == 2
    assert main(["check", seeded("joined"), "--param", "X=ten"]) == 2
    assert main(["check", seeded("joined"), "--param", "NOPE=3"]) == 2
    assert main(["check", seeded("joined"), "--reach", "nowhere"]) == 2
    for bad in ("nan", "inf", "0", "-1"):
        assert main(["check", seeded("joined"), "--timeout", bad]) == 2
    for bad in (["--timer-latency", "-1"], ["--timer", "tick"], ["--tie", "both"],
                ["--hz", "0"], ["-t", "per_thread"]):
        assert _exit_code(["check", seeded("joined"), *bad]) == 2, bad
    assert main(["check", seeded("by_design"), "--timeout", "0.000001"]) == 3


def _exit_code(argv: list[str]) -> int:
    """main's exit status, also when argparse refuses the command line."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_queries(capsys):
    assert main(["check", seeded("timed_unreachable"), "--reach", "a"]) == 1  # dead guard
    assert main(["check", seeded("param_dependent"), "--reach", "b"]) == 0
    text = capsys.readouterr().out
    assert "state 'b' is reachable" in text and "t=3000001 e1" in text
    # the edge to c is not in the kernel's table: c is never reached
    assert main(["check", seeded("disjoint"), "--reach", "c"]) == 1
    assert main(["check", seeded("vacuous"), "--reach", "b", "--violate"]) == 0
    assert main(["check", seeded("total"), "--violate"]) == 1
    assert "no violation can be reported" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name, param, message",
    [
        ("param_dependent", "LIMIT_NS", "iff LIMIT_NS >= 3000002"),
        ("param_lower", "LOW_NS", "iff LOW_NS <= 4999999"),
    ],
)
def test_parameter_threshold_is_exact(name, param, message, capsys):
    """The threshold found without --param agrees with fixing the parameter on both sides."""
    main(["check", seeded(name)])
    text = capsys.readouterr().out
    assert message in text
    bound = int(message.rsplit(" ", 1)[1])
    inside, outside = (bound, bound - 1) if ">=" in message else (bound, bound + 1)
    state = "c" if name == "param_dependent" else "b"
    assert main(["check", seeded(name), "--param", f"{param}={inside}", "--reach", state]) == 0
    assert main(["check", seeded(name), "--param", f"{param}={outside}", "--reach", state]) == 1


def test_json_and_sarif(capsys):
    main(["check", "--format", "json", seeded("overlap"), seeded("entry")])
    doc = json.loads(capsys.readouterr().out)
    assert [Path(f["file"]).stem for f in doc["files"]] == ["overlap", "entry"]
    [d] = [d for d in doc["files"][0]["diagnostics"] if d["code"] == "HA111"]
    assert d["location"]["line"] == 9 and d["witness"]["events"][0]["event"] == "e1"
    main(["check", "--format", "sarif", seeded("overlap"), seeded("entry")])
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == sorted(rules)
    for res in run["results"]:
        assert rules[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
        region = res["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1
    assert {"HA111", "HA115"} <= {r["ruleId"] for r in run["results"]}


def test_output_is_deterministic_across_hash_seeds():
    files = [str(MODELS / "upstream/deadline/nomiss.dot"), seeded("overlap"),
             seeded("env_guard"), seeded("param_dependent")]
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run(
            [sys.executable, "-m", "hamodel", "check", "--format", "sarif", *files],
            capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
        )
        assert proc.returncode == 1, proc.stderr
        outs.append(proc.stdout)
    assert outs[0] == outs[1]


def test_parameter_region_of_a_finding(capsys):
    """Z3's quantifier elimination gives the values a finding's event sequence needs."""
    main(["check", seeded("param_entry")])
    # the framework checks clk <= LIMIT_NS, and the guard lets clk reach 1999999
    assert "this event sequence needs LIMIT_NS <= 1999998" in capsys.readouterr().out
    for value, found in ((1999998, True), (1999999, False)):
        main(["check", "--format", "json", seeded("param_entry"), "--param", f"LIMIT_NS={value}"])
        names = {d["name"] for d in json.loads(capsys.readouterr().out)["files"][0]["diagnostics"]}
        assert ("invariant-false-on-entry" in names) == found
    main(["check", str(MODELS / "upstream/deadline/nomiss.dot")])
    text = capsys.readouterr().out
    # the three entries of HA115 (HA116's witnesses read no parameter)
    assert text.count("this holds for every positive value of the parameters") == 3


def test_spacer_proofs_for_every_parameter_value():
    from hamodel.check.proof import prove

    a, _ = load_model(seeded("param_proof"))
    proof = prove(a, ("state", "b"), {})
    assert proof is not None and dict(proof.invariants)["b"] == "False"
    assert prove(a, ("edge", 0), {}) is not None  # a -e1-> b: x > LIMIT_NS under x < LIMIT_NS
    reachable, _ = load_model(seeded("param_dependent"))
    assert prove(reachable, ("state", "c"), {}) is None  # c is reachable for large LIMIT_NS
    assert prove(reachable, ("state", "c"), {"LIMIT_NS": 3_000_001}) is not None


def test_tlob_v3_budget_per_state_visit():
    """What HA116 on tlob-v3 means (docs/check.md): without the `start` event the
    budget restarts at every state entry, so 20 ms pass within a 5 ms budget."""
    from hamodel.semantics import Monitor, StopResult

    a, _ = load_model(MODELS / "tlob-proposal" / "tlob-v3.dot")
    m = Monitor(a, params={"BUDGET_NS": 5_000_000})
    m.start(1, 0)
    out = []
    for t, event in ((4, "preempt"), (8, "switch_in"), (12, "preempt"), (16, "switch_in")):
        out += m.event(1, t * 1_000_000, event)
    assert [o.dst for o in out] == ["waiting", "running", "waiting", "running"]
    assert m.stop(1, 20_000_000)[0] is StopResult.STOPPED


def test_a_checker_bug_is_reported_not_a_traceback(monkeypatch, capsys):
    import hamodel.check.command as command

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(command, "check_automaton", broken)
    assert main(["check", seeded("overlap")]) == 3
    out = capsys.readouterr().out
    assert "internal error in the checker (RuntimeError: boom)" in out


# --- the framework's circumstances: same-instant order, timer kind, monitor type --------


def test_a_finding_of_one_order_is_a_warning_that_says_so():
    """tie.dot: e1 at exactly 1ms passes a's check and guard only when it runs before
    the timer due at that nanosecond; the kernel's race allows both orders."""
    report = checked(ROOT / "tests" / "check_models" / "tie.dot")
    one_order = [f for f in report.findings if "[only when" in f.diagnostic.message
                 and not f.diagnostic.code.startswith("query-")]
    assert {f.diagnostic.code for f in one_order} == {
        "timed-unreachable", "dead-guard", "inevitable-violation"}
    for f in one_order:
        assert f.diagnostic.severity.value == "warning" and "(proved)" not in f.diagnostic.message
        assert "the timer's callback runs before the event" in f.diagnostic.message
    a, diags = load_model(ROOT / "tests" / "check_models" / "tie.dot")
    first = check_automaton(a, Options(tie=Tie.EVENT_FIRST), diags)
    assert not {"timed-unreachable", "dead-guard"} & {f.diagnostic.code for f in first.findings}
    timer = check_automaton(a, Options(tie=Tie.TIMER_FIRST), diags)
    [dead] = [f for f in timer.findings if f.diagnostic.code == "dead-guard"]
    assert dead.diagnostic.is_error and "[only when" not in dead.diagnostic.message


def test_reach_answer_of_one_order(capsys):
    assert main(["check", seeded("tie"), "--reach", "b"]) == 0
    assert "state 'b' is reachable [only when the event runs before" in capsys.readouterr().out
    assert main(["check", seeded("tie"), "--reach", "b", "--tie", "timer-first"]) == 1


def test_implicit_monitor_with_clocks(capsys):
    tlob = str(ROOT / "models" / "tlob.dot")
    assert main(["check", "--format", "json", "-t", "per_cpu", tlob]) == 1
    doc = json.loads(capsys.readouterr().out)
    [d] = [d for d in doc["files"][0]["diagnostics"] if d["code"] == "HA127"]
    assert d["severity"] == "error" and d["witness"]["events"] == []
    assert main(["check", "-t", "per_obj", tlob]) == 0
    assert main(["check", "-t", "global", seeded("total")]) == 0  # no clocks: a DA monitor
    capsys.readouterr()


def test_timer_option_changes_the_timing(capsys):
    """tlob on the timer wheel: the 5 ms budget fires at a jiffy boundary after it, and
    the analysis says it cannot know which one (HA128); on an hrtimer, at 5 ms."""
    tlob = str(ROOT / "models" / "tlob.dot")
    main(["check", "--format", "json", tlob, "--param", "BUDGET_NS=5000000", "--violate"])
    doc = json.loads(capsys.readouterr().out)
    [v] = [d for d in doc["files"][0]["diagnostics"] if d["code"] == "HA131"]
    assert v["witness"]["timer_ns"] == 5_000_000
    assert v["witness"]["platform"]["timer"] == "hrtimer"
    main(["check", "--format", "json", tlob, "--param", "BUDGET_NS=5000000", "--violate",
          "--timer", "wheel"])
    doc = json.loads(capsys.readouterr().out)
    codes = {d["code"] for d in doc["files"][0]["diagnostics"]}
    assert "HA128" in codes
    [v] = [d for d in doc["files"][0]["diagnostics"] if d["code"] == "HA131"]
    assert v["witness"]["timer_ns"] > 5_000_000 and v["witness"]["platform"]["timer"] == "wheel"
