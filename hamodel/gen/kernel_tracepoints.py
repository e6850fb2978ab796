"""The C side of the tracepoints a binding names (hamodel/tracepoints.py has the names).

Input: nothing (tables of kernel facts).  Output: `KernelTracepoint` records:
the header that declares each tracepoint, its probe prototype, how each binding
field is read from the arguments, which fields name a task, and the
configuration the declaration depends on.  Prototypes are mainline's
(include/trace/events/*.h, arch/x86/include/asm/trace/irq_vectors.h).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KernelTracepoint:
    name: str
    header: str
    params: tuple[str, ...]  # the probe's arguments after `void *data`
    fields: tuple[tuple[str, str], ...]  # binding field -> C expression
    tasks: tuple[tuple[str, str], ...]  # object field -> the task it names
    # the header declares the tracepoint only under these symbols: the handler and
    # its attach are compiled under them too (x86's vector entries)
    guards: tuple[str, ...] = ()
    header_guard: str | None = None  # the header itself exists only under this symbol
    depends: str | None = None  # Kconfig symbol without which the tracepoint is absent
    family: str | None = None  # one handler serves every tracepoint of a family

    def field_c(self, field: str) -> str:
        return dict(self.fields)[field]

    def task_c(self, field: str) -> str | None:
        return dict(self.tasks).get(field)


_CURRENT = (("common_pid", "current->pid"),)
_CURRENT_TASK = (("common_pid", "current"),)

# prev_state as sched_switch reports it, computed by kernel_handlers.PREV_STATE_HELPER
_SWITCH = KernelTracepoint(
    "sched_switch", "trace/events/sched.h",
    ("bool preempt", "struct task_struct *prev", "struct task_struct *next",
     "unsigned int prev_state"),
    (("prev_pid", "prev->pid"), ("next_pid", "next->pid"), ("prev_prio", "prev->prio"),
     ("next_prio", "next->prio"), ("prev_state", "ha_prev_state(preempt, prev_state, prev)"),
     ("preempt", "preempt"), ("raw_prev_state", "prev_state"),
     ("prev_policy", "prev->policy"), ("next_policy", "next->policy"),
     ("next_idle", "is_idle_task(next)"), ("next_has_server", "next->dl_server")) + _CURRENT,
    (("prev_pid", "prev"), ("next_pid", "next")) + _CURRENT_TASK,
)


def _wakeup(name: str) -> KernelTracepoint:
    return KernelTracepoint(
        name, "trace/events/sched.h", ("struct task_struct *p",),
        (("pid", "p->pid"), ("prio", "p->prio"), ("target_cpu", "task_cpu(p)"),
         ("policy", "p->policy")) + _CURRENT,
        (("pid", "p"),) + _CURRENT_TASK,
    )


def _toggle(name: str, depends: str) -> KernelTracepoint:
    return KernelTracepoint(name, "trace/events/preemptirq.h",
                            ("unsigned long ip", "unsigned long parent_ip"), _CURRENT,
                            _CURRENT_TASK, depends=depends)


def _vector(name: str, *guards: str) -> KernelTracepoint:
    return KernelTracepoint(name, "asm/trace/irq_vectors.h", ("int vector",),
                            (("vector", "vector"),) + _CURRENT, _CURRENT_TASK,
                            guards=("CONFIG_X86_LOCAL_APIC", *guards),
                            header_guard="CONFIG_X86_LOCAL_APIC", family="vector_irq_entry")


def _dl(name: str) -> KernelTracepoint:
    return KernelTracepoint(name, "trace/events/sched.h",
                            ("struct sched_dl_entity *dl_se", "int cpu", "u8 type"),
                            (("cpu", "cpu"), ("type", "type")) + _CURRENT, _CURRENT_TASK)


TABLE: tuple[KernelTracepoint, ...] = (
    _SWITCH,
    _wakeup("sched_wakeup"),
    _wakeup("sched_waking"),
    _wakeup("sched_wakeup_new"),
    KernelTracepoint(
        "sched_process_exit", "trace/events/sched.h",
        ("struct task_struct *p", "bool group_dead"),
        (("pid", "p->pid"), ("prio", "p->prio"), ("group_dead", "group_dead"),
         ("policy", "p->policy")) + _CURRENT,
        (("pid", "p"),) + _CURRENT_TASK,
    ),
    KernelTracepoint("sched_set_state_tp", "trace/events/sched.h",
                     ("struct task_struct *tsk", "int state"),
                     (("pid", "tsk->pid"), ("state", "state")) + _CURRENT,
                     (("pid", "tsk"),) + _CURRENT_TASK),
    KernelTracepoint("sched_entry_tp", "trace/events/sched.h", ("bool preempt",),
                     (("preempt", "preempt"),) + _CURRENT, _CURRENT_TASK),
    KernelTracepoint("sched_exit_tp", "trace/events/sched.h", ("bool is_switch",),
                     (("is_switch", "is_switch"),) + _CURRENT, _CURRENT_TASK),
    KernelTracepoint("sched_set_need_resched_tp", "trace/events/sched.h",
                     ("struct task_struct *tsk", "int cpu", "int tif"),
                     (("pid", "tsk->pid"), ("cpu", "cpu"), ("tif", "tif")) + _CURRENT,
                     (("pid", "tsk"),) + _CURRENT_TASK),
    _toggle("preempt_disable", "PREEMPT_TRACER"),
    _toggle("preempt_enable", "PREEMPT_TRACER"),
    _toggle("irq_disable", "TRACE_IRQFLAGS"),
    _toggle("irq_enable", "TRACE_IRQFLAGS"),
    KernelTracepoint("irq_handler_entry", "trace/events/irq.h",
                     ("int irq", "struct irqaction *action"), (("irq", "irq"),) + _CURRENT,
                     _CURRENT_TASK),
    _vector("local_timer_entry"),
    _vector("irq_work_entry", "CONFIG_IRQ_WORK"),
    _vector("reschedule_entry", "CONFIG_SMP"),
    _vector("call_function_entry", "CONFIG_SMP"),
    _vector("call_function_single_entry", "CONFIG_SMP"),
    KernelTracepoint("signal_deliver", "trace/events/signal.h",
                     ("int sig", "struct kernel_siginfo *info", "struct k_sigaction *ka"),
                     (("sig", "sig"),) + _CURRENT, _CURRENT_TASK),
    _dl("sched_dl_replenish_tp"),
    _dl("sched_dl_throttle_tp"),
    _dl("sched_dl_server_stop_tp"),
)

BY_NAME: dict[str, KernelTracepoint] = {tp.name: tp for tp in TABLE}
