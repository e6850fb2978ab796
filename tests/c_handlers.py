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
class Task:
    """A task_struct argument; `name` tells the calls apart (prev, next, ...)."""

    name: str
    pid: int
    state: int = 0
    exit_state: int = 0
    policy: int = 0
    prio: int = 120


@dataclass
class Handler:
    name: str
    params: list[str]  # argument names after `void *data`, in order
    body: list[str]  # tokens between the braces
    helpers: dict[str, Handler] = field(default_factory=dict)

    def run(self, args: list[object], monitor: str) -> list[tuple[str, object, str]]:
        """The da_handle_* calls of one hit with these arguments (positional)."""
        env = {"current": CURRENT, **dict(zip(self.params, args, strict=False))}
        calls: list[tuple[str, object, str]] = []
        _Interp(self.body, env, calls, monitor).statements_until(None)
        return calls


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
    """(handler name -> Handler, tracepoint -> handler name) of a monitor's C file."""
    found: dict[str, Handler] = {}
    for m in re.finditer(r"^static (?:inline )?void handle_(\w+)\(void \*data, ([^)]*)\)\n\{\n(.*?)^\}$",
                         text, re.M | re.S):
        params = [re.findall(r"\w+", p)[-1] for p in m.group(2).split(",")]
        found[m.group(1)] = Handler(m.group(1), params, tokenize(m.group(3)))
    attached = {tp: h for tp, h in re.findall(
        r"rv_attach_trace_probe\(\s*\"\w+\",\s*(\w+),\s*handle_(\w+)\s*\);", text)}
    return found, attached


CURRENT = Task("current", pid=1)
BUILTINS = {
    "ha_prev_state": lambda preempt, state, prev: reported_prev_state(bool(preempt), state,
                                                                      prev.exit_state),
    "task_cpu": lambda p: 0,
}
NAMES = {**CONSTANTS, **KERNEL_CONSTANTS, "true": 1, "false": 0, "NULL": 0}


class _Interp:
    def __init__(self, tokens: list[str], env: dict, calls: list, monitor: str) -> None:
        self.t = tokens
        self.i = 0
        self.env = env
        self.calls = calls
        self.suffix = f"_{monitor}"

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
        else:
            raise CSubsetError(f"unknown name {tok!r}")
        while self.peek() == "->":
            self.take("->")
            value = getattr(value, self.take())
        return value

    def call(self, name: str, live: bool) -> object:
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
            if live:
                obj = args[0] if len(args) > 1 else None
                self.calls.append((kind, getattr(obj, "name", obj), args[-1]))
            return None
        if name in ("__this_cpu_write", "ktime_get_ns"):
            return 0  # the shared event time stamp, no model event
        if name in BUILTINS:
            return BUILTINS[name](*args)
        raise CSubsetError(f"unknown function {name!r}")


def _binary(op: str, a: object, b: object) -> object:
    if not (isinstance(a, int) and isinstance(b, int)):
        if op in ("==", "!="):
            return (a == b) == (op == "==")
        raise CSubsetError(f"{op} on {a!r} and {b!r}")
    return {"|": a | b, "&": a & b, "==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
            ">": a > b, ">=": a >= b}[op]
