"""What every locally assembled model folder shares: a manifest, sha256 checks, durable writes,
and a lock so two processes never assemble the same folder at once (`ml.whisper_model`,
`ml.encoder`)."""

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

MANIFEST_NAME = "hearus-manifest.json"
COPY_BLOCK = 8 * 1024 * 1024


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when it is missing or unreadable."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def holds_only(folder: Path, names: Iterable[str]) -> bool:
    """Only a folder the assembler could have written may be replaced: never a user's folder."""
    known = {*names, MANIFEST_NAME}
    return folder.is_dir() and all(child.name in known for child in folder.iterdir())


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
