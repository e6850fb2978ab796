"""Generators: one module per target, found through TARGETS.

A target module exposes `generate(automaton, options) -> dict[str, str]`
(relative path -> file text).  It builds a view in Python and renders
templates/<target>/ with `render`; it never writes files: the CLI does that,
atomically, and only when every file of the target was generated.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from hamodel.binding import Binding

if TYPE_CHECKING:
    import jinja2

# Target name (as on the command line) -> module.  Dashes on the command line,
# underscores in module names.
TARGETS: dict[str, str] = {
    "ebpf": "hamodel.gen.ebpf",
    "kernel-c": "hamodel.gen.kernel_c",
    "python": "hamodel.gen.python",
}


class GenError(Exception):
    """The model cannot be generated for this target; carries diagnostics."""

    def __init__(self, diagnostics: list) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass(frozen=True, slots=True)
class GenOptions:
    model_path: str
    binding: Binding | None = None
    monitor_type: str | None = None  # -t: global | per_cpu | per_task | per_obj
    name: str | None = None  # -n
    parent: str | None = None  # -p: container monitor
    description: str | None = None  # -D


def target_module(target: str) -> ModuleType:
    return importlib.import_module(TARGETS[target])


def templates_dir() -> Path:
    """hamodel/templates when installed (pyproject.toml puts it there); in a source
    checkout or an editable install, templates/ beside the package."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


@functools.cache
def environment(target: str) -> jinja2.Environment:
    import jinja2  # noqa: PLC0415 (Jinja only for the commands that render templates)

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / target)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(target: str, template: str, **view: object) -> str:
    return environment(target).get_template(template).render(**view)
