"""`hamodel gen --target kernel-c X.ltl`: rvgen's layout, the automaton's tables, clean C."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODELS, ROOT
from hypothesis import given, settings
from ltl_strategies import formulas

from hamodel.cli import main
from hamodel.gen import GenError
from hamodel.gen.kernel_c_ltl import LtlOptions, generate
from hamodel.ltl.binding import find_ltl_binding
from hamodel.ltl.buchi import build_buchi
from hamodel.ltl.formula import text
from hamodel.ltl.header import graph_of_buchi, graph_of_table, isomorphism, parse_header
from hamodel.ltl.load import load_ltl, load_ltl_text

PAGEFAULT = ROOT / "models" / "pagefault.ltl"
UPSTREAM = sorted((MODELS / "upstream-ltl").rglob("*.ltl*"))
TARBALLS = sorted(Path("/usr/src").glob("linux-source-6.12.tar.*"))


def bound_pagefault(**kw) -> dict[str, str]:
    spec, _ = load_ltl(PAGEFAULT, kw.pop("name", None))
    binding, _ = find_ltl_binding(PAGEFAULT, spec)
    return generate(spec, LtlOptions(str(PAGEFAULT), binding=binding, **kw))


def test_the_files_rvgen_writes_plus_the_kunit_header():
    files = bound_pagefault()
    assert sorted(files) == ["Kconfig", "pagefault.c", "pagefault.h", "pagefault_kunit.h",
                             "pagefault_trace.h"]
    kconfig = files["Kconfig"]
    assert "\tselect RV_LTL_MONITOR\n" in kconfig and "\tselect LTL_MON_EVENTS_ID\n" in kconfig
    assert "depends on X86 || RISCV" in kconfig  # the page fault tracepoints' architectures


def test_the_in_tree_kunit_ops_table_layout():
    """pagefault_kunit.c drives rv_pagefault_ops.handle_page_fault / .handle_task_newtask."""
    files = bound_pagefault()
    c = files["pagefault.c"]
    assert ("const struct rv_pagefault_ops rv_pagefault_ops = {\n\t.mon = RV_MON_OPS_INIT(),\n"
            "\t.handle_page_fault = handle_page_fault,\n"
            "\t.handle_task_newtask = handle_task_newtask,\n};") in c
    assert "EXPORT_SYMBOL_IF_KUNIT(rv_pagefault_ops);" in c
    assert "ltl_atom_pulse(rv_get_current(), LTL_PAGEFAULT, true);" in c  # mockable current
    h = files["pagefault_kunit.h"]
    members = [line.strip() for line in h.split("extern const struct rv_pagefault_ops {")[1]
               .split("} rv_pagefault_ops;")[0].split(";") if line.strip()]
    assert [m.split("(*")[1].split(")")[0] if "(*" in m else m for m in members] == [
        "struct rv_kunit_mon mon", "handle_page_fault", "handle_task_newtask"]


def test_the_binding_becomes_init_fetch_and_attach():
    c = bound_pagefault()["pagefault.c"]
    assert "\tltl_atom_set(mon, LTL_RT, rt_or_dl_task(task));\n" in c
    assert "\tif (task_creation)\n\t\tltl_atom_set(mon, LTL_PAGEFAULT, false);\n" in c
    for tp in ("page_fault_kernel", "page_fault_user"):
        assert f'rv_attach_trace_probe("pagefault", {tp}, handle_page_fault);' in c
        assert f'rv_detach_trace_probe("pagefault", {tp}, handle_page_fault);' in c


def test_a_parent_and_a_description():
    files = bound_pagefault(parent="rtapp", description='say "hi"')
    assert "#include <monitors/rtapp/rtapp.h>" in files["pagefault.c"]
    assert "rv_register_monitor(&rv_this, &rv_rtapp);" in files["pagefault.c"]
    assert '.description = "say \\"hi\\"",' in files["pagefault.c"]
    assert "\tdepends on RV_MON_RTAPP\n\tdefault y\n" in files["Kconfig"]


@pytest.mark.skipif(not UPSTREAM, reason="../shared/models/upstream-ltl is not here")
@pytest.mark.parametrize("path", UPSTREAM, ids=lambda p: p.name)
def test_the_header_encodes_the_automaton(path):
    spec, _ = load_ltl(path, "m")
    if spec is None:
        return
    files = generate(spec, LtlOptions(str(path)))
    table = parse_header(files["m.h"])
    b = build_buchi(spec)
    assert isomorphism(graph_of_buchi(b), graph_of_table(table)) == {
        i: i for i in range(len(b.states))}


@settings(max_examples=60, deadline=None)
@given(formulas(max_leaves=6))
def test_the_header_of_random_formulas_encodes_the_automaton(f):
    spec, _ = load_ltl_text(f"RULE = {text(f)}\n", "r.ltl", "r")
    b = build_buchi(spec)
    if len(b.states) > 32 or not spec.atoms:
        return
    table = parse_header(generate(spec, LtlOptions("r.ltl"))["r.h"])
    assert isomorphism(graph_of_buchi(b), graph_of_table(table)) is not None


@pytest.mark.parametrize(
    ("source", "options", "message"),
    [
        ("RULE = always not INT\n", {}, "atom INT cannot be generated"),
        ("RULE = always (A and " + " and ".join(f"B{i}" for i in range(32)) + ")\n", {},
         "at most 32"),
        ("RULE = always not A\n", {"monitor_type": "per_cpu"}, "per task"),
        ("RULE = always not A\n", {"parent": "no-name"}, "parent 'no-name'"),
        ("RULE = always not A\n", {"description": "two\nlines"}, "one line"),
    ],
)
def test_what_the_kernel_cannot_take_is_refused(source, options, message):
    spec, _ = load_ltl_text(source, "bad.ltl", "bad")
    with pytest.raises(GenError) as err:
        generate(spec, LtlOptions("bad.ltl", **options))
    assert any(message in d.message for d in err.value.diagnostics), [
        d.message for d in err.value.diagnostics]


def test_too_many_states_are_refused_with_the_rule_located():
    nexts = " and ".join(f"(A{i} until B{i})" for i in range(6))
    spec, _ = load_ltl_text(f"RULE = {nexts}\n", "big.ltl", "big")
    with pytest.raises(GenError) as err:
        generate(spec, LtlOptions("big.ltl"))
    d = err.value.diagnostics[0]
    assert d.code == "ltl-state-limit" and d.span.line == 1


def test_output_is_the_same_under_any_hash_seed(tmp_path):
    outs = []
    for seed in ("0", "4242"):
        out = tmp_path / seed
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-m", "hamodel", "gen", "--target", "kernel-c",
                        str(PAGEFAULT), "-o", str(out)], check=True, env=env,
                       capture_output=True)
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1]


def test_other_targets_refuse_ltl_with_exit_2(tmp_path, capsys):
    assert main(["gen", "--target", "ebpf", str(PAGEFAULT), "-o", str(tmp_path / "x")]) == 2
    assert "does not take LTL" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


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
            pytest.skip("checkpatch.pl unavailable: install Debian's linux-source-6.12")
        members = [f"linux-source-6.12/scripts/{n}" for n in
                   ("checkpatch.pl", "spelling.txt", "const_structs.checkpatch")]
        subprocess.run(["tar", "-xf", str(TARBALLS[0]), "-C", str(cache),
                        "--strip-components=2", *members], check=True, timeout=300)
    return script


def _cases():
    cases = [("pagefault (bound)", None)]
    cases += [(p.name, p) for p in UPSTREAM if load_ltl(p)[0] is not None]
    return cases


@pytest.mark.parametrize(("label", "path"), _cases(), ids=[c[0] for c in _cases()])
def test_checkpatch_strict_clean(label, path, checkpatch, tmp_path):
    if path is None:
        files = bound_pagefault(parent="rtapp")
    else:
        spec, _ = load_ltl(path, "m")
        files = generate(spec, LtlOptions(str(path)))
    for rel, body in files.items():
        (tmp_path / rel).write_text(body)
    paths = sorted(str(tmp_path / rel) for rel in files if rel.endswith((".c", ".h")))
    done = subprocess.run(["perl", str(checkpatch), "--no-tree", "-f", "--terse", "--strict",
                           "--show-types", "--no-summary", *paths], capture_output=True,
                          text=True, timeout=120)
    assert not done.stderr, done.stderr
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout


# The generated tables compiled with the verbatim ltl_monitor.h, against the reference
# monitor, for every valuation of the atoms: tests/test_ltl_framework.py.
