"""`hamodel check --kernel-tree` on the LTL specs of a tree and their in-tree monitors.

The tree: linux-source-6.12 with the newest RV files of ../shared
(conftest.overlay_newest_rv: the newest rtapp specs, the in-tree pagefault
monitor verbatim), plus a sleep monitor whose sleep.h is rvgen's, put back
together from the tables stored in tests/ltl/rvgen_tables/sleep.json (the
kit has no sleep.h; rvgen numbers sleep's states otherwise than hamodel).
Each planted mistake, in a header or in a spec, must give exactly the one
finding it should, in the header, with a note at the spec.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SHARED
from test_kernel_tree import findings, hamodel, tree_json

from hamodel.check import Options
from hamodel.ltl.names import abbreviations
from hamodel.tree.command import check_tree

LTL_DRIFT = {"HA213", "HA214", "HA215"}
M = "kernel/trace/rv/monitors"
SPECS = "tools/verification/models/rtapp"
SLEEP_TABLES = ROOT / "tests" / "ltl" / "rvgen_tables" / "sleep.json"


def rvgen_header(name: str, tables: dict) -> str:
    """An `<m>.h` in rvgen's layout from stored tables (atoms, locals, conditions)."""
    atoms = tables["atoms"]
    values = tables["values"]
    ordered: list[str] = []  # each local after the locals it reads, as C needs
    while len(ordered) < len(values):
        for local, expr in values.items():
            reads = set(re.findall(r"\bval\d+\b|\b[a-z_]+\b", expr)) & set(values)
            if local not in ordered and reads <= set(ordered):
                ordered.append(local)
    locals_ = "".join(f"\tbool {v} = {values[v]};\n" for v in ordered)
    states = len(tables["next"])

    def sets(cases: dict, target: str, indent: str) -> str:
        return "".join(f"{indent}if ({cond})\n{indent}\t__set_bit({s}, {target});\n"
                       for s, cond in cases.items())

    switch = "".join(f"\tcase {src}:\n{sets(cases, 'next', chr(9) * 2)}\t\tbreak;\n"
                     for src, cases in tables["next"].items())
    return (
        "/* SPDX-License-Identifier: GPL-2.0 */\n\n#include <linux/rv.h>\n\n"
        f"#define MONITOR_NAME {name}\n\nenum ltl_atom {{\n"
        + "".join(f"\tLTL_{a},\n" for a in atoms)
        + "\tLTL_NUM_ATOM\n};\nstatic_assert(LTL_NUM_ATOM <= RV_MAX_LTL_ATOM);\n\n"
        "static const char *ltl_atom_str(enum ltl_atom atom)\n{\n"
        "\tstatic const char *const names[] = {\n"
        + "".join(f'\t\t"{n}",\n' for n in abbreviations(tuple(atoms)))
        + "\t};\n\n\treturn names[atom];\n}\n\nenum ltl_buchi_state {\n"
        + "".join(f"\tS{i},\n" for i in range(states))
        + "\tRV_NUM_BA_STATES\n};\nstatic_assert(RV_NUM_BA_STATES <= RV_MAX_BA_STATES);\n\n"
        "static void ltl_start(struct task_struct *task, struct ltl_monitor *mon)\n{\n"
        + locals_ + "\n" + sets(tables["start"], "mon->states", "\t") + "}\n\n"
        "static void\nltl_possible_next_states(struct ltl_monitor *mon, unsigned int state,"
        " unsigned long *next)\n{\n" + locals_ + "\n\tswitch (state) {\n" + switch + "\t}\n}\n"
    )


@pytest.fixture(scope="session")
def ltl_tree(newest_rv_tree, tmp_path_factory) -> Path:
    """The newest RV tree with rvgen's sleep monitor added (read-only: copy it to change it)."""
    dest = tmp_path_factory.mktemp("ltl-tree") / "linux"
    shutil.copytree(newest_rv_tree, dest)
    sleep = dest / M / "sleep"
    sleep.mkdir(exist_ok=True)
    (sleep / "sleep.h").write_text(rvgen_header("sleep", json.loads(SLEEP_TABLES.read_text())))
    (sleep / "sleep.c").write_text("// SPDX-License-Identifier: GPL-2.0\n"
                                   "/* a stand-in: the tree check reads sleep.h */\n")
    return dest


@pytest.fixture
def ltl_copy(ltl_tree, tmp_path) -> Path:
    dest = tmp_path / "linux"
    shutil.copytree(ltl_tree, dest)
    return dest


