"""ELF file + symbol name -> the file offset a uprobe attaches at.

A minimal reader of ELF64 little-endian symbol tables (.symtab, then .dynsym):
enough to turn `--start tlob_start` into the offset libbpf wants, with a
clear message for a file that is not ELF or a symbol that is not there.
"""

from __future__ import annotations

import os
import re
import stat
import struct
from dataclasses import dataclass

SHT_SYMTAB = 2
SHT_DYNSYM = 11
PT_LOAD = 1
STT_FUNC = 2
STT_GNU_IFUNC = 10
_SYM_BYTES = 24  # sizeof(Elf64_Sym)
_OFFSET = re.compile(r"0[xX][0-9a-fA-F]+\Z")


class ElfError(ValueError):
    """A one-line reason the probe point cannot be resolved."""


@dataclass(frozen=True, slots=True)
class ProbePoint:
    """Where a uprobe goes: `offset` in `path`; `first_byte` is the instruction's first byte."""

    path: str
    spec: str  # as the user wrote it
    offset: int
    first_byte: int | None

    @property
    def bare_ret(self) -> bool:
        """x86-64 `ret` as the first instruction: the kernel cannot emulate-skip it cheaply."""
        return self.first_byte in (0xC3, 0xC2)


@dataclass(frozen=True, slots=True)
class _Symbol:
    name: str
    value: int
    kind: int
    shndx: int


# Larger than any program we expect to probe, small enough to read into memory.
MAX_ELF_BYTES = 1 << 30


def _read_regular(path: str) -> bytes:
    """The file's bytes; a device, FIFO or directory is refused before it is read
    (O_NONBLOCK so that opening a FIFO cannot hang), and so is a file past the cap."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ElfError(f"{path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ElfError(f"{path}: not a regular file")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(MAX_ELF_BYTES + 1)
        except OSError as exc:
            raise ElfError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_ELF_BYTES:
        raise ElfError(f"{path}: larger than {MAX_ELF_BYTES >> 20} MiB")
    return data


class ElfFile:
    def __init__(self, path: str) -> None:
        self.path = path
        self.data = _read_regular(path)
        d = self.data
        if d[:4] != b"\x7fELF":
            raise ElfError(f"{path}: not an ELF file")
        if d[4] != 2 or d[5] != 1:
            raise ElfError(f"{path}: only 64-bit little-endian ELF files are supported")
        try:
            (
                self.phoff,
                self.shoff,
            ) = struct.unpack_from("<QQ", d, 0x20)
            self.phentsize, self.phnum, self.shentsize, self.shnum = struct.unpack_from(
                "<HHHH", d, 0x36
            )
            self.sections = [
                struct.unpack_from("<IIQQQQIIQQ", d, self.shoff + i * self.shentsize)
                for i in range(self.shnum)
            ]
            self.segments = [
                struct.unpack_from("<IIQQQQQQ", d, self.phoff + i * self.phentsize)
                for i in range(self.phnum)
            ]
        except struct.error:
            raise ElfError(f"{path}: truncated ELF file") from None

    def symbols(self) -> list[_Symbol]:
        """Every symbol of .symtab then .dynsym; a table or string table that lies
        outside the file makes the file invalid rather than crashing the reader."""
        out: list[_Symbol] = []
        for kind in (SHT_SYMTAB, SHT_DYNSYM):
            for sec in self.sections:
                if sec[1] != kind:
                    continue
                offset, size, link, entsize = sec[4], sec[5], sec[6], sec[9] or _SYM_BYTES
                if entsize < _SYM_BYTES or not self._inside(offset, size):
                    raise self._invalid("symbol table outside the file")
                if link >= len(self.sections):
                    raise self._invalid("symbol table linked to no section")
                str_off, str_size = self.sections[link][4], self.sections[link][5]
                if not self._inside(str_off, str_size):
                    raise self._invalid("string table outside the file")
                for i in range(size // entsize):
                    name_off, info, _other, shndx, value, _size = struct.unpack_from(
                        "<IBBHQQ", self.data, offset + i * entsize
                    )
                    if name_off >= max(str_size, 1):
                        raise self._invalid("symbol name outside its string table")
                    name = self._string(str_off + name_off, str_off + str_size)
                    out.append(_Symbol(name, value, info & 0xF, shndx))
        return out

    def _inside(self, offset: int, size: int) -> bool:
        return 0 <= offset and 0 <= size and offset + size <= len(self.data)

    def _invalid(self, why: str) -> ElfError:
        return ElfError(f"{self.path}: not a valid ELF file ({why})")

    def _string(self, at: int, limit: int) -> str:
        end = self.data.find(b"\0", at, limit)
        return self.data[at : end if end >= 0 else limit].decode(errors="replace")

    def file_offset(self, vaddr: int) -> int | None:
        for p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz, _memsz, _align in self.segments:
            if p_type == PT_LOAD and p_vaddr <= vaddr < p_vaddr + p_filesz:
                return vaddr - p_vaddr + p_offset
        return None

    def byte_at(self, offset: int) -> int | None:
        return self.data[offset] if 0 <= offset < len(self.data) else None


def resolve(path: str, spec: str) -> ProbePoint:
    """`SYM` or `0xOFF` (a file offset) in the ELF file at `path`."""
    elf = ElfFile(path)
    if _OFFSET.match(spec):
        offset = int(spec, 16)
        if offset >= len(elf.data):
            raise ElfError(f"{path}: offset {spec} is past the end of the file")
        return ProbePoint(path, spec, offset, elf.byte_at(offset))
    if not re.fullmatch(r"[A-Za-z_.$][A-Za-z0-9_.$@]*", spec):
        raise ElfError(f"{spec!r} is neither a symbol name nor a 0x offset")
    for sym in elf.symbols():
        if sym.name == spec and sym.value and sym.shndx != 0:
            if sym.kind not in (STT_FUNC, STT_GNU_IFUNC, 0):
                raise ElfError(f"{path}: symbol {spec} is not a function")
            offset = elf.file_offset(sym.value)
            if offset is None:
                raise ElfError(f"{path}: symbol {spec} is in no loadable segment")
            return ProbePoint(path, spec, offset, elf.byte_at(offset))
    raise ElfError(f"{path}: no function symbol {spec!r}")
