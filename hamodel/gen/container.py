"""A container monitor (rvgen's `container` command): name + description -> kernel C files.

A container has no model: `<c>.c` registers an `rv_monitor` whose enable and
disable are NULL, `<c>.h` declares it for the monitors nested in it (`-p <c>`),
and `Kconfig` gives the option they depend on.  Layout only in
templates/kernel-c/container*.j2.
"""

from __future__ import annotations

from dataclasses import dataclass

from hamodel.diagnostics import error
from hamodel.gen import GenError, render
from hamodel.gen import names as cn
from hamodel.gen.kernel_c import KERNEL_C_OPTION, TARGET


@dataclass(frozen=True, slots=True)
class ContainerView:
    name: str
    description: str  # escaped for a C string
    help: str


def generate_container(name: str, description: str | None) -> dict[str, str]:
    try:
        cn.check_monitor_name("container name (-n)", name)
        if description:
            cn.check_description(description)
    except cn.BadName as exc:
        raise GenError([error(KERNEL_C_OPTION, str(exc), None)]) from exc
    text = description or "auto-generated"
    view = ContainerView(name, cn.c_string(text), text)
    return {
        f"{name}.c": render(TARGET, "container.c.j2", v=view),
        f"{name}.h": render(TARGET, "container.h.j2", v=view),
        "Kconfig": render(TARGET, "container_Kconfig.j2", v=view),
    }
