"""An in-tree hybrid-automaton `<m>.c` -> its constraints in the model's terms.

ha_monitor.h leaves four things to the monitor's `.c`, and rvgen writes them
in fixed shapes: `HA_TIMER_TYPE`, `ha_get_env()` (which clock counts ns and
which jiffies), `ha_verify_invariants()` (one `ha_check_invariant_<kind>()`
per state), `ha_verify_guards()` (per state and event a guard `res = ...;`
and `ha_reset_env()` calls) and `ha_setup_invariants()` (the timer armed on
entering a state).  This module reads those shapes back into model values
(hamodel.model's Cmp/And/Or/Not, Number, Symbol) so drift.py can compare
meaning, not spelling.  A function in another shape is reported as unread,
never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.model import And, Cmp, Guard, Not, Number, Or, Symbol, TimeUnit, Value
from hamodel.source import Span
from hamodel.tree.ctokens import CFile, Token, function_body, matching

_SCALES = {u.scale: u for u in (TimeUnit.US, TimeUnit.MS, TimeUnit.S)}
COMPARE = ("==", "!=", "<", "<=", ">", ">=")


class Unread(ValueError):
    """A construct outside the generator's shapes; `token` is where reading stopped."""

    def __init__(self, message: str, token: Token | None) -> None:
        super().__init__(message)
        self.token = token


@dataclass(frozen=True, slots=True)
class CheckedInvariant:
    """`ha_check_invariant_<kind>(ha_mon, <clock>, time_ns, <expiry>)` for one state."""

    state: str
    clock: str
    kind: str  # "ns" | "jiffy"
    bound: Value
    strict: bool  # expiry B means clk < B; B + 1 means clk <= B
    span: Span


@dataclass(frozen=True, slots=True)
class TimerStart:
    """`ha_start_timer_<kind>(ha_mon, <clock>, <expiry>, time_ns)` on entering `state`."""

    state: str
    clock: str
    kind: str
    bound: Value
    strict: bool
    span: Span


@dataclass(frozen=True, slots=True)
class GuardCase:
    """What ha_verify_guards does for (state, event): a guard (None: none) and resets.

    `escapes` names the clocks whose comparisons are written with the
    unset-clock escape `ha_monitor_env_invalid(ha_mon, clk) || ...`.
    """

    state: str
    event: str
    guard: Guard | None
    escapes: frozenset[str]
    resets: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class MonitorC:
    path: str
    timer: tuple[str, Span] | None  # HA_TIMER_TYPE as defined
    clock_kinds: tuple[tuple[str, str, Span], ...]  # (env, "ns"|"jiffy") from ha_get_env
    invariants: tuple[CheckedInvariant, ...] | None  # None: no ha_verify_invariants
    starts: tuple[TimerStart, ...] | None
    guards: tuple[GuardCase, ...] | None
    unread: tuple[tuple[str, Span], ...]  # (what could not be read, where)
    include: Span | None = None  # `#include <rv/ha_monitor.h>`, where a timer type belongs


def span_of(path: str, t: Token) -> Span:
    return Span(path, t.line, t.col, t.line, t.end_col)


def read_monitor_c(cfile: CFile, monitor: str) -> MonitorC:
    reader = _Reader(cfile, f"_{monitor}")
    timer = None
    include = next((d for d in cfile.directives if d.words[:1] == ("include",)
                    and "ha_monitor" in "".join(d.words)), None)
    d = cfile.define("HA_TIMER_TYPE")
    if d is not None and len(d.words) >= 3:
        col = cfile.line_text(d.line).find(d.words[2]) + 1 or d.col
        timer = (d.words[2], Span(cfile.path, d.line, col, d.line, col + len(d.words[2])))
    return MonitorC(
        path=cfile.path,
        timer=timer,
        clock_kinds=reader.section("ha_get_env", reader.clock_kinds, ()),
        invariants=reader.section("ha_verify_invariants", reader.invariants, None),
        starts=reader.section("ha_setup_invariants", reader.starts, None),
        guards=reader.section("ha_verify_guards", reader.guards, None),
        unread=tuple(reader.unread),
        include=Span(cfile.path, include.line, 1, include.line, 2) if include else None,
    )


