"""Small texts the findings share: a bound as written, a proof's invariants as notes."""

from __future__ import annotations

from hamodel.check.proof import Proof
from hamodel.diagnostics import Note
from hamodel.model import Number, Symbol


def bound_text(v: Number | Symbol) -> str:
    if isinstance(v, Number):
        return v.text or str(v.value)
    return v.text


def proof_notes(proof: Proof) -> list[Note]:
    return [
        Note(f"inductive invariant of {state!r} (re-checked): {text}")
        for state, text in proof.invariants
    ]
