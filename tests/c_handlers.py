"""Run the tracepoint handlers of a monitor's C file on given arguments, in Python.

For comparing generated handlers with the kernel's own (tests/test_upstream_bindings.py)
without a kernel: `handlers(text)` finds every `handle_*` probe and what
`rv_attach_trace_probe()` attaches it to; `Handler.run(args)` interprets its
body, a small subset of C (if/else, blocks, expression statements, the
operators of conditions, `->` fields, calls), and returns the da_handle_*
calls it makes, in order, as (handler kind, object, model event).  Anything
outside the subset raises CSubsetError, so a test cannot pass by skipping
code it does not understand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hamodel.binding import CONSTANTS, reported_prev_state
from hamodel.tracepoints import KERNEL_CONSTANTS


class CSubsetError(ValueError):
    """C this interpreter does not model."""


@dataclass(frozen=True)
class Entity:
    """A sched_dl_entity: a deadline server (or the dl_se argument of a dl tracepoint)."""

    name: str


@dataclass(frozen=True)
class Task:
    """A task_struct argument; `name` tells the calls apart (prev, next, ...)."""

    name: str
    pid: int
    state: int = 0
    exit_state: int = 0
    policy: int = 0
    prio: int = 120
    idle: bool = False  # is_idle_task()
    dl_server: Entity | None = None  # the deadline server running it
    server_type: int = 1  # get_server_type(): DL_SERVER_FAIR


@dataclass(frozen=True)
class World:
    """What the deadline container's lookups answer: the fair and sched_ext servers
    of the CPU (None: none), and whether CONFIG_SCHED_CLASS_EXT is set."""

    fair: Entity | None = None
    ext: Entity | None = None
    sched_ext: bool = False


@dataclass
class Handler:
    name: str
    params: list[str]  # argument names after `void *data`, in order
    body: list[str]  # tokens between the braces
    helpers: dict[str, Handler] = field(default_factory=dict)

    def run(self, args: list[object], monitor: str,
            world: World | None = None) -> list[tuple[str, object, str]]:
        """The da_handle_* calls of one hit with these arguments (positional)."""
        calls: list[tuple[str, object, str]] = []
        self.call(args, _Context(calls, monitor, world or World(), self.helpers))
        return calls

    def call(self, args: list[object], ctx: _Context) -> None:
        env = {"current": CURRENT, **dict(zip(self.params, args, strict=False))}
        _Interp(self.body, env, ctx).statements_until(None)


@dataclass
class _Context:
    calls: list
    monitor: str
    world: World
    helpers: dict[str, Handler]


_TOKEN = re.compile(r"\s*(?:(0x[0-9a-fA-F]+|\d+)[uUlL]*|([A-Za-z_]\w*)|(->|&&|\|\||==|!=|<=|>=|<<|>>"
                    r"|[-+*/%&|^!~<>(){};,.?:=\[\]]))")


def tokenize(text: str) -> list[str]:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    out, pos = [], 0
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip():
                raise CSubsetError(f"cannot read C at {text[pos:pos + 40]!r}")
            return out
        out.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()


def handlers(text: str) -> tuple[dict[str, Handler], dict[str, str]]:
    """(handler name -> Handler, tracepoint -> handler name) of a monitor's C file.

    Other `static inline void` functions are helpers the handlers may call."""
    found: dict[str, Handler] = {}
    helpers: dict[str, Handler] = {}
    for m in re.finditer(r"^static (?:inline )?void (\w+)\(([^)]*)\)\n\{\n(.*?)^\}$",
                         text, re.M | re.S):
        params = [re.findall(r"\w+", p)[-1] for p in m.group(2).split(",")]
        name = m.group(1)
        if name.startswith("handle_") and params[0] == "data":
            found[name.removeprefix("handle_")] = Handler(name, params[1:],
                                                          tokenize(m.group(3)), helpers)
        elif name.startswith("handle_"):
            helpers[name] = Handler(name, params, tokenize(m.group(3)), helpers)
    attached = {tp: h for tp, h in re.findall(
        r"rv_attach_trace_probe\(\s*\"\w+\",\s*(\w+),\s*handle_(\w+)\s*\);", text)}
    return found, attached


CURRENT = Task("current", pid=1)
# deadline entity types (enum of include/trace/events/sched.h; the values are arbitrary here)
DL_TYPES = {"DL_TASK": 0, "DL_SERVER_FAIR": 1, "DL_SERVER_EXT": 2, "DL_OTHER": 3}
BUILTINS = {
    "ha_prev_state": lambda w, preempt, state, prev: reported_prev_state(bool(preempt), state,
                                                                         prev.exit_state),
    "task_cpu": lambda w, p: 0,
    # the deadline container's helpers (kernel/trace/rv/monitors/deadline/deadline.h)
    "EXPAND_ID": lambda w, dl_se, cpu, type_: ("entity", dl_se.name, cpu, type_),
    "EXPAND_ID_TASK": lambda w, task: ("task", task.name),
    "is_supported_type": lambda w, t: int(t in (0, 1, 2)),
    "is_idle_task": lambda w, t: int(t.idle),
    "get_server_type": lambda w, t: t.server_type,
    "get_server": lambda w, t, type_: (t.dl_server if t.dl_server and t.server_type == type_
                                       else {1: w.fair, 2: w.ext}.get(type_)),
    "IS_ENABLED": lambda w, symbol: int(symbol == "CONFIG_SCHED_CLASS_EXT" and w.sched_ext),
}
NAMES = {**CONSTANTS, **KERNEL_CONSTANTS, **DL_TYPES, "true": 1, "false": 0, "NULL": 0}
TYPES = ("int", "u8", "u64", "bool", "pid_t", "unsigned", "struct")


class _Interp:
    def __init__(self, tokens: list[str], env: dict, ctx: _Context) -> None:
        self.t = tokens
        self.i = 0
        self.env = env
        self.ctx = ctx
        self.suffix = f"_{ctx.monitor}"

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise CSubsetError(f"expected {want!r}, found {tok!r}")
        self.i += 1
        return tok

    def statements_until(self, end: str | None) -> None:
        while self.peek() != end:
            self.statement(True)

    def statement(self, live: bool) -> None:
        tok = self.peek()
        if tok == "{":
            self.take("{")
            while self.peek() != "}":
                self.statement(live)
            self.take("}")
        elif tok == "if":
            self.take("if")
            self.take("(")
            cond = self.expr(live)
            self.take(")")
            self.statement(live and bool(cond))
            if self.peek() == "else":
                self.take("else")
                self.statement(live and not cond)
        elif tok == ";":
            self.take(";")
        elif tok in TYPES:
            # a declaration with an initializer: `struct x *name = expr;`
            while self.t[self.i + 1] != "=":
                self.take()
            name = self.take()
            self.take("=")
            self.env[name] = self.expr(live)
            self.take(";")
        else:
            self.expr(live)
            self.take(";")

    # precedence climbing over the binary operators conditions use
    LEVELS = (("||",), ("&&",), ("|",), ("&",), ("==", "!="), ("<", "<=", ">", ">="))

    def expr(self, live: bool, level: int = 0) -> object:
        if level == len(self.LEVELS):
            return self.unary(live)
        left = self.expr(live, level + 1)
        while self.peek() in self.LEVELS[level]:
            op = self.take()
            if op == "||":
                right = self.expr(live and not left, level + 1)
                left = int(bool(left) or bool(right))
            elif op == "&&":
                right = self.expr(live and bool(left), level + 1)
                left = int(bool(left) and bool(right))
            else:
                right = self.expr(live, level + 1)
                left = int(_binary(op, left, right))
        return left

    def unary(self, live: bool) -> object:
        if self.peek() == "!":
            self.take("!")
            return int(not self.unary(live))
        if self.peek() == "(":
            self.take("(")
            value = self.expr(live)
            self.take(")")
            return value
        tok = self.take()
        if re.fullmatch(r"0x[0-9a-fA-F]+|\d+", tok):
            return int(tok, 0)
        value: object
        if self.peek() == "(":
            value = self.call(tok, live)
        elif tok in self.env:
            value = self.env[tok]
        elif tok in NAMES:
            value = NAMES[tok]
        elif tok.endswith(self.suffix):
            value = tok  # a model event
        elif tok.startswith("CONFIG_"):
            value = tok  # IS_ENABLED()'s argument
        elif tok == f"{self.ctx.monitor}_event_ns":
            value = 0  # the per-CPU time stamp of generated monitors
        else:
            raise CSubsetError(f"unknown name {tok!r}")
        while self.peek() == "->":
            self.take("->")
            value = getattr(value, self.take())
        if value is None:
            value = 0  # a NULL pointer
        return value

    def call(self, name: str, live: bool) -> object:
        if not live:
            # code that does not run: its calls, and their arguments, are not made
            depth = 0
            while True:
                tok = self.take()
                depth += {"(": 1, ")": -1}.get(tok, 0)
                if depth == 0:
                    return 0
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.expr(live))
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        if name.startswith("da_handle_"):
            # da_handle_<kind>[_<monitor>] (the kernel's old API names the monitor)
            kind = name.removeprefix("da_handle_").removesuffix(self.suffix)
            obj = args[0] if len(args) > 1 else None
            self.ctx.calls.append((kind, getattr(obj, "name", obj), args[-1]))
            return None
        if name in ("__this_cpu_write", "ktime_get_ns"):
            return 0  # the shared event time stamp, no model event
        if name in BUILTINS:
            return BUILTINS[name](self.ctx.world, *args)
        if name in self.ctx.helpers:
            self.ctx.helpers[name].call(args, self.ctx)
            return None
        raise CSubsetError(f"unknown function {name!r}")


def _binary(op: str, a: object, b: object) -> object:
    if not (isinstance(a, int) and isinstance(b, int)):
        if op in ("==", "!="):
            return (a == b) == (op == "==")
        raise CSubsetError(f"{op} on {a!r} and {b!r}")
    return {"|": a | b, "&": a & b, "==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
            ">": a > b, ">=": a >= b}[op]
