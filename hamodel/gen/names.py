"""C names and C strings: the one place where text from a model or a user reaches C.

Input: strings (model names, `-n`/`-p`/`-t`/`-D` options). Output: the same
strings, checked or escaped, or a one-line reason why they cannot be used.
Generators never paste a string into C without going through here; the
Jinja filters `c_ident` and `c_string` are these functions.
"""

from __future__ import annotations

import re

from hamodel.build import C_KEYWORDS as BUILD_KEYWORDS

# The build stage's list, so a model name and an option are judged alike; gcc's own
# spellings are added because a monitor name becomes a bare C token.
C_KEYWORDS = BUILD_KEYWORDS | frozenset("__asm__ __attribute__ __typeof__ __inline__".split())

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

MONITOR_TYPES = ("global", "per_cpu", "per_task", "per_obj")


# Object-like macros of headers every kernel monitor includes.  The monitor name
# is pasted by CONCATENATE(..., MONITOR_NAME), which expands its arguments first:
# `-n current` becomes `get_current()` (asm/current.h) and the paste breaks.
# Function-like macros (smp_processor_id) are harmless without a `(`; plain
# variables (jiffies) are never pasted.  Names starting with `__` or `_` and a
# capital are reserved to the implementation in C and are kernel attribute
# macros (__init, __rcu...), refused by the rule, not by the list.
KERNEL_MACROS = frozenset((
    "current",  # asm/current.h: get_current()
    "noinline", "notrace",  # linux/compiler_types.h attributes
    "NULL", "true", "false",  # linux/stddef.h
    "HZ",  # asm/param.h
    "THIS_MODULE", "KBUILD_MODNAME",  # linux/export.h, the build
    "MONITOR_NAME",  # the generated model header's own macro
))


class BadName(ValueError):
    """A user-supplied string that cannot become C; the message says why."""


def ident_problem(text: str) -> str | None:
    """Why `text` is not usable as a C identifier, or None when it is."""
    if not text:
        return "it is empty"
    if not _IDENT.match(text):
        bad = next((c for c in text if not (c.isalnum() or c == "_") or not c.isascii()), None)
        if text[0].isdigit():
            return "it starts with a digit"
        return f"it contains {bad!r}" if bad else "it is not a C identifier"
    if text in C_KEYWORDS:
        return "it is a C keyword"
    return None


def check_ident(what: str, text: str) -> str:
    """Return `text` if it is a C identifier; raise BadName naming `what` otherwise."""
    problem = ident_problem(text)
    if problem is not None:
        raise BadName(f"{what} {text!r} cannot be used in C: {problem}")
    return text


def check_monitor_name(what: str, text: str) -> str:
    """A monitor name is a C identifier that no kernel macro expansion can change."""
    check_ident(what, text)
    if text in KERNEL_MACROS:
        raise BadName(f"{what} {text!r} cannot be used in C: it is a kernel macro")
    if text.startswith("__") or re.match(r"_[A-Z]", text):
        raise BadName(f"{what} {text!r} cannot be used in C:"
                      " names starting with __ or _ and a capital are reserved")
    return text


def check_monitor_type(text: str) -> str:
    if text not in MONITOR_TYPES:
        raise BadName(
            f"monitor type {text!r} is not one of {', '.join(MONITOR_TYPES)}"
        )
    return text


def c_ident(text: str) -> str:
    """Jinja filter: pass a name through, refusing anything that is not an identifier.

    The view builder has checked every name already; this is the last guard so
    that a template bug can never paste arbitrary text into C.
    """
    return check_ident("name", text)


def check_description(text: str) -> str:
    """A `-D` description goes into a C string and a Kconfig help line: one printable line."""
    if not text.strip():
        raise BadName("the description is empty")
    for ch in text:
        if ch in "\n\r" or not ch.isprintable():
            raise BadName(
                f"the description must be one line of printable text (found {ch!r})"
            )
    return text


def c_string(text: str) -> str:
    """The body of a C string literal (without quotes) that reads back as `text` in UTF-8.

    Backslash and double quote are escaped; control and non-ASCII bytes become
    octal escapes, written as three digits so a following digit is never absorbed;
    `?` is escaped after `?` so no trigraph can form.
    """
    out: list[str] = []
    prev = ""
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "?" and prev == "?":
            out.append("\\?")
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
        prev = ch
    return "".join(out)
