"""The kernel build check's judgement: what it reads from the tools, and what it accepts.

tests/kernel_build/build_check.py runs gcc (W=1), sparse and checkpatch on the
generated files in a real tree (a CI step of its own, .ci/run); here its pure
parts are checked on output lines in the tools' real formats: every accepted
warning is accepted for its one construct only.
"""

from __future__ import annotations

from conftest import ROOT
from kernel_build import build_check, findings, monitors

from hamodel.gen import GenOptions
from hamodel.gen.kernel_c import build_view, generate
from hamodel.load import load_model

TLOB_C = (ROOT / "generated/tlob/kernel-c/tlob.c").read_text()
TLOB_H = (ROOT / "generated/tlob/kernel-c/tlob.h").read_text()

MAKE_OUTPUT = """\
  CC      kernel/trace/rv/monitors/tlob/tlob.o
/w/src/kernel/trace/rv/monitors/tlob/tlob.c:12:5: warning: no previous prototype for 'f' [-Wmissing-prototypes]
  CHECK   /w/src/kernel/trace/rv/monitors/tlob/tlob.c
/w/src/kernel/trace/rv/monitors/tlob/tlob.c:288:5: warning: context imbalance in 'tlob_start_task' - different lock contexts for basic block
/w/src/kernel/trace/rv/monitors/tlob/tlob.c:90:5: warning: context imbalance in 'tlob_pid_retiring' - wrong count at exit
  CC      kernel/trace/rv/monitors/sco/sco.o
/w/src/kernel/trace/rv/monitors/sco/sco.c:3:1: error: too many arguments to function 'da_create_storage'
make[1]: Leaving directory '/w/hamodel'
"""


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_make_output_is_split_between_gcc_and_sparse():
    found = findings.parse_make(MAKE_OUTPUT)
    assert [(f.tool, f.line, f.kind) for f in found] == [
        ("gcc", 12, "-Wmissing-prototypes"), ("sparse", 288, ""), ("sparse", 90, ""),
        ("gcc", 3, ""),
    ]
    assert found[0].message == "no previous prototype for 'f'"
    assert found[3].severity == "error"


def test_sparse_lock_imbalance_is_accepted_only_where_guard_takes_the_lock():
    start, pid = findings.parse_make(MAKE_OUTPUT)[1:3]
    assert findings.accepted(start, TLOB_C) == findings.GUARD_REASON
    # tlob_pid_retiring takes no lock: the same warning there is a finding
    assert "static bool tlob_pid_retiring(pid_t pid)\n{" in TLOB_C
    assert findings.accepted(pid, TLOB_C) is None
    assert findings.accepted(findings.parse_make(MAKE_OUTPUT)[0], TLOB_C) is None


def test_checkpatch_typedef_and_static_assert_are_accepted_on_their_lines_only():
    typedef = line_of(TLOB_C, "typedef struct tlob_target *monitor_target;")
    assertion = line_of(TLOB_H, "_Static_assert(")
    out = (f"kernel/trace/rv/monitors/tlob/tlob.c:{typedef}: WARNING:NEW_TYPEDEFS: do not add"
           " new typedefs\n"
           f"kernel/trace/rv/monitors/tlob/tlob.c:{typedef + 1}: WARNING:NEW_TYPEDEFS: do not add"
           " new typedefs\n"
           f"kernel/trace/rv/monitors/tlob/tlob.h:{assertion}: CHECK:CAMELCASE: Avoid CamelCase:"
           " <_Static_assert>\n"
           "kernel/trace/rv/monitors/tlob/tlob.h:1: CHECK:CAMELCASE: Avoid CamelCase: <fooBar>\n")
    found = findings.parse_checkpatch(out)
    assert [f.kind for f in found] == ["NEW_TYPEDEFS", "NEW_TYPEDEFS", "CAMELCASE", "CAMELCASE"]
    reasons = [findings.accepted(f, TLOB_H if f.path.endswith(".h") else TLOB_C) for f in found]
    assert reasons == [findings.TYPEDEF_REASON, None, findings.STATIC_ASSERT_REASON, None]
    assert findings.unparsed_checkpatch(out) == []
    assert findings.unparsed_checkpatch("Global symbol \"$x\" requires explicit package\n")


def test_judge_counts_findings_outside_the_generated_files(tmp_path):
    mons = [build_check.Monitor("tlob", {"tlob.c": TLOB_C, "tlob.h": TLOB_H}, True)]
    found = findings.parse_make(MAKE_OUTPUT)
    ok, bad = build_check.judge(tmp_path, mons, found)
    assert [f.line for f, _ in ok] == [288]
    assert [f.line for f in bad] == [12, 90, 3]  # sco.c is no file of these monitors


def test_monitors_are_wired_in_their_event_class_section(tmp_path):
    rv = tmp_path / build_check.RV
    rv.mkdir(parents=True)
    (rv / "Kconfig").write_text("menu\n# Add new monitors here\nendmenu\n")
    (rv / "Makefile").write_text("obj-y += rv.o\n# Add new monitors here\n")
    anchors = [build_check.class_anchor(f"\tselect {c}\n") for c in (
        "HA_MON_EVENTS_ID", "DA_MON_EVENTS_IMPLICIT", "DA_MON_EVENTS_ID")]
    (rv / "rv_trace.h").write_text("\n".join(anchors) + "\n")
    (rv / "rv_monitors_test.c").write_text(
        '#include "monitors/sco/sco_kunit.c"\n\n'
        "static struct kunit_case rv_mon_test_cases[] = {\n\tKUNIT_CASE(rv_test_sco),\n\t{}\n};\n")
    a, _ = load_model(ROOT / "models/tlob.dot")
    options = GenOptions("tlob.dot", monitor_type="per_task", name="mon")
    files = generate(a, options)
    m = build_check.Monitor("mon", files, True, build_view(a, options).kunit)
    for _ in range(2):  # a second run adds nothing
        build_check.wire(tmp_path, m)
    trace = (rv / "rv_trace.h").read_text().splitlines()
    assert trace.count("#include <monitors/mon/mon_trace.h>") == 1
    assert trace.index("#include <monitors/mon/mon_trace.h>") == trace.index(anchors[0]) - 1
    makefile = (rv / "Makefile").read_text()
    assert makefile.count("obj-$(CONFIG_RV_MON_MON) += monitors/mon/mon.o\n") == 1
    assert makefile.count("CFLAGS_monitors/mon/mon.o += -Werror -include ") == 1
    assert (rv / "Kconfig").read_text().count('source "kernel/trace/rv/monitors/mon/Kconfig"') == 1
    assert (rv / "monitors/mon/mon.c").read_text() == files["mon.c"]
    tests = (rv / "rv_monitors_test.c").read_text()
    assert tests.count('#include "monitors/mon/mon_kunit.c"') == 1
    assert tests.count("\tKUNIT_CASE(rv_test_mon),\n") == 1


def test_the_check_builds_every_monitor_but_those_6_12_cannot():
    names = [n for n, _ in monitors.checked_in()] + [u.name for u in monitors.upstream()]
    assert "tlob" in names and set(monitors.NOT_ON_6_12) <= set(names)
    assert len(names) == len(set(names))
