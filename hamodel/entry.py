"""The `hamodel` program's entry point: signals first, then the command line.

Importing the command line pulls in Lark, Jinja and more, which takes a
noticeable part of a second; the handler is installed before that, so a
Ctrl-C or SIGTERM at any moment ends the program with one line and exit 130
or 143, never a traceback.  Keep this module free of heavy imports.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hamodel import signals


def main(argv: Sequence[str] | None = None) -> int:
    signals.install()
    try:
        from hamodel.cli import main as command_line  # noqa: PLC0415 (after the handler)

        status = command_line(argv)
    except KeyboardInterrupt as exc:  # before the command line could take it
        print(f"hamodel: {signals.describe(exc)}", file=sys.stderr)
        return signals.exit_status(exc)
    except Exception:
        if signals.pending() is None:
            raise
        # The handler raised where Python passes on only a wrapper: Python 3.11 turns
        # an exception in a class's __set_name__ hook (a dataclass being made while
        # a command's modules are imported) into a RuntimeError.  The signal ends it.
        print(f"hamodel: {signals.describe()}", file=sys.stderr)
        return signals.exit_status()
    if signals.pending() is not None and status != signals.exit_status():
        # The handler's exception was swallowed where Python ignores exceptions (a
        # finalizer prints "Exception ignored" and goes on): the signal still ends it.
        print(f"hamodel: {signals.describe()}", file=sys.stderr)
        return signals.exit_status()
    return status


if __name__ == "__main__":
    sys.exit(main())
