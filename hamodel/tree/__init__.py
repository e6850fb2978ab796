"""Pre-merge checks of a kernel source tree (`hamodel check --kernel-tree`) and the
kernel-tree edits of rvgen's workflow (`gen -a`, `container`).

layout.py       where models, monitors and RV build files are; git changes
ctokens.py      C text -> tokens            cheader.py   <m>.h -> tables
cconstraints.py <m>.c -> constraints        dot_drift.py .dot model vs monitor
kinds.py        model readers by suffix     integration.py Makefile/Kconfig/rv_trace.h
codes.py        HA2xx                       command.py   the whole tree -> Reports
patch.py        wiring a new monitor in at rvgen's markers
rvgen_cli.py    gen -a/-c/-s and `hamodel container` on the command line
"""
