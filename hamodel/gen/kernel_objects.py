"""Per-object monitors started and stopped by the program they watch, for kernel C.

A binding with `[start]` and `[stop]` markers on a `per_obj` monitor of tasks
gets, generated with the monitor:

- a target struct per monitored task, preallocated in a pool of
  `[monitor] slots` (no allocation on tracepoint paths), holding the marker's
  parameters (`BUDGET_NS(ha_mon)` reads its field through `ha_get_target()`,
  the kernel's nomiss pattern) and, with `[monitor] residency`, the time spent
  in each state;
- `<m>_start_task(task, params...)` / `<m>_stop_task(task)` with the return
  codes of docs/kernel-c.md;
- with residency, a `detail_env_<m>` trace event after each invariant timer's
  `error_env_<m>`;
- with exactly one ns parameter, the tracefs binding file (uprobe pairs on an
  unmodified binary) and its line parser;
- `<m>_kunit.c`: the parser cases and one case per model transition.

Input: Automaton, Binding, monitor suffix.  Output: an `Objects` view (or None
when the binding asks for none of this), for templates/kernel-c/.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from hamodel.binding import Binding
from hamodel.model import Automaton, ClockKind

# Limits of the tracefs binding line (also the KUnit and harness expectations).
U64_MAX = 2**64 - 1
LOFF_MAX = 2**63 - 1
KUNIT_BUDGET_NS = 1_000_000_000  # long enough that no timer fires during a KUnit case


class ObjectsProblem(ValueError):
    """A start/stop binding kernel C cannot follow; says why."""


@dataclass(frozen=True, slots=True)
class StartParam:
    model: str  # the model's parameter: BUDGET_NS
    word: str  # what users write: `threshold=` in the binding line
    c_name: str  # argument, target field, detail field: threshold_ns
    definition: str  # how the constraint functions read it
    least: int | None
    greatest: int | None
    least_macro: str  # TLOB_THRESHOLD_NS_MIN
    greatest_macro: str


@dataclass(frozen=True, slots=True)
class Residency:
    state: str  # enum name
    field: str  # running_ns


@dataclass(frozen=True, slots=True)
class ParseCase:
    """One KUnit parser case; expectations come from `parse_binding_line`."""

    line: str  # escaped for a C string
    ret: str  # 0 or -EINVAL / -ERANGE
    remove: bool
    path: str
    start: int
    stop: int
    value: int


@dataclass(frozen=True, slots=True)
class TransitionCase:
    name: str  # C function name suffix: running_preempt
    path: tuple[str, ...]  # event enum names leading from the initial state to `src`
    event: str  # event enum name
    dst: str  # state enum name


@dataclass(frozen=True, slots=True)
class Objects:
    upper: str  # TLOB
    struct: str  # tlob_target
    slots: int
    params: tuple[StartParam, ...]
    residency: tuple[Residency, ...]
    uprobe: StartParam | None  # the parameter of the tracefs binding line
    timer_sync: str  # a call that cancels the timer and waits for its callback
    parse_cases: tuple[ParseCase, ...]
    transitions: tuple[TransitionCase, ...]
    kunit_values: tuple[str, ...]  # start arguments of a KUnit case
    invalid_event: str | None  # an event the initial state refuses (enum name)

    @property
    def start_args(self) -> str:
        return "".join(f", u64 {p.c_name}" for p in self.params)


def objects(
    a: Automaton, binding: Binding | None, monitor_type: str, name: str, timer: str | None
) -> Objects | None:
    if binding is None or binding.start is None:
        if binding is not None and binding.residency:
            raise ObjectsProblem("residency needs a [start] marker: it is counted from the start")
        return None
    if monitor_type != "per_obj":
        # -t overrides the binding's type: its markers are then left to write by
        # hand, as `hamodel gen` says
        return None
    start, stop = binding.start, binding.stop
    if not a.is_hybrid:
        raise ObjectsProblem("start markers are generated for hybrid automata (with clocks) only")
    if stop is None:
        raise ObjectsProblem("a [start] marker needs a [stop] marker: slots are freed there")
    for marker in (start, stop):
        if marker.object != "common_pid":
            raise ObjectsProblem(f"marker {marker.name!r}: kernel C starts and stops the task that"
                                 " reaches it (object = \"common_pid\")")
    upper = name.upper()
    kinds = {p.name: p for p in a.parameters}
    limits = {p: (lo, hi) for p, lo, hi in start.limits}
    words = dict(start.names)
    params = []
    for model_param, arg in start.params:
        param = kinds[model_param]
        if param.clock_kind is ClockKind.JIFFIES:
            raise ObjectsProblem(f"{model_param} is compared with a jiffy clock: kernel C takes"
                                 " start parameters in ns")
        word = words.get(model_param, arg.removesuffix("_ns"))
        c_name = f"{word}_ns"
        lo, hi = limits.get(model_param, (None, None))
        params.append(StartParam(
            model=model_param, word=word, c_name=c_name,
            definition=_definition(model_param, param.kind.value, c_name),
            least=lo, greatest=hi,
            least_macro=f"{upper}_{c_name.upper()}_MIN",
            greatest_macro=f"{upper}_{c_name.upper()}_MAX"))
    suffix = f"_{name}"
    residency = tuple(Residency(s + suffix, f"{s}_ns") for s in binding.residency)
    taken = {"residency_ns", "entered_ns", "id"} | {r.field for r in residency}
    for p in params:
        if p.c_name in taken:
            raise ObjectsProblem(f"{p.model} would be called {p.c_name} in C, a name the"
                                 " target struct or detail event already uses: rename it in"
                                 " [start] names")
        taken.add(p.c_name)
    uprobe = params[0] if len(params) == 1 else None
    timer_sync = {
        "HA_TIMER_HRTIMER": "hrtimer_cancel(&ha_mon->hrtimer);",
        "HA_TIMER_WHEEL": "timer_delete_sync(&ha_mon->timer);",
    }.get(timer or "", "ha_cancel_timer(ha_mon);")  # no timer: nothing to wait for
    cases = parse_cases(uprobe) if uprobe else ()
    kunit_values = tuple(f"{_kunit_value(p)}ull" for p in params)
    return Objects(
        upper=upper, struct=f"{name}_target", slots=binding.slots, params=tuple(params),
        residency=residency, uprobe=uprobe, timer_sync=timer_sync, parse_cases=cases,
        transitions=transition_cases(a, suffix), kunit_values=kunit_values,
        invalid_event=_invalid_event(a, suffix))


def _invalid_event(a: Automaton, suffix: str) -> str | None:
    allowed = {e.event for e in a.edges if e.src == a.initial.name}
    refused = [e.name for e in a.events if e.name not in allowed]
    return refused[0] + suffix if refused else None


def _definition(model_param: str, kind: str, c_name: str) -> str:
    """The parameter as the constraint functions read it: the target's field."""
    if kind == "function":
        return (f"static inline u64 {model_param}(struct ha_monitor *ha_mon)\n{{\n"
                f"\treturn ha_get_target(ha_mon)->{c_name};\n}}")
    if kind == "macro":
        return f"#define {model_param}(ha_mon) (ha_get_target(ha_mon)->{c_name})"
    # a plain symbol: every generated use has ha_mon in scope
    return f"#define {model_param} (ha_get_target(ha_mon)->{c_name})"


