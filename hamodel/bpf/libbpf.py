"""A small ctypes binding to libbpf.so.1: open, size, load, attach, poll, close.

Why ctypes over the distribution's libbpf rather than a compiled loader: the
runner needs no C toolchain beyond clang for the BPF object itself, no skeleton
step and no build of its own; bcc is not an option here (it compiles against
kernel headers, which this machine does not have).  Only the handful of stable
libbpf 1.x entry points used below are declared.

Every failure raises `BpfError` with one line of text; a verifier rejection
carries the verifier's own log in `BpfError.log`.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

LOG_BUF_SIZE = 1 << 22  # verifier logs of a rejected program can be long

_print_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_sample_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


class BpfError(Exception):
    """A libbpf or kernel refusal, with the captured libbpf/verifier log if any."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class _UprobeOpts(ctypes.Structure):
    # struct bpf_uprobe_opts as of libbpf 1.1 (sz-versioned, so newer libbpf accepts it)
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("ref_ctr_offset", ctypes.c_size_t),
        ("bpf_cookie", ctypes.c_uint64),
        ("retprobe", ctypes.c_bool),
        ("func_name", ctypes.c_char_p),
    ]


@functools.cache
def _load_library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL("libbpf.so.1", use_errno=True)
    except OSError as exc:
        raise BpfError("libbpf.so.1 not found (install the libbpf1 package)") from exc
    p = ctypes.c_void_p
    sigs: dict[str, tuple[object, list[object]]] = {
        "libbpf_set_print": (p, [_print_fn]),
        "bpf_object__open_file": (p, [ctypes.c_char_p, p]),
        "bpf_object__load": (ctypes.c_int, [p]),
        "bpf_object__close": (None, [p]),
        "bpf_object__find_map_by_name": (p, [p, ctypes.c_char_p]),
        "bpf_object__find_program_by_name": (p, [p, ctypes.c_char_p]),
        "bpf_object__next_program": (p, [p, p]),
        "bpf_program__name": (ctypes.c_char_p, [p]),
        "bpf_program__set_log_buf": (ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_size_t]),
        "bpf_program__attach": (p, [p]),
        "bpf_program__attach_uprobe_opts": (
            p,
            [p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(_UprobeOpts)],
        ),
        "bpf_link__destroy": (ctypes.c_int, [p]),
        "bpf_map__set_max_entries": (ctypes.c_int, [p, ctypes.c_uint32]),
        "bpf_map__fd": (ctypes.c_int, [p]),
        "bpf_map_update_elem": (ctypes.c_int, [ctypes.c_int, p, p, ctypes.c_uint64]),
        "bpf_map_lookup_elem": (ctypes.c_int, [ctypes.c_int, p, p]),
        "ring_buffer__new": (p, [ctypes.c_int, _sample_fn, p, p]),
        "ring_buffer__poll": (ctypes.c_int, [p, ctypes.c_int]),
        "ring_buffer__free": (None, [p]),
    }
    for fname, (restype, argtypes) in sigs.items():
        fn = getattr(lib, fname)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_libc = ctypes.CDLL(None)
_libc.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p]
_libc.vsnprintf.restype = ctypes.c_int


# libbpf keeps one global print callback: one C-callable object for the whole
# process (never freed while libbpf may call it), writing to the newest object's log.
_SINK: list[list[str]] = [[]]


def _on_print(level: int, fmt: bytes, args: int) -> int:
    buf = ctypes.create_string_buffer(1 << 16)  # the BTF load log comes in one piece
    _libc.vsnprintf(buf, len(buf), fmt, args)
    _SINK[0].append(buf.value.decode(errors="replace"))
    return 0


_PRINT = _print_fn(_on_print)


def _errno_text(err: int) -> str:
    err = abs(err)
    return f"{errno.errorcode.get(err, str(err))}: {os.strerror(err)}"


@dataclass
class Uprobe:
    """One uprobe to attach: program name, binary, file offset, cookie."""

    program: str
    binary: str
    offset: int
    cookie: int
    pid: int = -1


