"""The generated tlob monitor runs as the semantics says: the whole `tlob.c`, not a slice.

tests/kshim/objects.py compiles the generated `tlob.c` with the
verbatim RV framework headers on tests/kshim (and AddressSanitizer) and drives it
through its attached tracepoint probes, tlob_start_task()/tlob_stop_task(), the
tracefs binding file and its uprobes; it prints the kernel's trace lines.  The
reference is hamodel.semantics.Monitor wrapped in what the C adds (enable
switch, limits, slot pool, binding file), printing the lines the kernel would.
"""

from __future__ import annotations

from pathlib import Path

import kshim
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kshim import kunit, objects  # noqa: E402

from hamodel.binding import find_binding
from hamodel.gen import GenOptions
from hamodel.gen.kernel_c import build_view, generate
from hamodel.load import load_model
from hamodel.semantics import Platform

pytestmark = pytest.mark.skipif(not kshim.available(), reason=kshim.MISSING)

TLOB = ROOT / "models/tlob.dot"
SLOTS = 3  # the generated pool has 64; 3 lets a short schedule fill it
PIDS = (1, 2, 3, 4, 5)
LEAST, GREATEST = 1000, 3_600_000_000_000
START_OFFSETS = (0x10, 0x20, 0x30)  # starts and stops never share an offset
STOP_OFFSETS = (0x18, 0x28, 0x38)