class _Reader:
    def __init__(self, cfile: CFile, suffix: str) -> None:
        self.f = cfile
        self.toks = cfile.tokens
        self.suffix = suffix
        self.unread: list[tuple[str, Span]] = []

    def section(self, function: str, read, absent):
        body = function_body(self.f, function)
        if body is None:
            return absent
        try:
            return tuple(read(*body))
        except Unread as exc:
            t = exc.token or self.toks[body[0]]
            self.unread.append((f"{function}(): {exc}", span_of(self.f.path, t)))
            return absent

    def name(self, t: Token) -> str:
        return t.text.removesuffix(self.suffix)

    # --- statements ---------------------------------------------------------------

    def cases(self, first: int, last: int):
        """The if / else-if chain: yields (condition tokens, statement token ranges)."""
        toks = self.toks
        k = first
        while k < last:
            t = toks[k]
            if t.text == "if":
                if toks[k + 1].text != "(":
                    raise Unread("expected `(` after `if`", toks[k + 1])
                close = matching(toks, k + 1)
                cond = toks[k + 2:close]
                k = close + 1
                if toks[k].text == "{":
                    end = matching(toks, k)
                    stmts = self.statements(k + 1, end)
                    k = end + 1
                else:
                    end = self.statement_end(k, last)
                    stmts = [(k, end)]
                    k = end + 1
                yield cond, stmts
                if k < last and toks[k].text == "else":
                    k += 1
                continue
            if t.text in ("bool", "return") or t.text == "res":
                k = self.statement_end(k, last) + 1  # `bool res = true;`, `return res;`
                continue
            raise Unread(f"unexpected `{t.text}`", t)

    def statement_end(self, k: int, last: int) -> int:
        toks = self.toks
        depth = 0
        while k < last:
            if toks[k].text in "([{":
                depth += 1
            elif toks[k].text in ")]}":
                depth -= 1
            elif toks[k].text == ";" and depth == 0:
                return k
            k += 1
        raise Unread("statement without `;`", toks[last - 1] if last else None)

    def statements(self, first: int, last: int) -> list[tuple[int, int]]:
        out = []
        k = first
        while k < last:
            end = self.statement_end(k, last)
            out.append((k, end))
            k = end + 1
        return out

    def conjuncts(self, cond: tuple[Token, ...]) -> dict[str, Token]:
        """`curr_state == X && event == Y` -> {"curr_state": X, "event": Y}."""
        out: dict[str, Token] = {}
        parts: list[list[Token]] = [[]]
        for t in cond:
            if t.text == "&&":
                parts.append([])
            else:
                parts[-1].append(t)
        for p in parts:
            if len(p) != 3 or p[1].text not in ("==", "!=") or p[0].kind != "ident":
                raise Unread("a condition that is not `curr_state == S && event == E`",
                             p[0] if p else None)
            key = p[0].text if p[1].text == "==" else f"{p[0].text}!="
            out[key] = p[2]
        return out

    # --- the functions ------------------------------------------------------------

    def clock_kinds(self, first: int, last: int):
        for cond, stmts in self.cases(first, last):
            env = self.conjuncts(cond).get("env")
            for a, b in stmts:
                words = [t.text for t in self.toks[a:b]]
                for kind in ("ns", "jiffy"):
                    if f"ha_get_clk_{kind}" in words and env is not None:
                        yield (self.name(env), kind, span_of(self.f.path, env))

    def invariants(self, first: int, last: int):
        for cond, stmts in self.cases(first, last):
            state = self.conjuncts(cond).get("curr_state")
            if state is None or len(stmts) != 1:
                raise Unread("expected `if (curr_state == S) return ha_check_invariant_...`",
                             cond[0] if cond else None)
            a, b = stmts[0]
            toks = self.toks[a:b]
            if len(toks) < 3 or toks[0].text != "return":
                raise Unread("expected `return ha_check_invariant_...(...)`", toks[0])
            call, args = self.call(toks[1:])
            kind = call.text.removeprefix("ha_check_invariant_")
            if kind not in ("ns", "jiffy") or len(args) != 4:
                raise Unread(f"`{call.text}` with {len(args)} arguments", call)
            bound, strict = self.expiry(args[3])
            yield CheckedInvariant(self.name(state), self.name(args[1][0]), kind, bound, strict,
                                   span_of(self.f.path, call))

    def starts(self, first: int, last: int):
        for cond, stmts in self.cases(first, last):
            parts = self.conjuncts(cond)
            state = parts.get("next_state")
            for a, b in stmts:
                toks = self.toks[a:b]
                if toks[0].text.startswith("ha_start_timer_") and state is not None:
                    call, args = self.call(toks)
                    kind = call.text.removeprefix("ha_start_timer_")
                    if len(args) != 4:
                        raise Unread(f"`{call.text}` with {len(args)} arguments", call)
                    bound, strict = self.expiry(args[2])
                    yield TimerStart(self.name(state), self.name(args[1][0]), kind, bound,
                                     strict, span_of(self.f.path, call))

    def guards(self, first: int, last: int):
        for cond, stmts in self.cases(first, last):
            parts = self.conjuncts(cond)
            state, event = parts.get("curr_state"), parts.get("event")
            if state is None or event is None:
                raise Unread("expected `if (curr_state == S && event == E)`",
                             cond[0] if cond else None)
            guard: Guard | None = None
            escapes: set[str] = set()
            resets: list[str] = []
            at = state
            for a, b in stmts:
                toks = self.toks[a:b]
                if toks[0].text == "res" and toks[1].text == "=":
                    guard, found = _Expr(self, toks[2:]).whole()
                    escapes |= found
                    at = toks[2]
                elif toks[0].text == "ha_reset_env":
                    _, args = self.call(toks)
                    resets.append(self.name(args[1][0]))
                else:
                    raise Unread(f"unexpected `{toks[0].text}` in a guard case", toks[0])
            yield GuardCase(self.name(state), self.name(event), guard, frozenset(escapes),
                            tuple(resets), span_of(self.f.path, at))

    # --- pieces -------------------------------------------------------------------

    def call(self, toks: tuple[Token, ...]) -> tuple[Token, list[tuple[Token, ...]]]:
        """`f(a, b, c)` -> (f, [a tokens, b tokens, c tokens])."""
        if len(toks) < 3 or toks[1].text != "(":
            raise Unread("expected a call", toks[0] if toks else None)
        args: list[list[Token]] = [[]]
        depth = 0
        for t in toks[2:]:
            if t.text in "([{":
                depth += 1
            elif t.text in ")]}":
                if depth == 0:
                    break
                depth -= 1
            if t.text == "," and depth == 0:
                args.append([])
            else:
                args[-1].append(t)
        return toks[0], [tuple(a) for a in args]

    def expiry(self, toks: tuple[Token, ...]) -> tuple[Value, bool]:
        """A timer expiry: `B` (the invariant `clk < B`) or `B + 1` (`clk <= B`)."""
        if len(toks) >= 3 and toks[-2].text == "+" and _int(toks[-1]) == 1:
            return _Expr(self, toks[:-2]).value_only(), False
        value = _Expr(self, toks).value_only()
        return value, True


