"""The reference LTL monitor follows include/rv/ltl_monitor.h's runtime rules."""

from __future__ import annotations

import pytest

from hamodel.ltl.buchi import build_buchi
from hamodel.ltl.load import load_ltl_text
from hamodel.ltl.monitor import AtomSetup, LtlMonitor, MonitorError


def monitor(rule: str, setup=None):
    spec, diags = load_ltl_text(f"RULE = {rule}\n", "m.ltl")
    assert spec is not None, [d.message for d in diags]
    steps, violations = [], []
    mon = LtlMonitor(build_buchi(spec), setup, steps.append, violations.append)
    return mon, steps, violations


PAGEFAULT = {"RT": AtomSetup(fetched=True), "PAGEFAULT": AtomSetup(False, True)}


def test_the_in_tree_pagefault_kunit_scenario():
    """pagefault_kunit.c: a fault while not RT starts the monitor; one while RT reacts once."""
    mon, steps, violations = monitor("always (RT imply not PAGEFAULT)", PAGEFAULT)
    mon.task_init("target", creation=True, props={"RT": False})
    mon.pulse("target", "PAGEFAULT", True)  # starts (not checked), then one step with it false
    assert mon.started("target") and len(steps) == 1 and not violations
    mon.fetch_values("target", {"RT": True})
    mon.pulse("target", "PAGEFAULT", True)
    assert len(violations) == 1
    assert violations[0].atoms == ("PAGEFAULT", "RT")
    assert not mon.started("target")  # the second half of the pulse found no state: no step
    assert len(steps) == 2


def test_an_rt_task_running_before_enable_is_never_started_by_its_faults():
    """PAGEFAULT is unknown until the first fault; every start attempt then sees
    PAGEFAULT and RT together, where no initial state's label holds."""
    mon, steps, violations = monitor("always (RT imply not PAGEFAULT)", PAGEFAULT)
    mon.task_init(1, creation=False, props={"RT": True})
    assert mon.atom_values(1) == {"PAGEFAULT": None, "RT": True}
    for _ in range(3):
        mon.pulse(1, "PAGEFAULT", True)
    assert not mon.started(1) and not steps and not violations
    mon.fetch_values(1, {"RT": False})  # a fault while not RT starts it
    mon.pulse(1, "PAGEFAULT", True)
    assert mon.started(1) and len(steps) == 1
    mon.fetch_values(1, {"RT": True})
    mon.pulse(1, "PAGEFAULT", True)
    assert len(violations) == 1


def test_no_start_until_every_atom_is_known():
    mon, steps, violations = monitor("always not A or B")
    mon.update(1, "A", True)
    assert not mon.started(1)
    mon.update(1, "B", False)  # all known now, but no initial label holds (A true)
    assert not mon.started(1) and not steps and not violations
    mon.update(1, "A", False)  # starts here
    assert mon.started(1) and not steps
    mon.update(1, "A", True)
    assert len(violations) == 1 and len(steps) == 1


def test_a_set_takes_no_step_and_the_next_update_sees_it():
    mon, steps, violations = monitor("always not A")
    mon.update(1, "A", False)
    mon.set(1, "A", True)
    assert not steps and not violations
    mon.update(1, "A", True)
    assert len(steps) == 1 and len(violations) == 1


def test_after_a_violation_the_next_update_restarts():
    mon, steps, violations = monitor("always not A")
    mon.update(1, "A", False)
    mon.update(1, "A", True)
    assert len(violations) == 1 and not mon.started(1)
    mon.update(1, "A", False)  # restart: not a step
    assert mon.started(1) and len(steps) == 1
    mon.update(1, "A", True)
    assert len(violations) == 2


def test_a_pulse_is_two_steps():
    mon, steps, violations = monitor("always (A imply next not A)")
    mon.update(1, "A", False)
    mon.pulse(1, "A", True)
    assert len(steps) == 2 and not violations
    assert steps[0].atoms == ("A",) and steps[1].atoms == ()


def test_fetch_is_read_by_updates_not_by_the_second_half_of_a_pulse():
    mon, steps, violations = monitor("always (R imply not A)", {"R": AtomSetup(fetched=True)})
    mon.task_init(1, creation=True, props={"R": False})
    mon.update(1, "A", False)
    mon.fetch_values(1, {"R": True})
    mon.set(1, "A", True)  # no fetch here
    assert mon.atom_values(1)["R"] is False
    mon.update(1, "A", True)
    assert len(violations) == 1 and violations[0].atoms == ("A", "R")


def test_tasks_are_independent():
    mon, steps, violations = monitor("always not A")
    for task in (1, 2):
        mon.update(task, "A", False)
    mon.update(1, "A", True)
    assert [v.task for v in violations] == [1] and mon.started(2)


def test_unknown_atoms_are_refused():
    mon, _, _ = monitor("always not A")
    with pytest.raises(MonitorError, match="B is no atom"):
        mon.update(1, "B", True)
    with pytest.raises(MonitorError):
        monitor("always not A", {"B": AtomSetup(True)})
