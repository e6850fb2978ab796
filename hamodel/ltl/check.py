"""`hamodel check X.ltl`: LtlSpec (+ binding) -> findings, in the Report of `hamodel check`.

What is checked, each a code of codes.py:

- the formula is satisfiable (HA320), the monitor can start (HA321: some
  initial state's label can hold) and can ever report (HA322: some finite run
  leaves no state; a formula that only constrains the infinite future, like
  `always (A imply eventually B)`, never does, because ltl_monitor.h has no
  acceptance condition);
- every `imply` can fail (HA323: its left side can hold and its right side
  can fail; otherwise it is vacuous);
- the kernel's limits of 32 atoms and 32 states (HA325, HA326), atom names
  that cannot become C (HA327) and atoms whose trace names are the same
  (HA328);
- with a binding, every atom is set by something (HA324: an init value, a
  fetch or a tracepoint; an atom nothing sets stays unknown and the monitor
  never starts).

The reading stage's warnings (precedence, unused macros) come first.
`--violate` asks for the shortest run after which the monitor reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel import diagnostics as dg
from hamodel.check.codes import QUERY_VIOLATE
from hamodel.check.timed import Finding
from hamodel.diagnostics import Diagnostic, Note, Severity
from hamodel.ltl import codes
from hamodel.ltl.binding import LtlBinding
from hamodel.ltl.buchi import Buchi, BuchiTooLarge, buchi_of, build_buchi
from hamodel.ltl.formula import Atom, Binary, LtlSpec, Op, Unary, explicit, walk
from hamodel.ltl.names import abbreviations, c_problem
from hamodel.ltl.sat import Unknown, Witness, can_enter, first_violation, nonempty
from hamodel.source import Span

MAX_ATOMS = 32  # RV_MAX_LTL_ATOM (include/linux/rv.h)
MAX_STATES = 32  # RV_MAX_BA_STATES


@dataclass(frozen=True, slots=True)
class LtlCheck:
    findings: tuple[Finding, ...]
    incomplete: bool
    can_report: bool | None  # None: not decided


def _rule_span(spec: LtlSpec) -> Span | None:
    d = spec.definition("RULE")
    return d.span if d else None


def atom_span(spec: LtlSpec, atom: str) -> Span | None:
    """Where the atom is first written (RULE first, then the macros in file order)."""
    order = sorted(spec.definitions, key=lambda d: d.name != "RULE")
    for d in order:
        for n in walk(d.body):
            if isinstance(n, Atom) and n.name == atom:
                return n.span
    return None


def check_spec(spec: LtlSpec, binding: LtlBinding | None = None, violate: bool = False
               ) -> LtlCheck:
    found: list[Diagnostic] = []
    where = _rule_span(spec)
    found += _names(spec)
    try:
        b = build_buchi(spec)
    except BuchiTooLarge as exc:
        found.append(dg.error(codes.STATE_LIMIT, f"RULE needs {exc} (the kernel takes at most"
                              f" {MAX_STATES})", where))
        return LtlCheck(tuple(Finding(d) for d in found), True, None)
    if len(b.states) > MAX_STATES:
        found.append(dg.error(codes.STATE_LIMIT, f"the Büchi automaton has {len(b.states)}"
                              f" states; ltl_monitor.h holds at most {MAX_STATES}", where))
    if not nonempty(b):
        found.append(dg.error(codes.UNSATISFIABLE, "RULE is unsatisfiable: no run of any task"
                              " can satisfy it", where))
    starts = any(can_enter(b, s) for s in b.initial)
    if not starts:
        found.append(dg.error(codes.NEVER_STARTS, "the monitor never starts: no initial"
                              " state's label can hold", where))
    found += _vacuous(spec)
    if binding is not None:
        found += _unbound(spec, binding)
    incomplete = False
    can_report: bool | None = False
    witness: Witness | None = None
    if len(b.states) > MAX_STATES:  # not a kernel monitor: what it reports is moot
        can_report = None
    elif starts:
        answer = first_violation(b)
        if isinstance(answer, Unknown):
            incomplete, can_report = True, None
            found.append(dg.warning(codes.CHECK_INCOMPLETE, "gave up deciding whether the"
                                    f" monitor can report after {answer.explored} sets of"
                                    " states (the search has a fixed budget)", where))
        elif answer is None:
            found.append(dg.warning(codes.NEVER_REPORTS, "the monitor can never report a"
                                    " violation: every finite run can go on (ltl_monitor.h"
                                    " has no acceptance condition, so only a finite prefix"
                                    " that no run extends is reported)", where))
        else:
            can_report, witness = True, answer
    if violate and witness is not None:
        found.append(Diagnostic(Severity.INFO, QUERY_VIOLATE, "the monitor reports a"
                                f" violation after {len(witness.steps)} updates",
                                where, _witness_notes(b, witness)))
    elif violate and can_report is False:
        found.append(Diagnostic(Severity.INFO, QUERY_VIOLATE,
                                "the monitor can never report a violation", where))
    found.sort(key=dg.sort_key)
    return LtlCheck(tuple(Finding(d) for d in found), incomplete, can_report)


def _witness_notes(b: Buchi, w: Witness) -> tuple[Note, ...]:
    notes = []
    for i, values in enumerate(w.steps):
        shown = ", ".join(a for a in b.atoms if values.get(a)) or "no atom"
        what = "start" if i == 0 else ("violation" if i == len(w.steps) - 1 else "step")
        notes.append(Note(f"{what}: {shown} holds" if "," not in shown else
                          f"{what}: {shown} hold"))
    return tuple(notes)


def _names(spec: LtlSpec) -> list[Diagnostic]:
    out = []
    if len(spec.atoms) > MAX_ATOMS:
        out.append(dg.error(codes.ATOM_LIMIT, f"RULE has {len(spec.atoms)} atoms;"
                            f" ltl_monitor.h holds at most {MAX_ATOMS}", _rule_span(spec)))
    for atom in spec.atoms:
        problem = c_problem(atom)
        if problem:
            out.append(dg.error(codes.C_CLASH, f"atom {atom} cannot be generated: {problem}",
                                atom_span(spec, atom)))
    seen: dict[str, str] = {}
    for atom, short in zip(spec.atoms, abbreviations(spec.atoms), strict=True):
        if short in seen or not short:
            other = seen.get(short)
            why = f"as {other}" if other else "an empty name"
            out.append(dg.warning(codes.ABBREVIATION_CLASH,
                                  f"atom {atom} is printed as {short!r} in the trace, {why}",
                                  atom_span(spec, atom)))
        seen.setdefault(short, atom)
    return out


def _vacuous(spec: LtlSpec) -> list[Diagnostic]:
    out = []
    for node in walk(spec.rule):
        if not (isinstance(node, Binary) and node.op is Op.IMPLY):
            continue
        text = f"`{explicit(node)}`"
        try:
            left = nonempty(buchi_of(node.left, atoms=spec.atoms))
            right_fails = nonempty(buchi_of(Unary(Op.NOT, node.right), atoms=spec.atoms))
        except BuchiTooLarge:
            continue
        if not left:
            out.append(dg.warning(codes.VACUOUS, f"{text} cannot fail: its left side"
                                  f" `{explicit(node.left)}` never holds", node.op_span))
        elif not right_fails:
            out.append(dg.warning(codes.VACUOUS, f"{text} cannot fail: its right side"
                                  f" `{explicit(node.right)}` always holds", node.op_span))
    return out


def _unbound(spec: LtlSpec, binding: LtlBinding) -> list[Diagnostic]:
    out = []
    for atom in spec.atoms:
        if not binding.known(atom):
            out.append(dg.error(
                codes.ATOM_NEVER_SET,
                f"nothing in {binding.file} sets atom {atom}: it stays unknown, so the monitor"
                " never starts", atom_span(spec, atom)))
    return out
