"""What the kernel's tools say about the generated files, and which of it is accepted.

Input: the text gcc (W=1), sparse (C=1) and `checkpatch.pl --strict --terse`
print, and the sources they speak of.  Output: Finding records, each either
accepted (with the reason a kernel maintainer would give) or not.  Pure
functions: build_check.py runs the tools, tests/test_kernel_build.py checks
the rules on real output lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A compiler or sparse diagnostic: `path:line:col: warning: message`.
_DIAGNOSTIC = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)?"
                         r" (?P<severity>warning|error): (?P<message>.*)$")
# checkpatch --terse --show-types: `path:line: WARNING:TYPE: message`.
_CHECKPATCH = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+): (?P<severity>ERROR|WARNING|CHECK)"
                         r":(?P<kind>[A-Z0-9_]+): (?P<message>.*)$")
# kbuild's progress lines, which say which tool speaks next.
_STEP = re.compile(r"^\s+(?P<step>CC|CHECK)\s+(?P<path>\S+)$")


@dataclass(frozen=True, slots=True)
class Finding:
    tool: str  # gcc | sparse | checkpatch
    path: str  # as the tool printed it
    line: int
    severity: str  # warning | error | CHECK | WARNING | ERROR
    kind: str  # checkpatch type, gcc's -W option, or "" for sparse
    message: str

    def __str__(self) -> str:
        kind = f" [{self.kind}]" if self.kind else ""
        return f"{self.path}:{self.line}: {self.tool} {self.severity}{kind}: {self.message}"


def parse_make(output: str) -> list[Finding]:
    """gcc and sparse diagnostics from `make W=1 C=1 -j1 OBJ...`: after a `CC` line gcc
    speaks, after a `CHECK` line sparse does (one job keeps them in that order)."""
    out: list[Finding] = []
    tool = "gcc"
    for line in output.splitlines():
        step = _STEP.match(line)
        if step:
            tool = "sparse" if step["step"] == "CHECK" else "gcc"
            continue
        m = _DIAGNOSTIC.match(line)
        if m is None:
            continue
        message = m["message"]
        flag = re.search(r" \[(-W[^\]]+)\]$", message)
        kind = flag[1] if flag else ""
        if flag:
            message = message[: flag.start()]
        out.append(Finding(tool if not flag else "gcc", m["path"], int(m["line"]),
                           m["severity"], kind, message))
    return out


def parse_checkpatch(output: str) -> list[Finding]:
    out = []
    for line in output.splitlines():
        m = _CHECKPATCH.match(line)
        if m:
            out.append(Finding("checkpatch", m["path"], int(m["line"]), m["severity"],
                               m["kind"], m["message"]))
    return out


def unparsed_checkpatch(output: str) -> list[str]:
    """Lines of checkpatch's output that are no finding (a crash, a usage error)."""
    return [line for line in output.splitlines() if line.strip() and not _CHECKPATCH.match(line)]


# --- what is accepted, and why -------------------------------------------------------

TYPEDEF_REASON = (
    "include/rv/da_monitor.h's per-object monitors take their target type as the typedef"
    " monitor_target, which every per_obj monitor defines (the kernel's nomiss.c too)"
)
STATIC_ASSERT_REASON = (
    "_Static_assert is the C11 keyword, not a CamelCase identifier; the kernel's own"
    " rvgen headers (stall.h, nomiss.h) use it on the same line"
)
GUARD_REASON = (
    "sparse does not follow the cleanup attribute behind guard()/scoped_guard(): the lock"
    " it takes is released at the end of the scope, which sparse counts as an imbalance"
)


def accepted(f: Finding, source: str) -> str | None:
    """Why this finding is acceptable in the generated file `source`; None if it is not.

    Each rule names the one construct it accepts, so the same warning anywhere
    else still fails.
    """
    lines = source.splitlines()
    text = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
    if f.tool == "checkpatch" and f.kind == "NEW_TYPEDEFS" and re.fullmatch(
            r"typedef [\w ]+\*?\s*monitor_target;", text):
        return TYPEDEF_REASON
    if (f.tool == "checkpatch" and f.kind == "CAMELCASE"
            and f.message == "Avoid CamelCase: <_Static_assert>"
            and text.startswith("_Static_assert(")):
        return STATIC_ASSERT_REASON
    m = re.fullmatch(r"context imbalance in '(\w+)' - .*", f.message)
    if f.tool == "sparse" and m and _uses_guard(source, m[1]):
        return GUARD_REASON
    return None


def _uses_guard(source: str, function: str) -> bool:
    """The body of `function` in `source` takes a lock with guard() or scoped_guard()."""
    m = re.search(rf"^\S[^\n;]*\b{re.escape(function)}\([^;{{]*\)\n\{{\n(.*?)^\}}\n", source,
                  re.M | re.S)
    return bool(m and re.search(r"\b(?:scoped_)?guard\((?:spinlock|raw_spinlock|mutex)",
                                m[1]))
