"""Deadline entities as the objects of a per_obj monitor (`[monitor] objects = "dl_entity"`).

Input: a tracepoint and the object a binding entry names on it.  Output: the C
of the da_handle_*() arguments that name that entity (id and target) and the
condition under which it exists, plus what a monitor of deadline entities
needs besides its handlers: the headers, its storage kept for every
SCHED_DEADLINE task, the Kconfig dependency.

The ids and the server lookups are the deadline container's
(kernel/trace/rv/monitors/deadline/deadline.h: EXPAND_ID(), EXPAND_ID_TASK(),
get_server(), init_storage(), handle_newtask(), handle_exit(),
extract_params()); its header is included after the framework's, whose
da_*() functions those helpers call.
"""

from __future__ import annotations

from dataclasses import dataclass

TARGET_TYPE = "struct sched_dl_entity *"
PARENT = "deadline"
INCLUDES: tuple[tuple[str, str | None], ...] = (
    ("uapi/linux/sched/types.h", None),  # SCHED_DEADLINE
    ("trace/events/syscalls.h", None),  # sys_enter
    ("trace/events/task.h", None),  # task_newtask
)
DEPENDS = ("HAVE_SYSCALL_TRACEPOINTS",)


@dataclass(frozen=True, slots=True)
class Entity:
    args: str  # the id and target arguments of da_handle_*()
    exists: str | None  # the condition under which there is one (None: always)
    local: str | None = None  # a declaration the handler starts with, for `args`


# a server's id counts its CPU: next's, where the switch happens
_CPU = "int cpu = task_cpu(next);"

# (tracepoint, object) -> the entity, when the object is no task
SERVERS = {
    ("sched_dl_replenish_tp", "dl_se"): Entity("EXPAND_ID(dl_se, cpu, type)",
                                               "is_supported_type(type)"),
    ("sched_dl_throttle_tp", "dl_se"): Entity("EXPAND_ID(dl_se, cpu, type)",
                                              "is_supported_type(type)"),
    ("sched_dl_server_stop_tp", "dl_se"): Entity("EXPAND_ID(dl_se, cpu, type)",
                                                 "is_supported_type(type)"),
    ("sched_switch", "next_server"): Entity(
        "EXPAND_ID(next->dl_server, cpu, get_server_type(next))", "next->dl_server", _CPU),
    ("sched_switch", "next_fair_server"): Entity(
        "EXPAND_ID(get_server(next, DL_SERVER_FAIR), cpu, DL_SERVER_FAIR)",
        "get_server(next, DL_SERVER_FAIR)", _CPU),
    ("sched_switch", "next_ext_server"): Entity(
        "EXPAND_ID(get_server(next, DL_SERVER_EXT), cpu, DL_SERVER_EXT)",
        "IS_ENABLED(CONFIG_SCHED_CLASS_EXT) && get_server(next, DL_SERVER_EXT)", _CPU),
}


def entity(tracepoint: str, obj: str, task: str | None) -> Entity | None:
    """The entity `obj` names on `tracepoint`: a server, or the entity of the task
    a pid field names; None when it names neither."""
    if (tracepoint, obj) in SERVERS:
        return SERVERS[(tracepoint, obj)]
    if task is not None:
        return Entity(f"EXPAND_ID_TASK({task})", None)
    return None


# Storage for the entity of every SCHED_DEADLINE task: made at enable and at
# fork, dropped at exit (the container's helpers), and made or reset when a
# task's policy changes through sched_setscheduler() or sched_setattr().
SYS_ENTER_PARAMS = "struct pt_regs *regs, long id"
SYS_ENTER_COMMENT = (
    "/*",
    " * A task entering SCHED_DEADLINE gets a monitor; one leaving it starts over",
    " * when it comes back.",
    " */",
)
SYS_ENTER_BODY = (
    "struct task_struct *task;",
    "pid_t pid = 0;",
    "int policy;",
    "",
    "policy = extract_params(regs, id, &pid);",
    "if (policy < 0)",
    "\treturn;",
    "guard(rcu)();",
    "task = pid ? find_task_by_vpid(pid) : current;",
    "if (!task || task->policy == policy)",
    "\treturn;",
    "if (task->policy == SCHED_DEADLINE)",
    "\tda_reset(EXPAND_ID_TASK(task));",
    "else if (policy == SCHED_DEADLINE)",
    "\tda_create_or_get(EXPAND_ID_TASK(task));",
)
# (tracepoint, handler, runtime condition or None); the handlers of task_newtask and
# sched_process_exit are the container's
LIFECYCLE_PROBES = (
    ("sys_enter", "sys_enter", "!should_skip_syscall_handle()"),
    ("task_newtask", "newtask", None),
    ("sched_process_exit", "exit", None),
)
# after ha_monitor_init() in enable: every deadline task and server gets storage
ENABLE = ("retval = init_storage(false);", "if (retval)", "\treturn retval;")
