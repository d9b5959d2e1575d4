"""What every locally assembled model folder shares: a manifest, sha256 checks, durable writes,
and a lock so two processes never assemble the same folder at once (`ml.whisper_model`,
`ml.encoder`)."""

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
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


def assemble_folder(
    dest: Path,
    *,
    is_complete: Callable[[Path], bool],
    written_names: Iterable[str],
    assemble_into: Callable[[Path], None],
    error: type[Exception],
    what: str,
) -> None:
    """Make `dest` complete: under a lock file (another process may be doing the same), unless
    it became complete meanwhile, `assemble_into` a staging folder beside it, which is then
    renamed into place, so `dest` is always either absent, the old folder or the new one.

    Refuses (raising `error`) to replace a folder holding files other than `written_names`:
    that is someone's own folder, not one an assembler wrote.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(dest.parent / f".{dest.name}.lock"):
        if is_complete(dest):
            return  # another process finished while this one waited
        if dest.exists() and not holds_only(dest, written_names):
            raise error(
                f"{dest} exists and holds files that are not a Hearus {what} folder; "
                "refusing to replace it"
            )
        for leftover in dest.parent.glob(f".{dest.name}.tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)  # from a run killed mid-assembly
        staging = dest.parent / f".{dest.name}.tmp-{secrets.token_hex(6)}"
        staging.mkdir()
        try:
            assemble_into(staging)
            if dest.exists():
                stale = dest.parent / f".{dest.name}.tmp-{secrets.token_hex(6)}"
                dest.rename(stale)  # out of the way; removed below, never half-visible
                staging.rename(dest)
                shutil.rmtree(stale, ignore_errors=True)
            else:
                staging.rename(dest)
            fsync_directory(dest.parent)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
