"""The backup folder: how backups are named, written whole or not at all, and pruned.

A backup is written as ``NAME.dump.partial`` and renamed to ``NAME.dump`` only once pg_dump
has succeeded, the archive has been read back and its bytes are on disk; the rename is
atomic, so a file without the suffix is always a whole backup, and a killed run leaves only
a ``.partial`` that nothing takes for one. Retention counts and deletes only files with the
names this module gives, so it never touches anything else in the folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

SUFFIX = ".dump"
PARTIAL = ".partial"
_NAME = re.compile(r"^safemigrate-(?P<database>[A-Za-z0-9_-]+)-(?P<stamp>\d{8}T\d{12}Z)\.dump$")


def slug(database: str) -> str:
    """Return the database name as it appears in file names."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", database)[:63] or "database"


@dataclass(frozen=True)
class BackupFile:
    """Where one backup goes: its final name, and the name it has while being written."""

    path: Path

    @classmethod
    def new(cls, folder: Path, database: str, at: datetime) -> BackupFile:
        return cls(folder / f"safemigrate-{slug(database)}-{at:%Y%m%dT%H%M%S%f}Z{SUFFIX}")

    @property
    def stamp(self) -> str:
        """When the backup was started, to the second, as its name says: ``20260101t120000``."""
        match = _NAME.match(self.path.name)
        return match["stamp"][:15].lower() if match else ""

    @property
    def partial(self) -> Path:
        return self.path.with_name(self.path.name + PARTIAL)

    def create(self) -> int:
        """Create the partial file, readable by this user only, and return its descriptor."""
        return os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def seal(self, fd: int) -> int:
        """Flush the partial file's bytes to disk and return its size."""
        os.fsync(fd)
        return os.fstat(fd).st_size

    def publish(self) -> None:
        """Give the sealed partial file its final name, durably: now it is a backup."""
        os.replace(self.partial, self.path)
        _sync_folder(self.path.parent)

    def discard(self) -> None:
        self.partial.unlink(missing_ok=True)


def prepare_folder(folder: Path) -> None:
    """Create the folder (private to this user) if needed; raise ``OSError`` if unwritable."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"{folder} is not writable by this user")


def backups(folder: Path, database: str) -> list[Path]:
    """Return the whole backups of ``database`` in the folder, oldest first."""
    found = []
    for path in folder.glob(f"safemigrate-{slug(database)}-*{SUFFIX}"):
        match = _NAME.match(path.name)
        if match and match["database"] == slug(database) and _plain_file(path):
            found.append((match["stamp"], path))
    return [path for _, path in sorted(found)]


def leftovers(folder: Path, database: str) -> list[Path]:
    """Return the partial files of ``database``: backups a killed run never finished."""
    return [
        path
        for path in folder.glob(f"safemigrate-{slug(database)}-*{SUFFIX}{PARTIAL}")
        if _NAME.match(path.name[: -len(PARTIAL)]) and _plain_file(path)
    ]


def prune(folder: Path, database: str, keep: int | None) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``database``; return what was deleted."""
    if keep is None:
        return []
    old = backups(folder, database)[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable: on Linux a folder's entries reach disk with its fsync."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
