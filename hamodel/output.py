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
import stat
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
    its mode.  A device, FIFO or socket is written into, never replaced."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(path.parent, _reason(exc)) from None
    try:
        st = path.stat()
        mode = st.st_mode & 0o7777
    except FileNotFoundError:
        st, mode = None, 0o666 & ~_umask()
    except OSError as exc:
        raise OutputError(path, _reason(exc)) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(path, "is a folder")
    if st is not None and not stat.S_ISREG(st.st_mode):
        # Renaming over /dev/null or a FIFO would put a plain file in its place (as
        # root, for every program on the machine); a stream has no old state to keep.
        _write_stream(path, _encode(data))
        return
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


def _write_stream(path: Path, data: bytes) -> None:
    """Write `data` into the existing device, FIFO or socket `path`."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    except OSError as exc:
        raise OutputError(path, _reason(exc)) from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise OutputError(path, _reason(exc)) from None
    finally:
        os.close(fd)


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
    write_trees({root: files})


def write_trees(sets: Mapping[str | Path, Mapping[str, str | bytes]]) -> None:
    """Several folders as one whole (`hamodel gen` of many models): every folder gets
    its set, or, after an error or a signal in any of them, every folder holds
    exactly what it held before.

    Each set is staged completely before the first rename; the renames of all
    folders then run with signals held back, and a failure in one folder puts
    back the folders already swapped."""
    pending: list[_Folder] = []
    seen: set[str] = set()
    for root, files in sets.items():
        folder = _Folder(Path(root), files)
        where = os.path.abspath(folder.root)
        if where in seen:
            raise OutputError(folder.root, "named twice in one output set")
        seen.add(where)
        pending.append(folder)
    committed: list[_Folder] = []
    try:
        for folder in pending:
            folder.prepare()
        with signals.blocked():
            try:
                for folder in pending:
                    folder.commit()
                    committed.append(folder)
            except BaseException as failure:
                left = [rel for folder in reversed(committed) for rel in folder.undo()]
                if left and isinstance(failure, OutputError) and not failure.note:
                    failure.note = (f"{len(left)} replaced file(s) of an earlier folder could "
                                    "not be put back: the old ones are kept beside it")
                raise
    except BaseException:
        with signals.blocked():
            for folder in reversed(pending):
                folder.discard()
        raise
    # One block for every folder's clean-up: a signal another thread took during the
    # renames may reach its Python handler only now, and must not stop the clean-up
    # after the first folder (found in CI: a second folder's temporary copies left).
    with signals.blocked():
        for folder in pending:
            folder.finish()


class _Folder:
    """One folder of an output set: staged (`prepare`), swapped in (`commit`), put back
    (`undo`, when a later folder failed), cleaned up (`discard` / `finish`)."""

    def __init__(self, root: Path, files: Mapping[str, str | bytes]) -> None:
        if root.is_symlink():
            root = root.resolve()
        for rel in files:
            parts = Path(rel).parts
            if not parts or Path(rel).is_absolute() or ".." in parts:
                raise ValueError(f"not a relative path inside the output folder: {rel!r}")
        self.root = root
        self.files = files
        self.existed = root.exists()
        if self.existed and not root.is_dir():
            raise OutputError(root, "exists and is not a folder")
        self.stage: Path | None = None
        self.backup: Path | None = None
        self.made: list[Path] = []  # parents created for a new folder
        self.modes: dict[str, int] = {}  # files the folder already had: their modes
        self.swap = _Swap()

    def prepare(self) -> None:
        if self.existed:
            self._prepare_update()
        else:
            self._prepare_new()

    def commit(self) -> None:
        if not self.existed:
            try:
                os.rename(self.stage, self.root)  # type: ignore[arg-type]
            except OSError as exc:
                raise OutputError(self.root, _reason(exc)) from None
            self.stage = None
            return
        assert self.stage is not None and self.backup is not None
        self.swap.run(self.root, self.stage, self.backup, sorted(self.files), self.modes)

    def undo(self) -> list[str]:
        """Put the folder back as it was; the files that could not be put back."""
        if not self.existed:
            shutil.rmtree(self.root, ignore_errors=True)
            self.stage = None
            _remove_made(self.made)
            return []
        assert self.backup is not None
        left = _undo(self.root, self.backup, self.swap.done, self.modes, self.swap.made)
        self.swap = _Swap()
        if left:
            kept = self.backup.with_name(self.backup.name.replace(".old-", ".kept-"))
            os.rename(self.backup, kept)
            self.backup = None
        return left

    def discard(self) -> None:
        _remove_folders(self.stage, self.backup)
        self.stage = self.backup = None
        if not self.existed and not self.root.exists():
            _remove_made(self.made)

    def finish(self) -> None:
        if not self.existed:
            _sync_dir(self.root.parent)
            return
        _remove_folders(self.stage, self.backup)
        for folder in sorted({(self.root / rel).parent for rel in self.files}, reverse=True):
            _sync_dir(folder)

    def _prepare_new(self) -> None:
        for parent in reversed(self.root.parents):
            if not parent.exists():
                try:
                    os.mkdir(parent, 0o777)
                except OSError as exc:
                    raise OutputError(parent, _reason(exc)) from None
                self.made.append(parent)
        self.stage = _stage(self.root.parent, self.root.name, "new")
        os.chmod(self.stage, 0o777 & ~_umask())
        _fill(self.stage, self.files, {}, self.root)

    def _prepare_update(self) -> None:
        where = _staging_place(self.root)
        for rel in self.files:
            target = self.root / rel
            try:
                st = os.lstat(target)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise OutputError(target, _reason(exc)) from None
            if os.path.isdir(target) and not os.path.islink(target):
                raise OutputError(target, "is a folder")
            self.modes[rel] = st.st_mode & 0o7777
        self.stage = _stage(where, self.root.name, "new")
        _fill(self.stage, self.files, self.modes, self.root)
        self.backup = _stage(where, self.root.name, "old")
        _keep_old(self.root, self.backup, [rel for rel in sorted(self.files)
                                           if rel in self.modes])


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


class _Swap:
    """The renames of one folder's update, remembered so they can be undone."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.made: list[Path] = []

    def run(self, root: Path, stage: Path, backup: Path, order: list[str],
            existed: Mapping[str, int]) -> None:
        """Rename the staged files into `root`; on a failure undo the ones already moved."""
        try:
            for rel in order:
                target = root / rel
                for parent in reversed(Path(rel).parents[:-1]):
                    if not (root / parent).is_dir():
                        os.mkdir(root / parent, 0o777)
                        self.made.append(root / parent)
                try:
                    os.replace(stage / rel, target)
                except OSError as exc:
                    raise OutputError(target, _reason(exc)) from None
                self.done.append(rel)
        except BaseException as failure:
            left = _undo(root, backup, self.done, existed, self.made)
            self.done, self.made = [], []
            if left and isinstance(failure, OutputError):
                kept = backup.with_name(backup.name.replace(".old-", ".kept-"))
                os.rename(backup, kept)
                failure.note = (f"{len(left)} replaced file(s) could not be put back: the old "
                                f"ones are in {kept}")
            raise


def _undo(root: Path, backup: Path, done: list[str], existed: Mapping[str, int],
          made: list[Path]) -> list[str]:
    """Put back what a swap changed; returns the files it could not restore."""
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