def test_the_newest_specs_and_in_tree_headers_give_no_drift(ltl_tree):
    assert (ltl_tree / SPECS / "sleep.ltl").read_bytes() == (
        SHARED / "models/upstream-ltl/rtapp/sleep.ltl").read_bytes()
    result = check_tree(str(ltl_tree), Options())
    assert {"pagefault", "sleep"} <= set(result.monitors)
    reports = {Path(r.file).name: r for r in result.reports}
    for spec in ("pagefault.ltl", "sleep.ltl", "wakeup.ltl"):
        assert [f.diagnostic.code for f in reports[spec].findings] == [], spec
    status, files, stderr = tree_json(ltl_tree)
    assert findings(files, LTL_DRIFT) == [] and stderr == ""


# (file, text, replacement, code, severity, message part, line of the finding in its header)
PLANTED = [
    (f"{M}/pagefault/pagefault.h", "\tLTL_RT,\n", "", "HA213", "error",
     "the spec has the atom RT, enum ltl_atom of pagefault.h does not", 14),
    (f"{M}/pagefault/pagefault.h", '"rt",', '"r",', "HA214", "warning",
     'ltl_atom_str(LTL_RT) is "r" in pagefault.h; rvgen names it "rt"', 25),
    # ltl_start()'s copy of the local only: the monitor starts less often
    (f"{M}/pagefault/pagefault.h", "bool val4 = val1 || val3;", "bool val4 = val1 && val3;",
     "HA215", "error", "after the updates (PAGEFAULT), then (PAGEFAULT, RT) (the first one"
     " starts the monitor), the spec's monitor reports a violation and pagefault.h does not",
     50),
    (f"{SPECS}/pagefault.ltl", "RULE = always (RT imply not PAGEFAULT)",
     "RULE = always (not PAGEFAULT)", "HA213", "error",
     "enum ltl_atom has LTL_RT, the spec has no atom RT", 16),
    (f"{SPECS}/pagefault.ltl", "RULE = always (RT imply not PAGEFAULT)",
     "RULE = always (RT imply not PAGEFAULT) and next (RT imply not PAGEFAULT)", "HA215",
     "warning", "the automaton of pagefault.h is not the spec's (no renaming of its states"
     " gives it), though both report after the same updates", 50),
    (f"{SPECS}/pagefault.ltl", "RULE = always (RT imply not PAGEFAULT)",
     "RULE = always (RT imply not PAGEFAULT) and not next RT", "HA215", "error",
     "after the updates (), then (RT) (the first one starts the monitor), the spec's"
     " monitor reports a violation and pagefault.h does not", 50),
    # rvgen numbers sleep's states otherwise: compared up to renaming, then by verdicts
    (f"{SPECS}/sleep.ltl", "or FUTEX_LOCK_PI", "or FUTEX_LOCK_PI or EPOLL_WAIT", "HA215",
     "error", "after the updates (), then (EPOLL_WAIT, RT, SCHEDULE_IN, SLEEP, USER_THREAD)"
     " (the first one starts the monitor), sleep.h reports a violation and the spec's monitor"
     " does not", 0),
]


@pytest.mark.parametrize("rel, old, new, code, severity, message, line", PLANTED,
                         ids=[f"{p[3]}-{Path(p[0]).name}-{i}" for i, p in enumerate(PLANTED)])
def test_planted_drift_gives_one_finding(ltl_copy, rel, old, new, code, severity, message,
                                         line):
    path = ltl_copy / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    status, files, _ = tree_json(ltl_copy)
    found = findings(files, LTL_DRIFT)
    assert len(found) == 1, found
    [d] = found
    assert (d["code"], d["severity"]) == (code, severity)
    assert message in d["message"], d["message"]
    monitor = Path(rel).stem.split(".")[0]
    assert d["location"]["file"].endswith(f"{M}/{monitor}/{monitor}.h")
    if line:
        assert d["location"]["line"] == line
    spec = f"{SPECS}/{monitor}.ltl"
    assert [n["location"]["file"].endswith(spec) for n in d["notes"]] == [True], d["notes"]
    assert status == 1


def test_text_output_names_the_header_and_the_spec(ltl_copy):
    path = ltl_copy / M / "pagefault" / "pagefault.h"
    path.write_text(path.read_text().replace("bool val4 = val1 || val3;",
                                             "bool val4 = val1 && val3;"))
    done = hamodel("check", "--kernel-tree", ".", cwd=ltl_copy)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    at = next(i for i, x in enumerate(lines) if "error[HA215]" in x)
    assert lines[at].startswith(f"{M}/pagefault/pagefault.h:50:1: error[HA215]: after the"
                                " updates (), then (PAGEFAULT) (the first one starts")
    assert lines[at + 1].strip() == "ltl_possible_next_states(struct ltl_monitor *mon," \
                                    " unsigned int state, unsigned long *next)"
    assert lines[at + 3].startswith("tools/verification/models/rtapp/pagefault.ltl:1:1:"
                                    " note: the spec's RULE")
