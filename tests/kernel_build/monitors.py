"""Which monitors the project generates for a kernel tree, and how.

The checked-in `generated/<m>/kernel-c/` monitors, and every upstream model
(`../shared/models/upstream/<path>.dot`, the kernel's tools/verification/models/
layout) generated with its binding `models/upstream/<path>.binding.toml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel.binding import load_binding
from hamodel.gen import GenOptions
from hamodel.gen.kernel_c import generate
from hamodel.load import load_model

ROOT = Path(__file__).resolve().parents[2]
BINDINGS = ROOT / "models" / "upstream"
UPSTREAM_MODELS = ROOT.parent / "shared" / "models" / "upstream"
GENERATED = ROOT / "generated"

# Monitors whose kernel C cannot build on Debian's 6.12 (the kernel's own file
# for them does not either), and why.
NOT_ON_6_12 = {
    "nomiss": "6.12 has neither the deadline-server API its deadline container uses"
              " nor the sched_dl_*_tp tracepoints",
}


@dataclass(frozen=True, slots=True)
class Upstream:
    name: str
    model: Path
    binding: Path


def upstream() -> list[Upstream]:
    """One entry per binding under models/upstream/, in path order."""
    out = []
    for binding in sorted(BINDINGS.rglob("*.binding.toml")):
        rel = binding.relative_to(BINDINGS).as_posix().removesuffix(".binding.toml")
        out.append(Upstream(rel.rsplit("/", 1)[-1], UPSTREAM_MODELS / f"{rel}.dot", binding))
    return out


def generate_upstream(u: Upstream) -> dict[str, str]:
    """`hamodel gen --target kernel-c MODEL --binding BINDING`, in process."""
    automaton, diags = load_model(u.model)
    if automaton is None:
        raise ValueError(f"{u.model}: " + "; ".join(d.message for d in diags if d.is_error))
    binding, diags = load_binding(u.binding, automaton)
    if binding is None or dg.has_errors(diags):
        raise ValueError(f"{u.binding}: " + "; ".join(d.message for d in diags))
    return generate(automaton, GenOptions(str(u.model), binding=binding))


def checked_in() -> list[tuple[str, Path]]:
    """(monitor name, directory) of every generated/<m>/kernel-c/."""
    return [(d.parent.name, d) for d in sorted(GENERATED.glob("*/kernel-c"))]
