"""Every upstream model has a binding, generates complete, and acts as the kernel's monitor.

models/upstream/<path>.binding.toml binds ../shared/models/upstream/<path>.dot
(the kernel's tools/verification/models/ layout).  The handlers generated from
it are compared with the kernel's own handlers (../shared/kernel: the kit's
current-API files, else the in-tree copies): the same tracepoints, and for
every argument combination the same da_handle_* calls (kind, object, model
event) in the same order.  The comparison interprets both C files
(tests/c_handlers.py); the kernel build of the same files is
tests/kernel_build/build_check.py.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest
from c_handlers import Entity, Task, World, handlers
from conftest import ROOT, SHARED
from kernel_build import monitors

from hamodel.binding import load_binding
from hamodel.gen import kernel_tracepoints as ktp
from hamodel.load import load_model

KIT_MONITORS = SHARED / "kernel/rv-framework/kernel/trace/rv/monitors"
IN_TREE_MONITORS = SHARED / "kernel/monitors"
UPSTREAM = monitors.upstream()
NAMES = [u.name for u in UPSTREAM]

pytestmark = pytest.mark.skipif(not monitors.UPSTREAM_MODELS.is_dir(),
                                reason=f"the upstream models are missing: {monitors.UPSTREAM_MODELS}")


def test_every_upstream_model_has_a_binding():
    models = sorted(p.relative_to(monitors.UPSTREAM_MODELS).with_suffix("").as_posix()
                    for p in monitors.UPSTREAM_MODELS.rglob("*.dot"))
    bound = sorted(u.binding.relative_to(monitors.BINDINGS).as_posix()
                   .removesuffix(".binding.toml") for u in UPSTREAM)
    assert models == bound
    assert len(bound) == 13


@pytest.mark.parametrize("u", UPSTREAM, ids=NAMES)
def test_binding_binds_every_event_and_generates_without_xxx(u):
    automaton, _ = load_model(u.model)
    binding, diags = load_binding(u.binding, automaton)
    assert binding is not None and not diags, [d.message for d in diags]
    files = monitors.generate_upstream(u)
    assert sorted(files) == sorted([f"{u.name}.c", f"{u.name}.h", f"{u.name}_trace.h", "Kconfig",
                                    f"{u.name}_kunit.c", f"{u.name}_kunit.h"])
    for rel, text in files.items():
        assert "XXX" not in text, rel


def test_generation_does_not_depend_on_the_hash_seed():
    code = ("import hashlib, sys; sys.path.insert(0, 'tests');"
            "from kernel_build import monitors;"
            "h = hashlib.sha256();"
            "[h.update(repr(sorted(monitors.generate_upstream(u).items())).encode())"
            " for u in monitors.upstream()];"
            "print(h.hexdigest())")
    digests = set()
    for seed in ("0", "977"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        digests.add(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                   env=env, cwd=ROOT, check=True).stdout)
    assert len(digests) == 1


# --- the same handlers as the kernel's ---------------------------------------------

def in_tree_source(name: str):
    for base in (KIT_MONITORS, IN_TREE_MONITORS):
        path = base / name / f"{name}.c"
        if path.is_file():
            return path
    return None


# Values each argument takes, by its C type and name; tasks are told apart by name.
RAW_STATES = (0, 0x1, 0x2, 0x402, 0x1000, 0x100, 0x20)


def values(param: str) -> list[object]:
    kind, name = param.rsplit(" ", 1)
    name = name.lstrip("*")
    if kind == "bool":
        return [0, 1]
    if kind == "struct task_struct" or "task_struct" in kind:
        return [Task(name, pid=100 + len(name))]
    if name == "prev_state":
        return list(RAW_STATES)
    if name == "state":
        return [0, 0x1, 0x2, 0x1000]
    if name == "tif":
        return [0, 3, 4]
    return [0]


def argument_sets(tracepoint: str) -> list[list[object]]:
    params = ktp.BY_NAME[tracepoint].params
    return [list(c) for c in itertools.product(*(values(p) for p in params))]


# nomiss's objects are deadline entities, named by its container's helpers: compared
# below with tasks and servers of every kind.
COMPARED = [u for u in UPSTREAM if u.name != "nomiss"]


@pytest.mark.parametrize("u", COMPARED, ids=[u.name for u in COMPARED])
def test_handlers_send_the_kernels_events(u):
    path = in_tree_source(u.name)
    assert path is not None, f"no in-tree {u.name}.c under {SHARED}/kernel"
    theirs, their_probes = handlers(path.read_text())
    ours, our_probes = handlers(monitors.generate_upstream(u)[f"{u.name}.c"])
    assert sorted(our_probes) == sorted(their_probes)
    compared = 0
    for tp in sorted(their_probes):
        mine, kernel = ours[our_probes[tp]], theirs[their_probes[tp]]
        for args in argument_sets(tp):
            # the old API's scheduler hooks took one more argument (ip): it reads 0
            want = kernel.run(args + [0] * (len(kernel.params) - len(args)), u.name)
            got = mine.run(args, u.name)
            assert got == want, (tp, args)
            compared += bool(want)
    assert compared >= len(their_probes)


# --- nomiss: deadline entities -----------------------------------------------------

SERVER = Entity("running_server")
WORLDS = [World(fair, ext, sched_ext) for fair in (None, Entity("fair"))
          for ext in (None, Entity("ext")) for sched_ext in (False, True)]


def deadline_values(param: str) -> list[object]:
    kind, name = param.rsplit(" ", 1)
    name = name.lstrip("*")
    if "task_struct" in kind:
        return [Task(name, pid=100 + len(name), policy=policy, idle=idle, dl_server=server,
                     server_type=server_type)
                for policy in (0, 6) for idle in (False, True) for server in (None, SERVER)
                for server_type in (1, 2)]
    if "sched_dl_entity" in kind:
        return [Entity(name)]
    if name == "type":
        return [0, 1, 2, 3]  # DL_TASK, DL_SERVER_FAIR, DL_SERVER_EXT, DL_OTHER
    if name == "prev_state":
        return [0, 0x1, 0x402]
    return values(param)


# Storage upkeep rather than model events: the container's handlers (the same
# names on both sides) and the policy watch on sys_enter, read not run here.
LIFECYCLE = {"task_newtask": "newtask", "sched_process_exit": "exit", "sys_enter": "sys_enter"}


def test_nomiss_handlers_send_the_kernels_events():
    u = next(u for u in UPSTREAM if u.name == "nomiss")
    theirs, their_probes = handlers(in_tree_source("nomiss").read_text())
    text = monitors.generate_upstream(u)["nomiss.c"]
    ours, our_probes = handlers(text)
    assert sorted(our_probes) == sorted(their_probes)
    for tp, handler in LIFECYCLE.items():
        assert our_probes[tp] == their_probes[tp] == handler
    assert "\tif (!should_skip_syscall_handle())\n\t\trv_attach_trace_probe(\"nomiss\", sys_enter," in text
    assert "\tretval = init_storage(false);\n" in text
    sent = 0
    for tp in sorted(set(their_probes) - set(LIFECYCLE)):
        mine, kernel = ours[our_probes[tp]], theirs[their_probes[tp]]
        params = ktp.BY_NAME[tp].params
        for args in itertools.product(*(deadline_values(p) for p in params)):
            for world in WORLDS:
                want = kernel.run(list(args), "nomiss", world)
                assert mine.run(list(args), "nomiss", world) == want, (tp, args, world)
                sent += len(want)
    assert sent > 1000