def _tlob():
    a, _ = load_model(TLOB)
    binding, _ = find_binding(TLOB, a)
    return a, binding


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    a, binding = _tlob()
    exe = objects.build_objects(a, binding, tmp_path_factory.mktemp("tlob_obj"), SLOTS)
    return a, binding, exe


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A regular file to bind uprobes in, a directory and a missing path."""
    d = tmp_path_factory.mktemp("bin")
    app = d / "app"
    app.write_bytes(b"\x7fELF")
    return str(app), str(d), str(d / "missing")


def test_generated_view_is_tlobs():
    a, binding = _tlob()
    o = build_view(a, GenOptions(str(TLOB), binding=binding)).objects
    assert o.slots == 64 and o.uprobe.word == "threshold" and o.uprobe.c_name == "threshold_ns"
    assert (o.uprobe.least, o.uprobe.greatest) == (LEAST, GREATEST)
    assert [r.field for r in o.residency] == ["running_ns", "waiting_ns", "sleeping_ns"]


# --- the binding-line parser --------------------------------------------------------

_space = st.sampled_from([" ", "  ", "\t"])
_number = st.one_of(
    st.integers(0, 2**64 + 5).map(str),
    st.integers(0, 2**64 + 5).map(hex),
    st.integers(0, 300).map(lambda n: f"0X{n:X}"),
    st.sampled_from(["", "0x", "+5", "-1", "1e3", "0x1g", "12\n", "٣", "0b1", "007"]),
)
_path = st.sampled_from(["/usr/bin/app", "/a:b/c", "usr/bin/app", "/", "", "/x y"])
_word = st.sampled_from(["threshold", "budget", "threshold_ns", "Threshold"])


@st.composite
def binding_lines(draw):
    kind = draw(st.sampled_from(["add", "add", "add", "remove", "junk"]))
    sep = draw(_space)
    path, start = draw(_path), draw(_number)
    place = draw(st.sampled_from([f"{path}:{start}", path, f"{path}:{start}:"]))
    if kind == "remove":
        line = "-" + place + draw(st.sampled_from(["", " extra", " ", "\n"]))
    elif kind == "add":
        head = draw(st.sampled_from(["p", "p", "P", "-p", "q"]))
        stop = draw(_number)
        value = draw(st.one_of(st.integers(LEAST - 2, LEAST + 2).map(str),
                               st.integers(GREATEST - 2, GREATEST + 2).map(str), _number))
        words = [head, place, stop, f"{draw(_word)}={value}"]
        if draw(st.booleans()):
            words = words[: draw(st.integers(1, 4))] + draw(st.lists(_number, max_size=2))
        line = draw(_space).join(words) if draw(st.booleans()) else sep.join(words)
    else:
        line = draw(st.text(alphabet=" \tp-/:0x19=abcthreshold\n", max_size=40))
    return draw(st.sampled_from(["", " ", "\t"])) + line + draw(st.sampled_from(["", "\n", " "]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(binding_lines(), min_size=1, max_size=40))
def test_parser_matches_reference(built, lines):
    _, _, exe = built
    want = [objects.parse_reference(line, "threshold", LEAST, GREATEST) for line in lines]
    assert objects.parse_c(exe, lines) == want


def test_parser_cases_cover_each_answer():
    a, binding = _tlob()
    cases = build_view(a, GenOptions(str(TLOB), binding=binding)).objects.parse_cases
    assert {c.ret for c in cases} == {"0", "-EINVAL", "-ERANGE"}
    assert {c.remove for c in cases if c.ret == "0"} == {True, False}


# --- schedules ------------------------------------------------------------------------


@st.composite
def schedules(draw, files):
    app, directory, missing = files
    ops = []
    t = 0
    enabled = True
    for _ in range(draw(st.integers(1, 40))):
        t += draw(st.one_of(st.just(0), st.integers(0, 3000), st.integers(0, 12000)))
        pid = draw(st.sampled_from(PIDS))
        kind = draw(st.sampled_from(
            ["switch"] * 8 + ["wakeup"] * 3 + ["start"] * 4 + ["stop"] * 2
            + ["exit", "toggle", "write", "hit", "hit", "read"]))
        if kind == "toggle" and enabled and draw(st.integers(0, 2)):
            kind = "start"  # stay enabled most of the time
        if kind == "switch":
            nxt = draw(st.sampled_from([p for p in PIDS if p != pid]))
            # raw state words: running, S, D, killable, idle, rt-lock wait, frozen
            state = draw(st.sampled_from([0, 1, 2, 0x102, 0x100, 0x402, 0x1000, 0x8000]))
            ops.append((t, "switch", pid, nxt, int(draw(st.booleans())), state))
        elif kind == "wakeup":
            ops.append((t, "wakeup", pid))
        elif kind == "exit":
            ops.append((t, "exit", pid))
        elif kind == "start":
            value = draw(st.one_of(st.integers(LEAST, 9000), st.sampled_from(
                [LEAST - 1, GREATEST, GREATEST + 1])))
            ops.append((t, "start", pid, value))
        elif kind == "stop":
            ops.append((t, "stop", pid))
        elif kind == "toggle":
            ops.append((t, "disable" if enabled else "enable"))
            enabled = not enabled
        elif kind == "write":
            path = draw(st.sampled_from([app, app, app, directory, missing]))
            start = draw(st.sampled_from(START_OFFSETS))
            if draw(st.integers(0, 3)) == 0:
                ops.append((t, "write", f"-{path}:{start:#x}"))
            else:
                stop = draw(st.sampled_from(STOP_OFFSETS))
                value = draw(st.one_of(st.integers(LEAST, 9000), st.just(LEAST - 1)))
                ops.append((t, "write", f"p {path}:{start:#x} {stop} threshold={value}"))
        elif kind == "hit":
            ops.append((t, "hit", pid, draw(st.sampled_from(START_OFFSETS + STOP_OFFSETS))))
        else:
            ops.append((t, "read"))
    return ops


def test_schedules_match_semantics(built, files):
    a, binding, exe = built

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(schedules(files))
    def check(ops):
        want = objects.Reference(a, binding, SLOTS, PIDS).play(ops)
        assert exe.run(ops) == want

    check()


def test_budget_violation_reports_residency(built):
    """A hand-checked schedule: 2 us running, 3 us waiting, then asleep past the 10 us budget."""
    a, binding, exe = built
    ops = [(0, "start", 1, 10_000), (2000, "switch", 1, 2, 1, 0), (5000, "switch", 2, 1, 0, 0),
           (6000, "switch", 1, 2, 0, 1), (20_000, "stop", 1)]
    lines = exe.run(ops)
    assert ("10000 trace error_env_tlob: 1: event none not expected in the state sleeping"
            " with env clk_elapsed=10000") in lines
    assert ("10000 trace detail_env_tlob: 1: threshold_ns=10000 running_ns=3000"
            " waiting_ns=3000 sleeping_ns=4000") in lines
    assert lines[-1] == "20000 stop 1 -75"
    assert lines == objects.Reference(a, binding, SLOTS, PIDS).play(ops)


def test_slots_and_return_codes(built):
    a, binding, exe = built
    ops = [(0, "start", 1, 999), (0, "start", 1, GREATEST + 1), (0, "start", 1, 5000),
           (0, "start", 1, 5000), (0, "start", 2, 5000), (0, "start", 3, 5000),
           (0, "start", 4, 5000), (1, "stop", 4), (2, "stop", 3), (3, "disable"),
           (3, "start", 4, 5000), (4, "enable"), (4, "stop", 1)]
    lines = exe.run(ops)
    assert [line.split()[-1] for line in lines] == [
        "-34", "-34", "0", "-114", "0", "0", "-28", "-3", "0", "-19", "-3"]
    assert lines == objects.Reference(a, binding, SLOTS, PIDS).play(ops)


def test_binding_file(built, files):
    a, binding, exe = built
    app = files[0]
    ops = [(0, "write", f"p {app}:0x10 24 threshold=5000"), (0, "write", f"p {app}:16 0x20"
                                                            " threshold=5000"),
           (0, "read"), (1, "hit", 1, 0x10), (2, "hit", 1, 0x10), (3, "start", 1, 5000),
           (4, "hit", 1, 0x18), (5, "stop", 1), (6, "write", f"-{app}:0x10"),
           (6, "write", f"-{app}:0x10"), (7, "hit", 1, 0x10), (8, "stop", 1), (9, "read")]
    lines = exe.run(ops)
    assert lines[:3] == ["0 write 0", "0 write -17", f"0 read p {app}:0x10 0x18 threshold=5000"]
    assert [line for line in lines[3:] if " trace " not in line] == [
        "3 start 1 -114", "5 stop 1 -3", "6 write 0", "6 write -2", "8 stop 1 -3"]
    assert lines == objects.Reference(a, binding, SLOTS, PIDS).play(ops)


def test_monitor_file_is_in_the_generated_source():
    text = (ROOT / "generated/tlob/kernel-c/tlob.c").read_text()
    assert 'tracefs_create_file("monitor", 0644, rv_this.root_d' in text
    assert "#define BUDGET_NS(ha_mon) (ha_get_target(ha_mon)->threshold_ns)" in text
    assert Path(ROOT / "generated/tlob/kernel-c/tlob_kunit.c").exists()


def test_a_variant_without_residency_or_names(tmp_path, files):
    """The features are the binding's, not tlob's: drop residency and names, run again."""
    from hamodel.binding import load_binding

    a, _ = _tlob()
    text = (ROOT / "models/tlob.binding.toml").read_text()
    text = text.replace('residency = ["running", "waiting", "sleeping"]\n', "")
    text = text.replace('names = { BUDGET_NS = "threshold" }\n', "")
    path = tmp_path / "tlob.binding.toml"
    path.write_text(text)
    binding, diags = load_binding(path, a)
    assert binding is not None, diags
    view = build_view(a, GenOptions(str(TLOB), binding=binding))
    assert view.objects.uprobe.word == "budget" and not view.objects.residency
    exe = objects.build_objects(a, binding, tmp_path / "build", 2)
    # its KUnit cases, with the kernel's rv_monitors_test.c (tests/test_kunit_suites.py)
    options = GenOptions(str(TLOB), binding=binding)
    suite = kunit.build_suite(generate(a, options), view, tmp_path / "kunit")
    results, lines = suite.run(kunit.BOOT_UPTIME)
    ours = [r for r in results if r.name.startswith("rv_test_tlob")]
    assert ours and all(r.status == "pass" for r in ours), lines
    app = files[0]
    ops = [(0, "write", f"p {app}:0x10 0x18 budget=2000"), (0, "read"), (1, "hit", 1, 0x10),
           (1, "start", 2, 2000), (1, "start", 3, 2000), (2, "switch", 1, 2, 0, 1),
           (5000, "stop", 1), (5000, "stop", 2)]
    lines = exe.run(ops)
    assert "1 start 3 -28" in lines and not any("detail_env" in x for x in lines)
    assert lines == objects.Reference(a, binding, 2, PIDS).play(ops)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(schedules(files))
    def check(ops):
        ops = [op if op[1] != "write" else (op[0], "write", op[2].replace("threshold=", "budget="))
               for op in ops]
        assert exe.run(ops) == objects.Reference(a, binding, 2, PIDS).play(ops)

    check()


def test_release_waits_for_a_handler_inside(built):
    """A stop while a handler on "another CPU" has passed da_monitoring() for the same task.

    The handler goes on after the stop: it re-arms the invariant timer and writes
    residency. The storage must stay until a grace period after the handler
    returned (AddressSanitizer fails the run on a write into freed storage, kshim on
    storage freed with an armed timer); meanwhile its slot is not free (-ENOSPC for
    another task), and the same task starts again on it at once (back-to-back
    windows). The late handler then lands in the new window; its old stamp counts
    from the new start, so no residency goes negative.
    """
    _, _, exe = built
    budget = 1_000_000
    ops = [(0, "start", 1, budget), (0, "start", 2, budget), (0, "start", 3, budget),
           (10, "pause", 1), (10, "switch", 1, 4, 1, 0), (20, "stop", 1),
           (20, "start", 4, budget), (20, "start", 1, budget), (30, "resume"),
           (40, "start", 4, budget), (40, "start", 1, budget), (50, "stop", 4),
           (2_000_000, "stop", 2)]
    lines = exe.run(ops)
    codes = [line for line in lines if line.split()[1] in ("start", "stop")]
    assert codes == ["0 start 1 0", "0 start 2 0", "0 start 3 0", "20 stop 1 0",
                     "20 start 4 -28", "20 start 1 0", "40 start 4 -28", "40 start 1 -114",
                     "50 stop 4 -3", "2000000 stop 2 -75"], "\n".join(lines)
    values = [int(w.split("=")[1]) for line in lines if "detail_env" in line
              for w in line.split() if "=" in w]
    assert values and max(values) < 2**63, "\n".join(lines)


def test_retiring_slot_is_free_after_a_grace_period(built):
    """Without a handler inside, a stop and a start of the same task on the next line work."""
    _, _, exe = built
    ops = [(0, "start", 1, 5000), (1, "stop", 1), (1, "start", 1, 5000), (2, "stop", 1)]
    assert exe.run(ops) == ["0 start 1 0", "1 stop 1 0", "1 start 1 0", "2 stop 1 0"]


def test_back_to_back_windows_before_any_grace_period(built):
    """Stops and starts of one task while no grace period can end (a handler of another
    task is paused inside its read section): every start is taken, every stop counts,
    and the slot is retired one grace period after the last stop."""
    _, _, exe = built
    budget = 1_000_000
    ops = [(0, "start", 2, budget), (1, "pause", 2), (1, "switch", 2, 4, 1, 0),
           (2, "start", 1, budget), (3, "stop", 1), (4, "start", 1, budget), (5, "stop", 1),
           (6, "start", 1, budget), (7, "stop", 1), (8, "resume"), (9, "start", 1, budget),
           (10, "stop", 1), (11, "stop", 2)]
    lines = exe.run(ops)
    codes = [line for line in lines if line.split()[1] in ("start", "stop")]
    assert codes == ["0 start 2 0", "2 start 1 0", "3 stop 1 0", "4 start 1 0", "5 stop 1 0",
                     "6 start 1 0", "7 stop 1 0", "9 start 1 0", "10 stop 1 0", "11 stop 2 0"], \
        "\n".join(lines)


def test_a_stop_past_the_deadline_reports_a_late_timer(built):
    """The timer's interrupt comes late (as under a loaded host): a stop after the
    deadline finds the invariant false and reports the overrun as the timer would."""
    a, binding, exe = built
    ops = [(0, "start", 1, 10_000), (10_500, "stop", 1), (20_000, "start", 2, 10_000),
           (30_000, "stop", 2)]
    lines = exe.run(ops, latency_ns=2000)
    assert "10500 stop 1 -75" in lines
    assert any(line.startswith("10500 trace error_env_tlob: 1: event none") for line in lines)
    assert "30000 stop 2 0" in lines  # clk == budget still holds
    ref = objects.Reference(a, binding, SLOTS, PIDS, platform=Platform(latency_ns=2000))
    assert lines == ref.play(ops)