def _int(t: Token) -> int | None:
    if t.kind != "number":
        return None
    return int(t.text.rstrip("uUlL"), 0)


class _Expr:
    """Recursive descent over a guard: `||`, `&&`, `!`, parentheses, comparisons of
    `ha_get_env(ha_mon, E, time_ns)` with a value, and rvgen's unset-clock escape."""

    def __init__(self, reader: _Reader, toks: tuple[Token, ...]) -> None:
        self.r = reader
        self.toks = toks
        self.k = 0
        self.escapes: set[str] = set()

    def peek(self) -> str:
        return self.toks[self.k].text if self.k < len(self.toks) else ""

    def take(self, text: str | None = None) -> Token:
        if self.k >= len(self.toks):
            raise Unread("the expression ends early", self.toks[-1] if self.toks else None)
        t = self.toks[self.k]
        if text is not None and t.text != text:
            raise Unread(f"expected `{text}`, found `{t.text}`", t)
        self.k += 1
        return t

    def whole(self) -> tuple[Guard, set[str]]:
        g = self.or_()
        if self.k != len(self.toks):
            raise Unread(f"unexpected `{self.peek()}`", self.toks[self.k])
        if g is None:
            raise Unread("a guard that only tests for an unset clock", self.toks[0])
        return g, self.escapes

    def value_only(self) -> Value:
        v = self.value()
        if self.k != len(self.toks):
            raise Unread(f"unexpected `{self.peek()}` in a bound", self.toks[self.k])
        return v

    def or_(self) -> Guard | None:
        left = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            left = _join(Or, left, right)
        return left

    def and_(self) -> Guard | None:
        left = self.unary()
        while self.peek() == "&&":
            at = self.take()
            right = self.unary()
            if left is None or right is None:
                raise Unread("an unset-clock test joined with `&&`", at)
            left = And(left, right)
        return left

    def unary(self) -> Guard | None:
        if self.peek() == "!":
            self.take()
            inner = self.unary()
            if inner is None:
                raise Unread("a negated unset-clock test", self.toks[self.k - 1])
            return Not(inner)
        if self.peek() == "(":
            self.take()
            inner = self.or_()
            self.take(")")
            return inner
        t = self.take()
        if t.text == "ha_monitor_env_invalid":
            self.take("(")
            self.take("ha_mon")
            self.take(",")
            env = self.take()
            self.take(")")
            self.escapes.add(self.r.name(env))
            return None  # the escape: folded into the comparison it guards
        if t.text != "ha_get_env":
            raise Unread(f"`{t.text}` where a comparison of ha_get_env() was expected", t)
        self.take("(")
        self.take("ha_mon")
        self.take(",")
        env = self.take()
        self.take(",")
        self.take("time_ns")
        self.take(")")
        op = self.take()
        if op.text not in COMPARE:
            raise Unread(f"`{op.text}` where a comparison was expected", op)
        return Cmp(self.r.name(env), op.text, self.value())

    def value(self) -> Value:
        t = self.take()
        if t.kind == "number":
            value: Value = Number(_int(t) or 0, None)
        elif t.kind == "ident":
            call = False
            if self.peek() == "(":
                self.take()
                self.take("ha_mon")
                self.take(")")
                call = True
            value = Symbol(t.text, call)
        else:
            raise Unread(f"`{t.text}` where a bound was expected", t)
        if self.peek() == "*":
            self.take()
            scale = self.take()
            unit = _SCALES.get(_int(scale) or 0)
            if unit is None or not isinstance(value, Symbol):
                raise Unread(f"a bound scaled by `{scale.text}`", scale)
            value = Symbol(value.name, value.call, unit)
        return value


def _join(kind, left: Guard | None, right: Guard | None) -> Guard | None:
    """Combine two operands; an escape (None) vanishes into its neighbour."""
    if left is None:
        return right
    if right is None:
        return left
    return kind(left, right)