def _kunit_value(p: StartParam) -> int:
    value = KUNIT_BUDGET_NS
    if p.least is not None:
        value = max(value, p.least)
    if p.greatest is not None:
        value = min(value, p.greatest)
    return value


def transition_cases(a: Automaton, suffix: str) -> tuple[TransitionCase, ...]:
    """One case per edge reachable from the initial state, in kernel order."""
    paths: dict[str, tuple[str, ...]] = {a.initial.name: ()}
    queue = deque([a.initial.name])
    while queue:
        src = queue.popleft()
        for e in a.edges:
            if e.src == src and e.dst not in paths:
                paths[e.dst] = paths[src] + (e.event,)
                queue.append(e.dst)
    state_order = {s.name: i for i, s in enumerate(a.states)}
    event_order = {e.name: i for i, e in enumerate(a.events)}
    seen: dict[tuple[str, str], TransitionCase] = {}
    for e in sorted(a.edges, key=lambda e: (state_order[e.src], event_order[e.event])):
        if e.src not in paths or (e.src, e.event) in seen:
            continue
        seen[(e.src, e.event)] = TransitionCase(
            name=f"{e.src}_{e.event}",
            path=tuple(ev + suffix for ev in paths[e.src]),
            event=e.event + suffix,
            dst=e.dst + suffix)
    return tuple(seen.values())


# --- the tracefs binding line, as the generated C parses it ----------------------


@dataclass(frozen=True, slots=True)
class BindingLine:
    remove: bool
    path: str
    start: int
    stop: int = 0
    value: int = 0


def _kstrtoull(text: str, base: int) -> int | None:
    """The kernel's kstrtoull: optional '+', `0x` allowed in base 16, nothing after.

    Returns None for a malformed number and -1 for one past U64_MAX (-ERANGE).
    """
    if text.startswith("+"):
        text = text[1:]
    if base == 16 and text[:2].lower() == "0x":
        text = text[2:]
    if text.endswith("\n"):
        text = text[:-1]  # the kernel's kstrtoull() takes one trailing newline
    digits = "0123456789abcdef"[:base]
    if not text or any(c.lower() not in digits for c in text):
        return None
    value = int(text, base)
    return -1 if value > U64_MAX else value


