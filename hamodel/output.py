"""Writing outputs whole or not at all: one file (`write_atomic`) or a set (`write_tree`).

A single file is written beside its target under a temporary name, flushed to
disk and renamed over it: readers see the old file or the new one.

A set of files (what one `hamodel gen` writes) is first written completely into
a temporary folder beside the target folder, every file flushed to disk.  Then:

- when the target folder does not exist, the temporary folder is renamed to it:
  one atomic step;
- when it exists, every file it already has is kept under a second link in a
  backup folder, and the new files are renamed into place one by one.  If any
  rename fails, the files already moved are put back from the backups, so the
  folder is as it was.  Files of the folder that the set does not name are
  left alone.

Signals are held back during those renames (hamodel/signals.py `blocked`), so
Ctrl-C or SIGTERM cannot stop the swap half-way; they take effect after it.
Every failure is an `OutputError` naming the file and the reason.

All file-system calls go through the `os` module, so tests can make any of
them fail (tests/test_fault_injection.py).
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from hamodel import signals


class OutputError(Exception):
    """An output that could not be written; nothing was changed unless `note` says so."""

    def __init__(self, path: str | Path, reason: str, note: str = "") -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
        self.note = note


def _reason(exc: OSError) -> str:
    return exc.strerror or errno.errorcode.get(exc.errno or 0, "") or str(exc)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Create `path` (it must not exist) holding `data`, flushed to disk."""
    _write_fd(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600),
              data, mode)


