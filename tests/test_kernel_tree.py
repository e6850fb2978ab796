"""`hamodel check --kernel-tree` on real kernel trees and on trees with planted drift.

Trees: Debian's linux-source-6.12 (its own wip/wwnr models and monitors), the same
tree with the newest RV files of ../shared overlaid (conftest.overlay_newest_rv),
and copies of that one with one mistake planted each: every planting must give
exactly the one finding it should, naming the in-tree file and the model's line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NO_SHARED, ROOT, SHARED

DRIFT = {f"HA2{n:02d}" for n in range(1, 13)}
WIRING = {"HA220", "HA221", "HA222", "HA223", "HA224"}


def hamodel(*args: str, cwd: Path | None = None, seed: str = "0"):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED=seed)
    return subprocess.run([sys.executable, "-m", "hamodel", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=600)


def tree_json(tree: Path, *extra: str) -> tuple[int, list[dict], str]:
    done = hamodel("check", "--kernel-tree", str(tree), "--format", "json", *extra)
    data = json.loads(done.stdout)
    return done.returncode, data["files"], done.stderr


def findings(files: list[dict], codes: set[str]) -> list[dict]:
    return [d for f in files for d in f["diagnostics"] if d["code"] in codes]


@pytest.fixture
def newest_copy(newest_rv_tree, tmp_path) -> Path:
    dest = tmp_path / "linux"
    shutil.copytree(newest_rv_tree, dest)
    return dest


# --- real trees -----------------------------------------------------------------------


def test_linux_612_is_clean(linux_612):
    status, files, _ = tree_json(linux_612)
    assert status == 0
    names = [Path(f["file"]).name for f in files]
    assert names == ["wip.dot", "wwnr.dot"]  # no build-file report: nothing wrong there
    assert findings(files, DRIFT | WIRING) == []


def test_newest_rv_files_give_no_drift(newest_rv_tree):
    status, files, stderr = tree_json(newest_rv_tree)
    models = sorted(Path(f["file"]).name for f in files if f["file"].endswith(".dot"))
    assert models == sorted(p.name for p in (SHARED / "models/upstream").rglob("*.dot"))
    # Two in-tree headers differ from generated ones in padding only: no drift at all.
    assert findings(files, DRIFT) == []
    # The kit has no snep, sleep or wakeup monitor, which the newest RV files name.
    dangling = findings(files, {"HA223"})
    where = sorted((Path(d["location"]["file"]).name, d["location"]["line"]) for d in dangling)
    assert where == [("Kconfig", 69), ("Kconfig", 78), ("Kconfig", 79), ("Makefile", 12),
                     ("Makefile", 23), ("rv_trace.h", 63), ("rv_trace.h", 243),
                     ("rv_trace.h", 244)]
    assert findings(files, WIRING - {"HA223"}) == []
    assert status == 1
    assert stderr == ""  # every model is read: the LTL specs too (tests/test_kernel_tree_ltl.py)


def test_every_in_tree_monitor_with_a_model_is_compared(newest_rv_tree):
    from hamodel.check import Options
    from hamodel.tree.command import check_tree

    result = check_tree(str(newest_rv_tree), Options())
    assert sorted(result.monitors) == ["nomiss", "nrp", "opid", "pagefault", "sco", "scpd",
                                       "snroc", "sssw", "stall", "sts", "wip", "wwnr"]


# --- planted drift ---------------------------------------------------------------------

M = "kernel/trace/rv/monitors"
# (file, text, replacement, code, message part, line of the finding in that file)
PLANTED = [
    (f"{M}/stall/stall.c", "time_ns, threshold_jiffies);", "time_ns, threshold_jiffies + 1);",
     "HA207", "model says `clk < threshold_jiffies` in enqueued, stall.c:41 checks"
     " `clk <= threshold_jiffies`", 41),
    (f"{M}/stall/stall.c", "clk_stall, threshold_jiffies, time_ns);",
     "clk_stall, threshold_jiffies * 1000ull, time_ns);", "HA207",
     "model says `clk < threshold_jiffies` in enqueued, stall.c:65 arms its timer for"
     " `clk < threshold_jiffies us`", 65),
    (f"{M}/stall/stall.c", "return ha_get_clk_jiffy(ha_mon, env);",
     "return ha_get_clk_ns(ha_mon, env, time_ns);", "HA211", "reads clk with ha_get_clk_ns", 25),
    (f"{M}/stall/stall.c", "\telse if (curr_state == running_stall && event =="
     " sched_switch_preempt_stall)\n\t\tha_reset_env(ha_mon, clk_stall, time_ns);\n", "",
     "HA209", "ha_verify_guards() has no case for running x sched_switch_preempt", 0),
    (f"{M}/stall/stall.h", "\t\t{\n\t\t\tINVALID_STATE,", "\t\t{\n\t\t\tenqueued_stall,",
     "HA204", "dequeued x sched_switch_in -> enqueued, the model says no transition", 61),
    (f"{M}/nomiss/nomiss.c", "is_defer_nomiss, time_ns) == 1ull;",
     "is_defer_nomiss, time_ns) == 0ull;", "HA208",
     "model says `is_defer == 1` on ready -dl_throttle-> throttled, nomiss.c:75 checks"
     " `is_defer == 0`", 75),
    (f"{M}/nomiss/nomiss.c", "#define HA_TIMER_TYPE HA_TIMER_WHEEL\n", "", "HA210",
     "defines no HA_TIMER_TYPE", 0),
    (f"{M}/nomiss/nomiss.h", "\tenv_max_stored_nomiss = is_constr_dl_nomiss,",
     "\tenv_max_stored_nomiss = is_defer_nomiss,", "HA203",
     "the header stores is_constr_dl", 0),
    (f"{M}/sco/sco.h", '"scheduling_context",', '"sched_context",', "HA206",
     '.state_names[1] is "sched_context" but enum constant 1 is scheduling_context', 36),
    (f"{M}/wwnr/wwnr.h", ".initial_state = not_running_wwnr,", ".initial_state = running_wwnr,",
     "HA205", "the header's initial state is running, the model's is not_running", 0),
    (f"{M}/wwnr/wwnr.h", ".final_states = { 1, 0 },", ".final_states = { 1, 1 },", "HA205",
     "final_states marks running final, the model does not make it final", 0),
    (f"{M}/sssw/sssw.h", "\tsignal_deliver_sssw,\n", "", "HA202",
     "the model has the event signal_deliver, the header's enum does not", 0),
    ("tools/verification/models/stall.dot", "clk < threshold_jiffies", "clk < 2j", "HA207",
     "model says `clk < 2j` in enqueued, stall.c:41 checks (and stall.c:65 arms its timer for)"
     " `clk < threshold_jiffies`", 41),
    ("tools/verification/models/sched/opid.dot", "irq_off == 1 && preempt_off == 1",
     "irq_off == 1 || preempt_off == 1", "HA208",
     "model says `irq_off == 1 || preempt_off == 1` on any -sched_waking-> any", 0),
]


@pytest.mark.parametrize("rel, old, new, code, message, line", PLANTED,
                         ids=[f"{p[3]}-{Path(p[0]).name}-{i}" for i, p in enumerate(PLANTED)])
def test_planted_drift_gives_one_finding(newest_copy, rel, old, new, code, message, line):
    path = newest_copy / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    status, files, _ = tree_json(newest_copy)
    drift = findings(files, DRIFT)
    assert [d["code"] for d in drift] == [code], drift
    d = drift[0]
    assert message in d["message"]
    assert status == 1
    monitor = Path(d["location"]["file"])
    assert monitor.parent.parent.name == "monitors"  # in the in-tree monitor ...
    if line:
        assert d["location"]["line"] == line
    assert any(n["location"] and n["location"]["file"].endswith(".dot") for n in d["notes"])


@pytest.mark.parametrize("rel, old, new", [
    # hand-edited padding and a reordered `&&`: the same tables, the same guard
    (f"{M}/sco/sco.h", "\tthread_context_sco,", "\tthread_context_sco = 0,"),
    (f"{M}/opid/opid.c", "res = ha_get_env(ha_mon, irq_off_opid, time_ns) == 1ull &&\n"
     "\t\t      ha_get_env(ha_mon, preempt_off_opid, time_ns) == 1ull;",
     "res = ha_get_env(ha_mon, preempt_off_opid, time_ns) == 1 &&"
     " (ha_get_env(ha_mon, irq_off_opid, time_ns) == 1);"),
    (f"{M}/stall/stall.c", "time_ns, threshold_jiffies);", "time_ns,\n\t\t\tthreshold_jiffies);"),
])
def test_spelling_is_not_drift(newest_copy, rel, old, new):
    path = newest_copy / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    _, files, _ = tree_json(newest_copy)
    assert findings(files, DRIFT) == []


def test_a_shape_hamodel_cannot_read_is_said_not_guessed(newest_copy):
    path = newest_copy / M / "stall/stall.c"
    text = path.read_text().replace(
        "\tif (curr_state == enqueued_stall)\n\t\treturn ha_check_invariant_jiffy",
        "\tswitch (curr_state) { default: break; }\n\tif (curr_state == enqueued_stall)\n"
        "\t\treturn ha_check_invariant_jiffy", 1)
    path.write_text(text)
    _, files, _ = tree_json(newest_copy)
    drift = findings(files, DRIFT)
    assert [d["code"] for d in drift] == ["HA212"]
    assert d_is_warning(drift[0])
    assert "ha_verify_invariants(): unexpected `switch`" in drift[0]["message"]


def d_is_warning(d: dict) -> bool:
    return d["severity"] == "warning"


# --- wiring ----------------------------------------------------------------------------

RV = "kernel/trace/rv"


@pytest.mark.parametrize("rel, old, new, code, message", [
    (f"{RV}/Makefile", "obj-$(CONFIG_RV_MON_WWNR) += monitors/wwnr/wwnr.o\n", "", "HA220",
     "the Makefile builds no monitors/wwnr/wwnr.o"),
    (f"{RV}/Kconfig", 'source "kernel/trace/rv/monitors/sco/Kconfig"\n', "", "HA221",
     "does not source monitors/sco/Kconfig"),
    (f"{RV}/rv_trace.h", "#include <monitors/stall/stall_trace.h>\n", "", "HA222",
     "does not include <monitors/stall/stall_trace.h>"),
    (f"{RV}/rv_trace.h", "#include <monitors/wwnr/wwnr_trace.h>\n", "", "HA222", "wwnr"),
])
def test_wiring(newest_copy, rel, old, new, code, message):
    path = newest_copy / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    _, files, _ = tree_json(newest_copy)
    found = findings(files, WIRING - {"HA223"})
    assert [d["code"] for d in found] == [code]
    assert message in found[0]["message"]
    assert found[0]["notes"][0]["location"]["file"].endswith(".c")


def test_trace_header_under_the_wrong_class(newest_copy):
    path = newest_copy / RV / "rv_trace.h"
    text = path.read_text().replace("#include <monitors/wwnr/wwnr_trace.h>\n", "", 1)
    text = text.replace("#include <monitors/wip/wip_trace.h>\n",
                        "#include <monitors/wip/wip_trace.h>\n"
                        "#include <monitors/wwnr/wwnr_trace.h>\n", 1)
    path.write_text(text)
    _, files, _ = tree_json(newest_copy)
    found = findings(files, {"HA224"})
    assert len(found) == 1
    assert "CONFIG_DA_MON_EVENTS_IMPLICIT, but monitors/wwnr/Kconfig selects DA_MON_EVENTS_ID" \
        in found[0]["message"]


# --- output and changes ------------------------------------------------------------------


def test_sarif_is_valid_and_identical_across_hash_seeds(newest_rv_tree):
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = SHARED / "schemas/sarif-schema-2.1.0.json"
    if not schema_path.is_file():
        pytest.skip(NO_SHARED)
    runs = [hamodel("check", "--kernel-tree", str(newest_rv_tree), "--format", "sarif",
                    seed=seed).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1]
    doc = json.loads(runs[0])
    jsonschema.Draft4Validator(json.loads(schema_path.read_text())).validate(doc)
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"HA223"}


def test_text_output_names_both_files(newest_copy):
    path = newest_copy / M / "stall/stall.c"
    path.write_text(path.read_text().replace("time_ns, threshold_jiffies);",
                                             "time_ns, threshold_jiffies + 1);", 1))
    done = hamodel("check", "--kernel-tree", ".", cwd=newest_copy)
    assert ("kernel/trace/rv/monitors/stall/stall.c:41:10: error[HA207]: model says"
            " `clk < threshold_jiffies` in enqueued, stall.c:41 checks"
            " `clk <= threshold_jiffies`") in done.stdout
    assert "tools/verification/models/stall.dot:9:33: note: the model's invariant of enqueued" \
        in done.stdout
    assert "Traceback" not in done.stderr


def git(tree: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(tree), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_changed_since_checks_only_what_the_patch_touches(newest_copy):
    git(newest_copy, "init", "-q")
    git(newest_copy, "add", "-A")
    git(newest_copy, "commit", "-qm", "base")
    stall = newest_copy / M / "stall/stall.c"
    stall.write_text(stall.read_text().replace("time_ns, threshold_jiffies);",
                                               "time_ns, threshold_jiffies + 1);", 1))
    sco = newest_copy / "tools/verification/models/sched/sco.dot"
    sco.write_text(sco.read_text() + "\n")
    status, files, _ = tree_json(newest_copy, "--changed-since", "HEAD")
    assert sorted(Path(f["file"]).name for f in files) == ["sco.dot", "stall.dot"]
    assert [d["code"] for d in findings(files, DRIFT)] == ["HA207"]
    assert status == 1
    # A new monitor folder (untracked) is looked at too: its wiring is missing.
    new = newest_copy / M / "fresh"
    new.mkdir()
    (new / "fresh.c").write_text("// SPDX-License-Identifier: GPL-2.0\n")
    _, files, _ = tree_json(newest_copy, "--changed-since", "HEAD")
    assert {d["code"] for d in findings(files, WIRING)} == {"HA220", "HA221"}
    # Touching the Makefile checks every monitor's wiring and every line of it.
    makefile = newest_copy / RV / "Makefile"
    makefile.write_text(makefile.read_text() + "\n")
    _, files, _ = tree_json(newest_copy, "--changed-since", "HEAD")
    assert {d["code"] for d in findings(files, WIRING)} == {"HA220", "HA221", "HA223"}


@pytest.mark.parametrize("args, message", [
    (["--kernel-tree", "/nonexistent"], "not a kernel source tree with RV"),
    (["--changed-since", "HEAD"], "--changed-since needs --kernel-tree"),
    (["--kernel-tree", ".", "models/tlob.dot"], "takes no MODEL arguments"),
    ([], "give MODEL... or --kernel-tree DIR"),
])
def test_bad_usage_is_one_line_and_exit_2(args, message):
    done = hamodel("check", *args, cwd=ROOT)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_changed_since_outside_git(linux_612, tmp_path):
    tree = tmp_path / "t"
    shutil.copytree(linux_612, tree)
    done = hamodel("check", "--kernel-tree", str(tree), "--changed-since", "HEAD",
                   cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("hamodel check: --changed-since HEAD: ")
    assert "Traceback" not in done.stderr


def test_pre_commit_hooks_run_what_they_say(linux_612):
    yaml = pytest.importorskip("yaml")
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"hamodel-check", "hamodel-kernel-tree"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["entry"].startswith("hamodel check")
    single = hooks["hamodel-check"]
    done = hamodel(*single["entry"].split()[1:], "models/tlob.dot", cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    tree = hooks["hamodel-kernel-tree"]
    assert tree["pass_filenames"] is False
    done = hamodel(*tree["entry"].split()[1:], cwd=linux_612)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_reader_bug_is_a_located_incomplete_report(linux_612, monkeypatch):
    from hamodel.check import Options
    from hamodel.tree import kinds
    from hamodel.tree.command import check_tree

    def broken(*_):
        raise KeyError("boom")

    monkeypatch.setitem(kinds.KINDS, ".dot", broken)
    result = check_tree(str(linux_612), Options())
    assert [r.incomplete for r in result.reports] == [True, True]
    message = result.reports[0].findings[0].diagnostic.message
    assert message.startswith(f"internal error while checking {linux_612}/tools/verification/"
                              "models/wip.dot (KeyError: 'boom')")