def _offset(text: str) -> int | None:
    base = 16 if text[:2] in ("0x", "0X") else 10
    value = _kstrtoull(text, base)
    if value is None or value < 0 or value > LOFF_MAX:
        return None
    return value


def parse_binding_line(
    line: str, word: str, least: int | None, greatest: int | None
) -> BindingLine | str:
    """`p PATH:START STOP WORD=N` or `-PATH:START`; an error is "-EINVAL" or "-ERANGE".

    The reference the generated `<m>_parse_binding()` is tested against (KUnit
    cases, tests/test_kernel_tlob.py): words are separated by spaces or tabs,
    the path is absolute and split from the offset at its last ':', offsets are
    decimal or 0x-hex, start != stop; only a well-formed value outside the
    limits is -ERANGE.
    """
    words = [w for w in line.strip(" \t\n\v\f\r").replace("\t", " ").split(" ") if w]
    if not words:
        return "-EINVAL"
    remove = words[0].startswith("-")
    if remove:
        if len(words) != 1:
            return "-EINVAL"
        place = words[0][1:]
    else:
        if len(words) != 4 or words[0] != "p":
            return "-EINVAL"
        place = words[1]
    path, colon, offset = place.rpartition(":")
    if not colon or not path.startswith("/"):
        return "-EINVAL"
    start = _offset(offset)
    if start is None:
        return "-EINVAL"
    if remove:
        return BindingLine(True, path, start)
    stop = _offset(words[2])
    if stop is None or stop == start:
        return "-EINVAL"
    key, eq, number = words[3].partition("=")
    if not eq or key != word:
        return "-EINVAL"
    value = _kstrtoull(number, 10)
    if value is None:
        return "-EINVAL"
    if value < 0 or (least is not None and value < least) or (
            greatest is not None and value > greatest):
        return "-ERANGE"
    return BindingLine(False, path, start, stop, value)


def _case_lines(word: str, least: int | None, greatest: int | None) -> list[str]:
    lo = least if least is not None else 0
    hi = greatest if greatest is not None else U64_MAX
    mid = min(max(5_000_000, lo), hi)
    lines = [
        f"p /usr/bin/app:0x1000 0x1010 {word}={mid}",
        f"p /usr/bin/app:4096 4112 {word}={lo}",
        f"p /usr/bin/app:0X1a 0x1B {word}={hi}",
        f"  p\t/opt/a:b/app:0x10  0x20 {word}={mid}\n",
        "-/usr/bin/app:0x1000",
        "-/usr/bin/app:4096\n",
        f"p usr/bin/app:0x1000 0x1010 {word}={mid}",
        f"p /usr/bin/app 0x1010 {word}={mid}",
        f"p /usr/bin/app:0x1000 0x1000 {word}={mid}",
        f"p /usr/bin/app:0x1000 4096 {word}={mid}",
        f"p /usr/bin/app:0x 0x1010 {word}={mid}",
        f"p /usr/bin/app:0x1000 0x10g {word}={mid}",
        f"p /usr/bin/app:-1 0x1010 {word}={mid}",
        f"p /usr/bin/app:0x1000 0x1010 {word}=",
        f"p /usr/bin/app:0x1000 0x1010 {word}=0x10",
        f"p /usr/bin/app:0x1000 0x1010 budget={mid}",
        f"p /usr/bin/app:0x1000 0x1010 {word}={mid} extra",
        "p /usr/bin/app:0x1000 0x1010",
        f"q /usr/bin/app:0x1000 0x1010 {word}={mid}",
        "-/usr/bin/app:0x1000 0x1010",
        "-usr/bin/app:0x1000",
        "",
        f"p /usr/bin/app:0x1000 0x1010 {word}={U64_MAX + 1}",
    ]
    if lo > 0:
        lines.append(f"p /usr/bin/app:0x1000 0x1010 {word}={lo - 1}")
    if hi < U64_MAX:
        lines.append(f"p /usr/bin/app:0x1000 0x1010 {word}={hi + 1}")
    return lines


def parse_cases(p: StartParam) -> tuple[ParseCase, ...]:
    out = []
    for line in _case_lines(p.word, p.least, p.greatest):
        got = parse_binding_line(line, p.word, p.least, p.greatest)
        escaped = line.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        if isinstance(got, str):
            out.append(ParseCase(escaped, got, False, "", 0, 0, 0))
        else:
            out.append(ParseCase(escaped, "0", got.remove, got.path, got.start, got.stop,
                                 got.value))
    return tuple(out)
