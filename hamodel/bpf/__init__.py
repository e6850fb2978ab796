"""Build, load and run generated eBPF monitors: `hamodel run`.

elf.py resolves probe symbols, toolchain.py compiles the generated C, libbpf.py
drives Debian's libbpf.so.1 through ctypes, records.py decodes what the monitor
reports, runner.py ties them together and cli.py is the command-line glue.
"""
