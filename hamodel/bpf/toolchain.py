"""Generated `<m>.bpf.c` -> BPF object, with clang as libbpf-tools build it.

`-mcpu=v3` is required: the monitor's compare-and-exchange (each invocation
reported once) needs BPF atomics that older CPU versions lack.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

LIBBPF_HEADER = Path("/usr/include/bpf/bpf_helpers.h")


class ToolchainError(RuntimeError):
    """clang or the libbpf headers are missing, or the C does not compile."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


@functools.cache
def _multiarch_include(clang: str) -> list[str]:
    # <linux/types.h> includes <asm/types.h>, which Debian keeps per architecture.
    out = subprocess.run([clang, "-print-multiarch"], capture_output=True, text=True)
    triplet = out.stdout.strip()
    path = Path("/usr/include") / triplet
    return [f"-I{path}"] if triplet and path.is_dir() else []


def clang_path() -> str:
    clang = shutil.which("clang")
    if clang is None:
        raise ToolchainError("clang not found (install the clang package)")
    if not LIBBPF_HEADER.exists():
        raise ToolchainError(f"{LIBBPF_HEADER} not found (install the libbpf-dev package)")
    return clang


def clang_command(source: Path, output: Path, extra: tuple[str, ...] = ()) -> list[str]:
    clang = clang_path()
    return [
        clang,
        "-O2",
        "-g",
        "-target",
        "bpf",
        "-mcpu=v3",
        *_multiarch_include(clang),
        *extra,
        "-c",
        str(source),
        "-o",
        str(output),
    ]


def compile_object(source: Path, output: Path) -> Path:
    done = subprocess.run(clang_command(source, output), capture_output=True, text=True)
    if done.returncode != 0:
        raise ToolchainError(f"clang failed on {source}", done.stderr)
    return output