def _write_fd(fd: int, data: bytes, mode: int) -> None:
    """Write all of `data` to the new file `fd`, give it `mode`, flush it, close it."""
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (best effort: not every
    file system can open a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _encode(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


# --- one file ---------------------------------------------------------------------


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Replace `path` whole; a symlink's target is replaced, and an existing file keeps
    its mode."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(path.parent, _reason(exc)) from None
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError as exc:
        raise OutputError(path, _reason(exc)) from None
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(path, _reason(exc)) from None
    tmp = Path(name)
    try:
        _write_fd(fd, _encode(data), mode)
        with signals.blocked():
            os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise OutputError(path, _reason(exc)) from None
    except BaseException:
        _remove_quietly(tmp)
        raise
    _sync_dir(path.parent)


def _remove_quietly(path: Path) -> None:
    with signals.blocked():  # a signal now would leave the temporary file behind
        try:
            os.unlink(path)
        except OSError:
            pass


def _remove_folders(*folders: Path | None) -> None:
    """Remove temporary folders whole, a signal waiting until they are gone."""
    with signals.blocked():
        for folder in folders:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


# --- a set of files ---------------------------------------------------------------


def write_tree(root: str | Path, files: Mapping[str, str | bytes]) -> None:
    """Write every file of `files` (relative path -> content) under `root`, as a whole:
    afterwards `root` holds all of them, or, after an error or a signal, exactly
    what it held before."""
    root = Path(root)
    if root.is_symlink():
        root = root.resolve()
    for rel in files:
        parts = Path(rel).parts
        if not parts or Path(rel).is_absolute() or ".." in parts:
            raise ValueError(f"not a relative path inside the output folder: {rel!r}")
    if root.exists():
        if not root.is_dir():
            raise OutputError(root, "exists and is not a folder")
        _update_folder(root, files)
    else:
        _new_folder(root, files)


def _stage(where: Path, name: str, kind: str) -> Path:
    try:
        return Path(tempfile.mkdtemp(dir=where, prefix=f".{name}.{kind}-"))
    except OSError as exc:
        raise OutputError(where, _reason(exc)) from None


def _fill(stage: Path, files: Mapping[str, str | bytes], modes: Mapping[str, int],
          shown: Path) -> None:
    """Write the files into `stage`; an error names the file as it would be under `shown`."""
    default = 0o666 & ~_umask()
    for rel in sorted(files):
        path = stage / rel
        try:
            for parent in reversed(path.relative_to(stage).parents[:-1]):
                if not (stage / parent).is_dir():
                    os.mkdir(stage / parent, 0o777)
            _write_file(path, _encode(files[rel]), modes.get(rel, default))
        except OSError as exc:
            raise OutputError(shown / rel, _reason(exc)) from None
    for folder in sorted({(stage / rel).parent for rel in files}, reverse=True):
        _sync_dir(folder)


def _new_folder(root: Path, files: Mapping[str, str | bytes]) -> None:
    made: list[Path] = []  # parent folders created here, removed again on failure
    for parent in reversed(root.parents):
        if not parent.exists():
            try:
                os.mkdir(parent, 0o777)
            except OSError as exc:
                _remove_made(made)
                raise OutputError(parent, _reason(exc)) from None
            made.append(parent)
    stage = None
    try:
        stage = _stage(root.parent, root.name, "new")
        os.chmod(stage, 0o777 & ~_umask())
        _fill(stage, files, {}, root)
        with signals.blocked():
            try:
                os.rename(stage, root)
            except OSError as exc:
                raise OutputError(root, _reason(exc)) from None
            stage = None
    except BaseException:
        with signals.blocked():
            _remove_folders(stage)
            _remove_made(made)
        raise
    _sync_dir(root.parent)


def _remove_made(made: list[Path]) -> None:
    for folder in reversed(made):
        try:
            os.rmdir(folder)
        except OSError:
            pass


def _staging_place(root: Path) -> Path:
    """Beside `root` when that is the same file system and writable; else inside it
    (a mount point, or a folder whose parent is not ours): renames must not cross
    file systems."""
    parent = root.parent
    try:
        same = os.stat(parent).st_dev == os.stat(root).st_dev
    except OSError:
        same = False
    return parent if same and os.access(parent, os.W_OK | os.X_OK) else root


def _update_folder(root: Path, files: Mapping[str, str | bytes]) -> None:
    where = _staging_place(root)
    modes: dict[str, int] = {}
    for rel in files:
        target = root / rel
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise OutputError(target, _reason(exc)) from None
        if os.path.isdir(target) and not os.path.islink(target):
            raise OutputError(target, "is a folder")
        modes[rel] = st.st_mode & 0o7777
    stage = backup = None
    try:
        stage = _stage(where, root.name, "new")
        _fill(stage, files, modes, root)
        backup = _stage(where, root.name, "old")
        _keep_old(root, backup, [rel for rel in sorted(files) if rel in modes])
        with signals.blocked():
            _swap_in(root, stage, backup, sorted(files), modes)
    finally:
        _remove_folders(stage, backup)
    for folder in sorted({(root / rel).parent for rel in files}, reverse=True):
        _sync_dir(folder)


def _keep_old(root: Path, backup: Path, existing: list[str]) -> None:
    """A second name in `backup` for every file about to be replaced (a copy when the
    file system refuses a hard link)."""
    for rel in existing:
        old, kept = root / rel, backup / rel
        try:
            for parent in reversed(Path(rel).parents[:-1]):
                if not (backup / parent).is_dir():
                    os.mkdir(backup / parent, 0o700)
            try:
                os.link(old, kept, follow_symlinks=False)
            except OSError:
                shutil.copy2(old, kept, follow_symlinks=False)
        except OSError as exc:
            raise OutputError(old, f"cannot keep the old file aside: {_reason(exc)}") from None


def _swap_in(root: Path, stage: Path, backup: Path, order: list[str],
             existed: Mapping[str, int]) -> None:
    """Rename the staged files into `root`; on a failure undo the ones already moved."""
    done: list[str] = []
    made: list[Path] = []
    try:
        for rel in order:
            target = root / rel
            for parent in reversed(Path(rel).parents[:-1]):
                if not (root / parent).is_dir():
                    os.mkdir(root / parent, 0o777)
                    made.append(root / parent)
            try:
                os.replace(stage / rel, target)
            except OSError as exc:
                raise OutputError(target, _reason(exc)) from None
            done.append(rel)
    except BaseException as failure:
        left = _undo(root, backup, done, existed, made)
        if left and isinstance(failure, OutputError):
            kept = backup.with_name(backup.name.replace(".old-", ".kept-"))
            os.rename(backup, kept)
            failure.note = (f"{len(left)} replaced file(s) could not be put back: the old "
                            f"ones are in {kept}")
        raise


def _undo(root: Path, backup: Path, done: list[str], existed: Mapping[str, int],
          made: list[Path]) -> list[str]:
    """Put back what `_swap_in` changed; returns the files it could not restore."""
    left = []
    for rel in reversed(done):
        try:
            if rel in existed:
                os.replace(backup / rel, root / rel)
            else:
                os.unlink(root / rel)
        except OSError:
            left.append(rel)
    for folder in reversed(made):
        try:
            os.rmdir(folder)
        except OSError:
            pass
    return left
