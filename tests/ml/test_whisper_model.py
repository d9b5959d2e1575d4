"""Assembly of the default model folder: verified, idempotent, atomic."""

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import ml.whisper_model as whisper_model
from ml.model_folders import MANIFEST_NAME
from ml.whisper_model import (
    DEFAULT_MODEL_DIRNAME,
    ModelAssemblyError,
    ModelNotFoundError,
    ModelSources,
    SourceFile,
    installed_model_sources,
    prepare_whisper_model,
    resolve_whisper_model,
    verify_model_folder,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _source(directory: Path, name: str, content: bytes) -> SourceFile:
    path = directory / name
    path.write_bytes(content)
    return SourceFile(name=name, path=path, sha256=hashlib.sha256(content).hexdigest())


@pytest.fixture
def fake_sources(tmp_path: Path) -> ModelSources:
    """Small stand-ins for the two packages' data folders, with RECORD-style digests."""
    data = tmp_path / "site-packages-data"
    data.mkdir()
    return ModelSources(
        parts=(
            _source(data, "model.bin.part1", os.urandom(3000)),
            _source(data, "model.bin.part2", os.urandom(2000)),
        ),
        copied=(
            _source(data, "config.json", b'{"lang_ids": []}'),
            _source(data, "tokenizer.json", b"{}"),
            _source(data, "vocabulary.txt", b"a\nb\n"),
        ),
    )


def _expected_model_bin(sources: ModelSources) -> bytes:
    return b"".join(part.path.read_bytes() for part in sources.parts)


def _leftovers(parent: Path) -> list[Path]:
    return [path for path in parent.iterdir() if ".tmp-" in path.name]


def test_assembles_concatenated_model_and_manifest(
    tmp_path: Path, fake_sources: ModelSources
) -> None:
    dest = tmp_path / "models" / "whisper"
    assert prepare_whisper_model(dest, fake_sources) == dest.absolute()

    assert (dest / "model.bin").read_bytes() == _expected_model_bin(fake_sources)
    for copied in fake_sources.copied:
        assert (dest / copied.name).read_bytes() == copied.path.read_bytes()
    manifest = json.loads((dest / MANIFEST_NAME).read_text())
    assert manifest["files"]["model.bin"] == {
        "sha256": hashlib.sha256(_expected_model_bin(fake_sources)).hexdigest(),
        "size": 5000,
    }
    assert verify_model_folder(dest, fake_sources)
    assert _leftovers(dest.parent) == []


def test_second_call_leaves_a_verified_folder_untouched(
    tmp_path: Path, fake_sources: ModelSources, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = prepare_whisper_model(tmp_path / "whisper", fake_sources)
    before = {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in dest.iterdir()}

    def must_not_run(*args: object) -> None:
        raise AssertionError("a verified folder was assembled again")

    monkeypatch.setattr(whisper_model, "_assemble_into", must_not_run)
    assert prepare_whisper_model(dest, fake_sources) == dest
    after = {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in dest.iterdir()}
    assert after == before


@pytest.mark.parametrize("damage", ["flip-byte", "truncate", "delete-file", "delete-manifest"])
def test_damaged_folder_is_detected_and_assembled_again(
    tmp_path: Path, fake_sources: ModelSources, damage: str
) -> None:
    dest = prepare_whisper_model(tmp_path / "whisper", fake_sources)
    model_bin = dest / "model.bin"
    if damage == "flip-byte":  # same size: only the sha256 can tell
        data = bytearray(model_bin.read_bytes())
        data[1234] ^= 0xFF
        model_bin.write_bytes(bytes(data))
    elif damage == "truncate":
        model_bin.write_bytes(model_bin.read_bytes()[:100])
    elif damage == "delete-file":
        (dest / "tokenizer.json").unlink()
    else:
        (dest / MANIFEST_NAME).unlink()
    assert not verify_model_folder(dest, fake_sources)

    prepare_whisper_model(dest, fake_sources)
    assert verify_model_folder(dest, fake_sources)
    assert model_bin.read_bytes() == _expected_model_bin(fake_sources)
    assert _leftovers(dest.parent) == []


def test_new_package_version_makes_the_folder_stale(
    tmp_path: Path, fake_sources: ModelSources
) -> None:
    dest = prepare_whisper_model(tmp_path / "whisper", fake_sources)
    upgraded_part = _source(tmp_path, "model.bin.part2", b"new weights")
    upgraded = ModelSources(
        parts=(fake_sources.parts[0], upgraded_part), copied=fake_sources.copied
    )
    assert not verify_model_folder(dest, upgraded)
    prepare_whisper_model(dest, upgraded)
    assert (dest / "model.bin").read_bytes().endswith(b"new weights")


def test_corrupt_source_is_refused_and_leaves_nothing(
    tmp_path: Path, fake_sources: ModelSources
) -> None:
    part = fake_sources.parts[1]
    part.path.write_bytes(b"x" + part.path.read_bytes()[1:])  # no longer matches its RECORD hash
    dest = tmp_path / "models" / "whisper"
    with pytest.raises(ModelAssemblyError, match="corrupt"):
        prepare_whisper_model(dest, fake_sources)
    assert not dest.exists()
    assert _leftovers(dest.parent) == []


def test_failure_while_replacing_keeps_the_old_folder_whole(
    tmp_path: Path, fake_sources: ModelSources, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = prepare_whisper_model(tmp_path / "whisper", fake_sources)
    (dest / "model.bin").write_bytes(b"damaged")
    old_files = sorted(path.name for path in dest.iterdir())
    real_write = whisper_model._write_from_sources
    calls = 0

    def fail_on_second_file(target: Path, sources: object) -> tuple[str, int, dict[str, str]]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("disk full")
        return real_write(target, sources)  # type: ignore[arg-type]

    monkeypatch.setattr(whisper_model, "_write_from_sources", fail_on_second_file)
    with pytest.raises(OSError, match="disk full"):
        prepare_whisper_model(dest, fake_sources)
    assert sorted(path.name for path in dest.iterdir()) == old_files
    assert (dest / "model.bin").read_bytes() == b"damaged"  # untouched, never half-replaced
    assert _leftovers(dest.parent) == []


def test_refuses_to_replace_a_folder_it_did_not_write(
    tmp_path: Path, fake_sources: ModelSources
) -> None:
    dest = tmp_path / "precious"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(ModelAssemblyError, match="refusing"):
        prepare_whisper_model(dest, fake_sources)
    assert (dest / "notes.txt").read_text() == "mine"


def test_concurrent_callers_assemble_once(
    tmp_path: Path, fake_sources: ModelSources, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_assemble = whisper_model._assemble_into
    assemblies = 0

    def counting_assemble(folder: Path, sources: ModelSources) -> None:
        nonlocal assemblies
        assemblies += 1
        real_assemble(folder, sources)

    monkeypatch.setattr(whisper_model, "_assemble_into", counting_assemble)
    dest = tmp_path / "whisper"
    errors: list[BaseException] = []

    def prepare() -> None:
        try:
            prepare_whisper_model(dest, fake_sources)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=prepare) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert assemblies == 1
    assert verify_model_folder(dest, fake_sources)


def test_resolve_uses_a_named_folder_as_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "large-v3"
    folder.mkdir()
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (folder / name).write_bytes(b"x")
    assert resolve_whisper_model(f"  {folder}  ", tmp_path / "cache") == folder
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("setting", ["base", "openai/whisper-small", "/nonexistent/folder"])
def test_resolve_never_downloads_a_hub_name(tmp_path: Path, setting: str) -> None:
    with pytest.raises(ModelNotFoundError, match="not a CTranslate2 Whisper folder"):
        resolve_whisper_model(setting, tmp_path)


@pytest.mark.parametrize("setting", [None, "", "   "])
def test_resolve_empty_setting_assembles_the_default(
    tmp_path: Path,
    fake_sources: ModelSources,
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
) -> None:
    monkeypatch.setattr(whisper_model, "installed_model_sources", lambda: fake_sources)
    folder = resolve_whisper_model(setting, tmp_path / "cache")
    assert folder == (tmp_path / "cache" / DEFAULT_MODEL_DIRNAME).absolute()
    assert verify_model_folder(folder, fake_sources)


def test_installed_packages_provide_every_file_with_its_record_hash() -> None:
    sources = installed_model_sources()
    assert [part.name for part in sources.parts] == ["model.bin.part1", "model.bin.part2"]
    assert {copied.name for copied in sources.copied} == {
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    for source in sources.all_files():
        assert source.path.is_file()
        assert source.sha256 is not None and len(source.sha256) == 64


def test_real_assembly_from_the_installed_packages_with_the_cli(tmp_path: Path) -> None:
    dest = tmp_path / "whisper-base"
    result = subprocess.run(
        [sys.executable, "-m", "ml.whisper_model", str(dest)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.stdout.strip() == str(dest)
    sources = installed_model_sources()
    expected_size = sum(part.path.stat().st_size for part in sources.parts)
    assert (dest / "model.bin").stat().st_size == expected_size
    manifest = json.loads((dest / MANIFEST_NAME).read_text())
    assert manifest["sources"]["model.bin.part1"] == sources.parts[0].sha256
    assert verify_model_folder(dest, sources)
    # Idempotent: the second call only verifies.
    inode = (dest / "model.bin").stat().st_ino
    assert prepare_whisper_model(dest) == dest
    assert (dest / "model.bin").stat().st_ino == inode