class BpfObject:
    """One opened-then-loaded BPF object file and the links attached from it.

    Use as a context manager: leaving it destroys every link, then closes the
    object (which releases all maps), whatever happened.
    """

    def __init__(self, path: str) -> None:
        self._lib = _load_library()
        self._messages: list[str] = []
        _SINK[0] = self._messages
        self._lib.libbpf_set_print(_PRINT)
        self._links: list[int] = []
        self._ringbufs: list[tuple[int, object]] = []
        self._log_bufs: dict[str, ctypes.Array[ctypes.c_char]] = {}
        self._obj = self._lib.bpf_object__open_file(os.fsencode(path), None)
        if not self._obj:
            err = ctypes.get_errno()
            raise BpfError(f"cannot open BPF object {path}: {_errno_text(err)}", self.log())

    # --- libbpf's messages ---

    def log(self) -> str:
        return "".join(self._messages)

    # --- before load ---

    def set_max_entries(self, map_name: str, entries: int) -> None:
        m = self._map(map_name)
        if self._lib.bpf_map__set_max_entries(m, entries) != 0:
            raise BpfError(f"cannot size map {map_name} to {entries}")

    def _programs(self) -> list[tuple[str, int]]:
        out = []
        prog = self._lib.bpf_object__next_program(self._obj, None)
        while prog:
            out.append((self._lib.bpf_program__name(prog).decode(), prog))
            prog = self._lib.bpf_object__next_program(self._obj, prog)
        return out

    def load(self) -> None:
        """Load every program; on a verifier rejection, raise with its log."""
        for name, prog in self._programs():
            buf = ctypes.create_string_buffer(LOG_BUF_SIZE)
            self._log_bufs[name] = buf
            self._lib.bpf_program__set_log_buf(prog, buf, LOG_BUF_SIZE)
        rc = self._lib.bpf_object__load(self._obj)
        if rc != 0:
            verifier = "".join(
                f"-- {name} --\n{buf.value.decode(errors='replace')}"
                for name, buf in self._log_bufs.items()
                if buf.value
            )
            raise BpfError(
                f"the kernel refused the BPF object ({_errno_text(rc)})",
                verifier or self.log(),
            )

    # --- after load ---

    def _map(self, name: str) -> int:
        m = self._lib.bpf_object__find_map_by_name(self._obj, name.encode())
        if not m:
            raise BpfError(f"BPF object has no map {name}")
        return m

    def _program(self, name: str) -> int:
        p = self._lib.bpf_object__find_program_by_name(self._obj, name.encode())
        if not p:
            raise BpfError(f"BPF object has no program {name}")
        return p

    def map_fd(self, name: str) -> int:
        return self._lib.bpf_map__fd(self._map(name))

    def attach(self, program: str) -> None:
        """Attach a program by its SEC() name (tp_btf/...)."""
        link = self._lib.bpf_program__attach(self._program(program))
        if not link:
            err = ctypes.get_errno()
            raise BpfError(f"cannot attach {program}: {_errno_text(err)}", self.log())
        self._links.append(link)

    def attach_uprobe(self, probe: Uprobe) -> None:
        opts = _UprobeOpts(sz=ctypes.sizeof(_UprobeOpts), bpf_cookie=probe.cookie)
        link = self._lib.bpf_program__attach_uprobe_opts(
            self._program(probe.program),
            probe.pid,
            os.fsencode(probe.binary),
            probe.offset,
            ctypes.byref(opts),
        )
        if not link:
            err = ctypes.get_errno()
            raise BpfError(
                f"cannot attach uprobe at {probe.binary}:{probe.offset:#x}: {_errno_text(err)}",
                self.log(),
            )
        self._links.append(link)

    def update(self, map_name: str, key: bytes, value: bytes) -> None:
        k = ctypes.create_string_buffer(key, len(key))
        v = ctypes.create_string_buffer(value, len(value))
        if self._lib.bpf_map_update_elem(self.map_fd(map_name), k, v, 0) != 0:
            raise BpfError(f"cannot update map {map_name}: {_errno_text(ctypes.get_errno())}")

    def lookup(self, map_name: str, key: bytes, value_size: int) -> bytes | None:
        k = ctypes.create_string_buffer(key, len(key))
        v = ctypes.create_string_buffer(value_size)
        if self._lib.bpf_map_lookup_elem(self.map_fd(map_name), k, v) != 0:
            return None
        return v.raw

    def ring_buffer(self, map_name: str, on_record: Callable[[bytes], None]) -> int:
        """Open a ring buffer; `on_record` gets each record's bytes during `poll`."""

        def sample(_ctx: int, data: int, size: int) -> int:
            on_record(ctypes.string_at(data, size))
            return 0

        cb = _sample_fn(sample)
        rb = self._lib.ring_buffer__new(self.map_fd(map_name), cb, None, None)
        if not rb:
            raise BpfError(f"cannot open ring buffer {map_name}")
        self._ringbufs.append((rb, cb))
        return rb

    def poll(self, rb: int, timeout_ms: int) -> int:
        rc = self._lib.ring_buffer__poll(rb, timeout_ms)
        if rc < 0 and rc != -errno.EINTR:
            raise BpfError(f"ring buffer poll failed: {_errno_text(rc)}")
        return rc

    # --- teardown ---

    def close(self) -> None:
        for rb, _cb in self._ringbufs:
            self._lib.ring_buffer__free(rb)
        self._ringbufs.clear()
        while self._links:
            self._lib.bpf_link__destroy(self._links.pop())
        if self._obj:
            self._lib.bpf_object__close(self._obj)
            self._obj = None

    def __enter__(self) -> BpfObject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
