"""Hypothesis strategies for LTL formulas in hamodel's model (hamodel.ltl.formula)."""

from __future__ import annotations

from hypothesis import strategies as st

from hamodel.ltl.formula import Atom, Binary, Const, Op, Unary

ATOMS = ("A", "B", "C", "RT", "SLEEP")
UNARY = (Op.ALWAYS, Op.EVENTUALLY, Op.NEXT, Op.NOT)
BINARY = (Op.UNTIL, Op.AND, Op.OR, Op.IMPLY)


def formulas(atoms: tuple[str, ...] = ATOMS, max_leaves: int = 8):
    leaves = st.one_of(st.sampled_from(atoms).map(Atom), st.booleans().map(Const))
    return st.recursive(
        leaves,
        lambda sub: st.one_of(
            st.builds(Unary, st.sampled_from(UNARY), sub),
            st.builds(Binary, st.sampled_from(BINARY), sub, sub),
        ),
        max_leaves=max_leaves,
    )
