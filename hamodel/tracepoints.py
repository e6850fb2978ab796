"""The kernel tracepoints a binding may name, and the fields each one offers.

Input: nothing (tables of kernel facts).  Output: `Tracepoint` records the
binding reader checks names against.  Fields come in two kinds:

- tracefs fields, as `events/<system>/<tp>/format` prints them (plus
  `common_pid`, the task that emitted the event): every target can read
  these, replay from the text, kernel C and eBPF from the arguments;
- kernel fields, read from the tracepoint's arguments only (`preempt` of
  sched_switch, the raw state word it passes, the scheduling policy of a
  task): kernel C is the only target that knows them.  Tracepoints with no
  tracefs format (the scheduler hooks `sched_entry_tp`, ...), and those
  whose trace text replay does not parse, have kernel fields only.

The C side of each tracepoint (prototype, header, how a field is read) is in
hamodel/gen/kernel_tracepoints.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tracepoint:
    name: str
    tracefs: tuple[str, ...] = ()  # fields of the tracefs format (empty: kernel C only)
    kernel: tuple[str, ...] = ()  # fields read from the arguments by kernel C only
    booleans: tuple[str, ...] = ()  # fields that are true or false
    # objects that are no field, only kernel C names them: deadline entities
    # (the objects of `[monitor] objects = "dl_entity"`, hamodel/gen/kernel_dl.py)
    objects: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return self.tracefs + self.kernel

    @property
    def kernel_only(self) -> bool:
        """No target but kernel C can follow this tracepoint."""
        return not self.tracefs


_SWITCH_TRACEFS = ("prev_comm", "prev_pid", "prev_prio", "prev_state",
                   "next_comm", "next_pid", "next_prio", "common_pid")
_WAKEUP_TRACEFS = ("comm", "pid", "prio", "target_cpu", "common_pid")
_WAKEUP_KERNEL = ("policy",)  # p->policy
_TOGGLE = ("common_pid",)  # preempt/irq toggles: (ip, parent_ip), no field worth a condition
_VECTOR = ("vector", "common_pid")  # x86 interrupt vector entries
_DL = ("cpu", "type", "common_pid")  # sched_dl_*_tp(dl_se, cpu, type)

TABLE: tuple[Tracepoint, ...] = (
    # include/trace/events/sched.h
    Tracepoint("sched_switch", _SWITCH_TRACEFS,
               # preempt: the bool argument; raw_prev_state: the task state word the
               # scheduler passes (READ_ONCE(prev->__state)), not the folded report;
               # next_idle: next is the idle task; next_has_server: a deadline server
               # runs it
               ("preempt", "raw_prev_state", "prev_policy", "next_policy", "next_idle",
                "next_has_server"), ("preempt", "next_idle", "next_has_server"),
               # the deadline server running next, or the fair / sched_ext server of
               # the CPU next runs on
               ("next_server", "next_fair_server", "next_ext_server")),
    Tracepoint("sched_wakeup", _WAKEUP_TRACEFS, _WAKEUP_KERNEL),
    Tracepoint("sched_waking", _WAKEUP_TRACEFS, _WAKEUP_KERNEL),
    Tracepoint("sched_wakeup_new", _WAKEUP_TRACEFS, _WAKEUP_KERNEL),
    Tracepoint("sched_process_exit", ("comm", "pid", "prio", "common_pid"),
               ("group_dead", "policy"), ("group_dead",)),
    # scheduler hooks with no tracefs event (DECLARE_TRACE), mainline prototypes
    Tracepoint("sched_set_state_tp", kernel=("pid", "state", "common_pid")),
    Tracepoint("sched_entry_tp", kernel=("preempt", "common_pid"), booleans=("preempt",)),
    Tracepoint("sched_exit_tp", kernel=("is_switch", "common_pid"), booleans=("is_switch",)),
    Tracepoint("sched_set_need_resched_tp", kernel=("pid", "cpu", "tif", "common_pid")),
    # include/trace/events/preemptirq.h
    Tracepoint("preempt_disable", kernel=_TOGGLE),
    Tracepoint("preempt_enable", kernel=_TOGGLE),
    Tracepoint("irq_disable", kernel=_TOGGLE),
    Tracepoint("irq_enable", kernel=_TOGGLE),
    # include/trace/events/irq.h and the x86 vector entries (asm/trace/irq_vectors.h)
    Tracepoint("irq_handler_entry", kernel=("irq", "common_pid")),
    Tracepoint("local_timer_entry", kernel=_VECTOR),
    Tracepoint("irq_work_entry", kernel=_VECTOR),
    Tracepoint("reschedule_entry", kernel=_VECTOR),
    Tracepoint("call_function_entry", kernel=_VECTOR),
    Tracepoint("call_function_single_entry", kernel=_VECTOR),
    # include/trace/events/signal.h
    Tracepoint("signal_deliver", kernel=("sig", "common_pid")),
    # the deadline scheduler's hooks (mainline, newer than 6.12)
    Tracepoint("sched_dl_replenish_tp", kernel=_DL, objects=("dl_se",)),
    Tracepoint("sched_dl_throttle_tp", kernel=_DL, objects=("dl_se",)),
    Tracepoint("sched_dl_server_stop_tp", kernel=_DL, objects=("dl_se",)),
)

BY_NAME: dict[str, Tracepoint] = {tp.name: tp for tp in TABLE}

# What the objects of a per_obj monitor are (`[monitor] objects`): tasks, named
# by a pid field, or deadline entities (tasks' and servers').
OBJECT_KINDS = ("task", "dl_entity")

# Kernel macros a condition may compare with besides the reported task states
# (hamodel.binding.CONSTANTS).  Kernel C writes the name; the value is x86-64's,
# informative only, since no other target can read the fields they go with.
KERNEL_CONSTANTS: dict[str, int] = {
    "TASK_RTLOCK_WAIT": 0x1000,  # include/linux/sched.h: blocked on an rt lock
    "TIF_NEED_RESCHED": 3,  # arch/x86/include/asm/thread_info.h
    "SCHED_NORMAL": 0,  # include/uapi/linux/sched.h policies
    "SCHED_FIFO": 1,
    "SCHED_RR": 2,
    "SCHED_BATCH": 3,
    "SCHED_IDLE": 5,
    "SCHED_DEADLINE": 6,
}
