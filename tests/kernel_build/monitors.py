"""Which monitors the project generates for a kernel tree, and how.

The checked-in `generated/<m>/kernel-c/` monitors, and every upstream model
(`../shared/models/upstream/<path>.dot`, the kernel's tools/verification/models/
layout) generated with its binding `models/upstream/<path>.binding.toml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hamodel import diagnostics as dg
from hamodel.binding import find_binding, load_binding
from hamodel.gen import GenOptions
from hamodel.gen.kernel_c import build_view, generate
from hamodel.gen.kernel_kunit import Kunit
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


def _options(u: Upstream):
    automaton, diags = load_model(u.model)
    if automaton is None:
        raise ValueError(f"{u.model}: " + "; ".join(d.message for d in diags if d.is_error))
    binding, diags = load_binding(u.binding, automaton)
    if binding is None or dg.has_errors(diags):
        raise ValueError(f"{u.binding}: " + "; ".join(d.message for d in diags))
    return automaton, GenOptions(str(u.model), binding=binding)


def generate_upstream(u: Upstream) -> dict[str, str]:
    """`hamodel gen --target kernel-c MODEL --binding BINDING`, in process."""
    return generate(*_options(u))


def upstream_kunit(u: Upstream) -> Kunit:
    """The KUnit part of that monitor (its lines in rv_monitors_test.c)."""
    return build_view(*_options(u)).kunit


def checked_in_kunit(name: str) -> Kunit | None:
    """The KUnit part of generated/<name>/kernel-c/, from models/<name>.dot and its binding;
    None for a monitor from an LTL specification (its generator writes no cases)."""
    model = ROOT / "models" / f"{name}.dot"
    if not model.is_file():
        return None
    automaton, _ = load_model(model)
    binding, _ = find_binding(model, automaton)
    return build_view(automaton, GenOptions(f"models/{name}.dot", binding=binding)).kunit


def checked_in() -> list[tuple[str, Path]]:
    """(monitor name, directory) of every generated/<m>/kernel-c/."""
    return [(d.parent.name, d) for d in sorted(GENERATED.glob("*/kernel-c"))]
