"""Generated kernel C behaves as hamodel.semantics says, event for event.

Each model's `<m>.h` and constraint functions are compiled with gcc -Wall
-Wextra -Werror against tests/harness/ (stand-ins for da_monitor.h and
ha_monitor.h, see docs/kernel-c.md), then random timed call sequences are
replayed through the binary and through hamodel.semantics.Monitor.
"""

from __future__ import annotations

from pathlib import Path

import harness
import pytest
from conftest import MODELS as SHARED_MODELS
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamodel.gen.kernel_c import handler_kinds
from hamodel.load import load_model

SHARED = SHARED_MODELS
LOCAL = Path(__file__).resolve().parent / "kernel_c"

MODELS = {
    "tlob": ROOT / "models/tlob.dot",
    "stall": SHARED / "upstream/stall.dot",
    "nomiss": SHARED / "upstream/deadline/nomiss.dot",
    "opid": SHARED / "upstream/sched/opid.dot",
    "sssw": SHARED / "upstream/sched/sssw.dot",
    "tlob_v3": SHARED / "tlob-proposal/tlob-v3.dot",
    "tlob_stopped": SHARED / "tlob-proposal/tlob-stopped.dot",
    "guards": LOCAL / "guards.dot",
    "closed": LOCAL / "closed.dot",
    "jiffy_le": LOCAL / "jiffy_le.dot",
    "startrun": LOCAL / "startrun.dot",
    "nounit": SHARED / "rvgen-probes/nounit.dot",
    "unitconst": SHARED / "rvgen-probes/unitconst.dot",
    "decimal": SHARED / "rvgen-probes/decimal.dot",
    "tlob_v2": SHARED / "tlob-proposal/tlob-v2.dot",
}

pytestmark = pytest.mark.skipif(harness.gcc() is None, reason="gcc is not installed")

_BUILT: dict[str, tuple] = {}


def built(name: str, tmp_root: Path):
    if name not in _BUILT:
        path = MODELS[name]
        if not path.exists():
            pytest.skip(f"{path} is not available (shared test data)")
        a, diags = load_model(path)
        assert a is not None, [d.message for d in diags]
        _BUILT[name] = (a, harness.compile_monitor(a, tmp_root / name))
    return _BUILT[name]


@st.composite
def scenario(draw, a):
    params = {p.name: draw(st.integers(1, 8)) for p in a.parameters}
    scale = harness.time_scale(a, params)
    jiffy = scale >= harness.TICK_NS
    steps = st.one_of(
        st.integers(0, 2),
        st.integers(0, 2 * scale),
        *([st.integers(0, 2 * scale // harness.TICK_NS).map(lambda k: k * harness.TICK_NS)]
          if jiffy else []),
    )
    n_ro = len(harness.readonly_envs(a))
    # Each event reaches the monitor the way its generated handler sends it
    # (da_handle_event, _start_event or _start_run_event); `start` is a
    # monitor's own start (a marker), followed by ha_setup_initial_state().
    handler = handler_kinds(a)
    kinds = st.sampled_from(["handler"] * 8 + ["start", "stop"])
    ops = []
    t = 0
    for _ in range(draw(st.integers(1, 25))):
        t += draw(steps)
        kind = draw(kinds)
        event = draw(st.integers(0, len(a.events) - 1))
        if kind == "handler":
            kind = handler[a.events[event].name]
        env = tuple(draw(st.integers(0, 2)) for _ in range(n_ro))
        ops.append((t, kind, event, env))
    return params, ops


@pytest.mark.parametrize("name", sorted(MODELS))
def test_c_matches_semantics(name, tmp_path_factory):
    a, exe = built(name, tmp_path_factory.getbasetemp() / "kernel_c_harness")

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenario(a))
    def check(case):
        params, ops = case
        assert harness.run_c(exe, a, ops, params) == harness.run_oracle(a, ops, params)

    check()
