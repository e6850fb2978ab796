"""LtlSpec -> kernel C monitor in rvgen's layout for include/rv/ltl_monitor.h.

Input: an LtlSpec, LtlOptions (-t/-p/-D and the binding).  Output: the files
`rvgen monitor -c ltl` writes (`<m>.h`, `<m>.c`, `<m>_trace.h`, `Kconfig`),
plus `<m>_kunit.h` when a binding gives the handlers, rendered from
templates/kernel-c-ltl/ with a view of ordered tuples and C already printed.

- `<m>.h`: `enum ltl_atom` (atoms sorted), `ltl_atom_str()` with rvgen's
  abbreviations (the names `event_<m>` prints), `enum ltl_buchi_state`,
  `ltl_start()` and `ltl_possible_next_states()` from buchi.py's automaton:
  a state is set when its label holds, each propositional part computed once
  as `bool valN` (N: the part's number in the normalized formula);
- `<m>.c`: with a binding, `ltl_atoms_init()`, `ltl_atoms_fetch()` and one
  handler per `handler` name calling ltl_atom_update/_pulse/_set under its
  conditions, and the `rv_<m>_ops` table the kernel's RV KUnit suite drives
  (`RV_MON_OPS_INIT()`, as in-tree pagefault.c has it); without one, rvgen's
  XXX skeleton;
- `Kconfig`: `select RV_LTL_MONITOR` (rvgen leaves it out, and without it
  `struct ltl_monitor` is empty and the monitor does not build) and
  `select LTL_MON_EVENTS_ID`.

A spec the kernel cannot take (more than 32 atoms or states, an atom whose C
name is taken) raises GenError with located diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel import diagnostics as dg
from hamodel.gen import GenError, environment, render
from hamodel.gen import names as cn
from hamodel.gen.kernel_handlers import TRACEPOINT_ARGS
from hamodel.ltl import codes
from hamodel.ltl.binding import AtomEvent, LtlBinding
from hamodel.ltl.buchi import Buchi, BuchiTooLarge, Node, build_buchi
from hamodel.ltl.check import MAX_ATOMS, MAX_STATES, atom_span
from hamodel.ltl.formula import LtlSpec
from hamodel.ltl.names import abbreviations, c_problem

TARGET = "kernel-c-ltl"
COLUMNS = 100

environment(TARGET).filters.update(c_ident=cn.c_ident, c_string=cn.c_string)


@dataclass(frozen=True, slots=True)
class LtlOptions:
    model_path: str
    binding: LtlBinding | None = None
    monitor_type: str | None = None  # -t: only per_task
    parent: str | None = None  # -p: container monitor
    description: str | None = None  # -D


@dataclass(frozen=True, slots=True)
class Tracepoint:
    """How the kernel-C handler of a tracepoint reads what a binding names."""

    params: tuple[str, ...]  # after `void *data`
    header: str
    tasks: dict[str, str]  # binding task field -> C of the task_struct pointer
    fields: dict[str, str]  # binding numeric field -> C
    depends: tuple[str, ...] = ()  # Kconfig


_FAULT = ("unsigned long address", "struct pt_regs *regs", "unsigned long error_code")
_CURRENT = "rv_get_current()"  # include/rv/kunit.h: current, or the KUnit test's mock task
_WAKE = Tracepoint(("struct task_struct *p",), "trace/events/sched.h",
                   {"pid": "p", "common_pid": _CURRENT}, {"prio": "p->prio"})
TRACEPOINTS = {
    "page_fault_user": Tracepoint(_FAULT, "trace/events/exceptions.h", {"common_pid": _CURRENT},
                                  {"address": "address", "error_code": "error_code"},
                                  ("X86 || RISCV", "MMU")),
    "page_fault_kernel": Tracepoint(_FAULT, "trace/events/exceptions.h",
                                    {"common_pid": _CURRENT},
                                    {"address": "address", "error_code": "error_code"},
                                    ("X86 || RISCV", "MMU")),
    "sched_switch": Tracepoint(
        tuple(" ".join(p.split()) for p in TRACEPOINT_ARGS["sched_switch"].split(",")),
        "trace/events/sched.h",
        {"prev_pid": "prev", "next_pid": "next", "common_pid": _CURRENT},
        {"prev_prio": "prev->prio", "next_prio": "next->prio"}),
    "sched_waking": _WAKE,
    "sched_wakeup": _WAKE,
    "sched_wakeup_new": _WAKE,
    "contention_begin": Tracepoint(("void *lock", "unsigned int flags"), "trace/events/lock.h",
                                   {"common_pid": _CURRENT}, {"flags": "flags"}),
    "contention_end": Tracepoint(("void *lock", "int ret"), "trace/events/lock.h",
                                 {"common_pid": _CURRENT}, {"ret": "ret"}),
}
# Task properties ltl_atoms_fetch reads (hamodel.ltl.binding.FETCH) and their headers.
FETCH_C = {
    "rt_or_dl_task": ("rt_or_dl_task(task)", ("linux/sched/deadline.h", "linux/sched/rt.h")),
    "user_thread": ("!(task->flags & PF_KTHREAD)", ()),
    "kernel_thread": ("!!(task->flags & PF_KTHREAD)", ()),
}


# --- the view ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    """One `if (condition) __set_bit(S<state>, ...);`, the condition as lines."""

    state: int
    condition: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Function:
    """ltl_start() or ltl_possible_next_states(): locals, then the cases."""

    locals: tuple[str, ...]  # lines, one tab deep
    cases: tuple[tuple[int, tuple[Case, ...]], ...]  # (source state, cases); start: source -1


@dataclass(frozen=True, slots=True)
class Handler:
    name: str  # handle_<name>
    head: tuple[str, ...]  # the signature, wrapped
    pointer: tuple[str, ...]  # the ops table member, wrapped, one tab deep
    body: tuple[str, ...]  # lines, one tab deep
    tracepoints: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class View:
    name: str
    name_upper: str
    description: str
    parent: str | None
    atoms: tuple[str, ...]
    trace_names: tuple[str, ...]
    states: int
    start: Function
    next: Function
    skeleton: bool
    includes: tuple[str, ...]
    fetch: tuple[str, ...]  # lines of ltl_atoms_fetch, one tab deep
    init: tuple[str, ...]  # ltl_atoms_init for every task
    init_new: tuple[str, ...]  # ltl_atoms_init only when task_creation
    handlers: tuple[Handler, ...]
    depends: tuple[str, ...]


def _wrap_args(head: str, args: list[str], tabs: int, end: str) -> tuple[str, ...]:
    """`head` + args + `end`, broken after a comma where a line would pass 100
    columns, continuations aligned with the open parenthesis (kernel style);
    lines are relative to `tabs` leading tabs, which the template writes."""
    indent = "\t" * (len(head) // 8) + " " * (len(head) % 8)
    lines: list[str] = []
    line = head + args[0]
    for arg in args[1:]:
        candidate = f"{line}, {arg}"
        if 8 * tabs + len(candidate.expandtabs(8)) + len(end) <= COLUMNS:
            line = candidate
        else:
            lines.append(line + ",")
            line = indent + arg
    lines.append(line + end)
    return tuple(lines)


def _wrap_condition(prefix: str, parts: list[str], tabs: int) -> tuple[str, ...]:
    """`if (a && b ...)` broken before `&&` where a line would pass 100 columns."""
    lines: list[str] = []
    line = f"{prefix}({parts[0]}"
    indent = " " * len(prefix) + " "
    for part in parts[1:]:
        candidate = f"{line} && {part}"
        if 8 * tabs + len(candidate) + 1 <= COLUMNS:
            line = candidate
        else:
            lines.append(line + " &&")
            line = indent + part
    lines.append(line + ")")
    return tuple(lines)


class _Values:
    """The C locals a function needs: atoms read with test_bit, then `valN` parts."""

    def __init__(self, b: Buchi) -> None:
        self.b = b

    def name(self, uid: int) -> str:
        n = self.b.nodes[uid]
        if n.kind == "atom":
            return n.name.lower()
        if n.kind == "const":
            return "true" if n.value else "false"
        return f"val{uid}"

    def locals(self, labels: list[tuple[int, ...]]) -> tuple[str, ...]:
        needed: set[int] = set()
        atoms: set[str] = set()
        stack = [u for label in labels for u in label]
        while stack:
            uid = stack.pop()
            n = self.b.nodes[uid]
            if n.kind in ("atom", "not"):
                atoms.add(n.name)
            if n.kind in ("not", "and", "or") and uid not in needed:
                needed.add(uid)
                if n.kind != "not":
                    stack += [n.left, n.right]
        lines: list[str] = []
        for atom in self.b.atoms:
            if atom in atoms:
                head = f"bool {atom.lower()} = test_bit("
                lines += _wrap_args(head, [f"LTL_{atom}", "mon->atoms"], 1, ");")
        for uid in sorted(needed):  # a part's operands are numbered before it
            lines.append(f"bool val{uid} = {self.expr(self.b.nodes[uid])};")
        return tuple(lines)

    def expr(self, n: Node) -> str:
        if n.kind == "not":
            return f"!{n.name.lower()}"
        op = "&&" if n.kind == "and" else "||"
        return f"{self.name(n.left)} {op} {self.name(n.right)}"

    def condition(self, state: int, tabs: int) -> tuple[str, ...]:
        parts = sorted({self.name(u) for u in self.b.states[state].label}, key=_natural)
        if len(parts) > 1:
            parts = [p for p in parts if p != "true"]
        return _wrap_condition("if ", parts or ["true"], tabs)


def _natural(name: str) -> tuple:
    """Atoms first, then val1, val2, ..., val10 in number order."""
    return (1, int(name[3:]), "") if name.startswith("val") and name[3:].isdigit() else (0, 0,
                                                                                         name)


def build_view(spec: LtlSpec, b: Buchi, options: LtlOptions) -> View:
    values = _Values(b)
    start_labels = [b.states[i].label for i in b.initial]
    start = Function(values.locals(start_labels),
                     ((-1, tuple(Case(i, values.condition(i, 1)) for i in b.initial)),))
    cases = []
    all_labels = []
    for s in b.states:
        cases.append((s.index, tuple(Case(t, values.condition(t, 2)) for t in s.successors)))
        all_labels += [b.states[t].label for t in s.successors]
    nxt = Function(values.locals(all_labels), tuple(cases))
    binding = options.binding
    description = options.description or (binding.description if binding else "") \
        or "auto-generated"
    parent = options.parent
    includes: list[str] = []
    depends: list[str] = []
    fetch: list[str] = []
    init: list[str] = []
    init_new: list[str] = []
    handlers: list[Handler] = []
    if binding is not None:
        for a in binding.atoms:
            if a.fetch is not None:
                expr, headers = FETCH_C[a.fetch]
                fetch.append(f"ltl_atom_set(mon, LTL_{a.atom}, {expr});")
                includes += headers
            elif a.init is not None:
                line = f"ltl_atom_set(mon, LTL_{a.atom}, {'true' if a.init else 'false'});"
                (init_new if a.new_tasks_only else init).append(line)
        for name in binding.handlers():
            events = binding.for_handler(name)
            tps = tuple(dict.fromkeys(tp for e in events for tp in e.tracepoints))
            handlers.append(_handler(name, events, tps))
            for tp in tps:
                includes.append(TRACEPOINTS[tp].header)
                depends += TRACEPOINTS[tp].depends
    return View(
        name=spec.name,
        name_upper=spec.name.upper(),
        description=description,
        parent=parent,
        atoms=spec.atoms,
        trace_names=abbreviations(spec.atoms),
        states=len(b.states),
        start=start,
        next=nxt,
        skeleton=binding is None,
        includes=tuple(sorted(set(includes))),
        fetch=tuple(fetch),
        init=tuple(init),
        init_new=tuple(init_new),
        handlers=tuple(handlers),
        depends=tuple(dict.fromkeys(depends)),
    )


def _handler(name: str, events: tuple[AtomEvent, ...], tracepoints: tuple[str, ...]) -> Handler:
    tp = TRACEPOINTS[tracepoints[0]]
    params = ["void *data", *tp.params]
    head = _wrap_args(f"static void handle_{name}(", params, 0, ")")
    pointer = _wrap_args(f"void (*handle_{name})(", params, 1, ");")
    body: list[str] = []
    for e in events:
        task = tp.tasks[e.task]
        value = "true" if e.value else "false"
        if e.action == "set":
            call = f"ltl_atom_set(ltl_get_monitor({task}), LTL_{e.atom}, {value});"
        else:
            call = f"ltl_atom_{e.action}({task}, LTL_{e.atom}, {value});"
        if not e.when:
            body.append(call)
            continue
        parts = []
        for c in e.when:
            literal = str(c.value) if c.value < 2**31 else f"{c.value}ULL"
            field = tp.fields[c.field]
            parts.append(f"({field} & {literal})" if c.op == "&" else
                         f"{field} {c.op} {literal}")
        body += list(_wrap_condition("if ", parts, 1))
        body.append(f"\t{call}")
    return Handler(name, head, pointer, tuple(body), tracepoints)


# --- the files --------------------------------------------------------------------------------


def _problems(spec: LtlSpec, options: LtlOptions) -> list[dg.Diagnostic]:
    out = []
    where = spec.definition("RULE").span if spec.definition("RULE") else None
    checks = [("monitor name", spec.name, cn.check_monitor_name)]
    if options.parent is not None:
        checks.append(("parent", options.parent, cn.check_monitor_name))
    if options.description is not None:
        checks.append(("description", options.description, lambda _w, t: cn.check_description(t)))
    for what, text, check in checks:
        try:
            check(what, text)
        except cn.BadName as exc:
            out.append(dg.error(codes.LTL_GEN, str(exc), None))
    if options.monitor_type not in (None, "per_task"):
        out.append(dg.error(codes.LTL_GEN, f"-t {options.monitor_type}: ltl_monitor.h"
                            " monitors are per task (-t per_task)", None))
    if options.parent is not None and options.parent == spec.name:
        out.append(dg.error(codes.LTL_GEN, f"-p {options.parent}: a monitor cannot be its own"
                            " parent", None))
    if len(spec.atoms) > MAX_ATOMS:
        out.append(dg.error(codes.ATOM_LIMIT, f"{len(spec.atoms)} atoms; ltl_monitor.h holds"
                            f" at most {MAX_ATOMS}", where))
    for atom in spec.atoms:
        problem = c_problem(atom)
        if problem:
            out.append(dg.error(codes.C_CLASH, f"atom {atom} cannot be generated: {problem}",
                                atom_span(spec, atom)))
    return out


def generate(spec: LtlSpec, options: LtlOptions) -> dict[str, str]:
    problems = _problems(spec, options)
    if problems:
        raise GenError(problems)
    try:
        b = build_buchi(spec)
    except BuchiTooLarge as exc:
        raise GenError([dg.error(codes.STATE_LIMIT, f"RULE needs {exc}; ltl_monitor.h holds"
                                 f" at most {MAX_STATES}", None)]) from None
    if len(b.states) > MAX_STATES:
        where = spec.definition("RULE").span
        raise GenError([dg.error(codes.STATE_LIMIT, f"the Büchi automaton has {len(b.states)}"
                                 f" states; ltl_monitor.h holds at most {MAX_STATES}", where)])
    v = build_view(spec, b, options)
    m = spec.name
    files = {
        f"{m}.h": render(TARGET, "model.h.j2", v=v),
        f"{m}.c": render(TARGET, "monitor.c.j2", v=v),
        f"{m}_trace.h": render(TARGET, "trace.h.j2", v=v),
        "Kconfig": render(TARGET, "Kconfig.j2", v=v),
    }
    if not v.skeleton:
        files[f"{m}_kunit.h"] = render(TARGET, "kunit.h.j2", v=v)
    return files


def notes(spec: LtlSpec, options: LtlOptions) -> tuple[str, ...]:
    """What is left to do by hand, printed after the files are written."""
    m = spec.name
    out = []
    if options.binding is None:
        out.append(f"  - {m}.c: write ltl_atoms_init(), ltl_atoms_fetch() and the tracepoint"
                   " handlers (the XXX lines), or give a binding (docs/ltl.md)")
    else:
        for atom in spec.atoms:
            if not options.binding.known(atom):
                out.append(f"  - nothing in {options.binding.file} sets {atom}: the monitor"
                           " never starts until a handler you write sets it")
    out += [
        f"  - kernel/trace/rv/Kconfig: source \"kernel/trace/rv/monitors/{m}/Kconfig\"",
        f"  - kernel/trace/rv/Makefile: obj-$(CONFIG_RV_MON_{m.upper()}) +="
        f" monitors/{m}/{m}.o",
        f"  - kernel/trace/rv/rv_trace.h, under CONFIG_LTL_MON_EVENTS_ID:"
        f" #include <monitors/{m}/{m}_trace.h>",
    ]
    return tuple(out)
