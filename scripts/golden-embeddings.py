#!/usr/bin/env python3
"""Golden embeddings for all-MiniLM-L6-v2: modules/embed/golden/embeddings.json.

Each case is a text, the token ids the model sees and the embedding sentence-transformers would
give it, for the embed module (Rust, candle) to be tested against.

The reference is computed here from the model's files alone, with numpy in float64:

- Tokens: HuggingFace `tokenizers` loading the model's tokenizer.json (BERT's uncased WordPiece),
  truncating at max_seq_length (sentence_bert_config.json: 256, [CLS] and [SEP] included) and
  padding nothing, as sentence-transformers calls it. A plain-Python BERT tokenizer written from
  the same file's vocabulary (below) must give the same ids, or the script fails.
- Encoder: BERT (transformers' BertModel, as config.json describes it: 6 layers, 12 heads,
  hidden 384, feed-forward 1536, exact erf GELU, LayerNorm eps 1e-12, absolute positions, one
  token type), its weights read from model.safetensors by the small reader below.
- Pooling: the mean of the last layer's vectors over every token (one text at a time: the mask
  keeps all of them), then scaled to length 1 (torch.nn.functional.normalize, eps 1e-12), as the
  model's modules.json chains sentence-transformers' Transformer, Pooling (1_Pooling/config.json:
  mean tokens) and Normalize.

Usage (after `scripts/setup-models.sh --golden`):
    ~/.cache/lilypad/venv/bin/python scripts/golden-embeddings.py \\
        ~/.cache/lilypad/models/packages/all-minilm-l6-v2/files [OUT.json]
OUT defaults to modules/embed/golden/embeddings.json in this checkout. The output is
deterministic.
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
import unicodedata
from pathlib import Path

import numpy as np
import tokenizers
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "modules" / "embed" / "golden" / "embeddings.json"
COMMAND = (
    "scripts/setup-models.sh --golden && ~/.cache/lilypad/venv/bin/python "
    "scripts/golden-embeddings.py ~/.cache/lilypad/models/packages/all-minilm-l6-v2/files"
)

TEXTS = [
    # A paraphrase pair and an unrelated sentence (the module's tests rank them).
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome.",
    "A cheetah is running behind its prey.",
    # Case, punctuation, digits and contractions.
    "Hello, WORLD!!! It's 3.14159 o'clock -- isn't it? (email: a.b@example.com)",
    # Accents are stripped (the normalizer's NFD), a ligature is not decomposed.
    "Café déjà vu: a naïve façade in Ångström, ﬁnancial",
    # CJK characters become tokens of their own; kana do not.
    "東京は日本の首都です。 你好，世界",
    # Emoji and symbols outside the vocabulary: [UNK].
    "Emoji 🙂👍🏽 and symbols ∑ ≠ → ©",
    # A word longer than WordPiece's 100 characters is one [UNK].
    "supercalifragilisticexpialidocious " + "x" * 101,
    # Nothing to say: [CLS] [SEP] only.
    "",
    " \t\n ",
    # Longer than max_seq_length: truncated to 256 tokens.
    " ".join(
        f"Sentence {i} of a long document about embeddings, truncation and determinism."
        for i in range(40)
    ),
]


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file: an 8-byte little-endian header length, a JSON header
    naming each tensor's dtype, shape and byte range, then the data."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    dtypes = {"F32": "<f4", "I64": "<i8"}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[base + start : base + end], dtype=dtypes[info["dtype"]])
        tensors[name] = array.reshape(info["shape"])
    return tensors


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact GELU (transformers' "gelu"), x * Φ(x)."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class Bert:
    def __init__(self, tensors: dict[str, np.ndarray], config: dict):
        self.w = {k: v.astype(np.float64) for k, v in tensors.items() if v.dtype == np.float32}
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        assert config["hidden_act"] == "gelu", config["hidden_act"]
        assert config.get("position_embedding_type", "absolute") == "absolute"

    def linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return layer_norm(x, self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def forward(self, ids: list[int]) -> np.ndarray:
        """The last layer's vector of each token, every token attended to."""
        w, n = self.w, len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self.norm(x, "embeddings.LayerNorm")
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            d = x.shape[1] // self.heads

            def heads(t):
                return t.reshape(n, self.heads, d).transpose(1, 0, 2)

            q = heads(self.linear(x, p + "attention.self.query"))
            k = heads(self.linear(x, p + "attention.self.key"))
            v = heads(self.linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probs = scores / scores.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(1, 0, 2).reshape(n, -1)
            attended = self.linear(context, p + "attention.output.dense")
            x = self.norm(attended + x, p + "attention.output.LayerNorm")
            hidden = gelu(self.linear(x, p + "intermediate.dense"))
            x = self.norm(self.linear(hidden, p + "output.dense") + x, p + "output.LayerNorm")
        return x


def embedding(bert: Bert, ids: list[int]) -> np.ndarray:
    mean = bert.forward(ids).mean(axis=0)
    return mean / max(np.linalg.norm(mean), 1e-12)


def plain_bert_tokens(text: str, vocab: dict[str, int], max_tokens: int) -> list[int]:
    """BERT's uncased tokenizer written out (the BertNormalizer, BertPreTokenizer and WordPiece
    of tokenizer.json, with its [CLS] ... [SEP] template): a check on `tokenizers`."""

    def is_control(c):
        if c in "\t\n\r":
            return False
        return unicodedata.category(c).startswith("C")

    def is_whitespace(c):
        return c in " \t\n\r" or unicodedata.category(c) == "Zs"

    def is_cjk(c):
        cp = ord(c)
        return any(
            a <= cp <= b
            for a, b in [
                (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
            ]
        )

    def is_punctuation(c):
        cp = ord(c)
        if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
            return True
        return unicodedata.category(c).startswith("P")

    # Normalizer: clean the text, space out CJK characters, strip accents, lowercase.
    out = []
    for c in text:
        if ord(c) in (0, 0xFFFD) or is_control(c):
            continue
        if is_whitespace(c):
            out.append(" ")
        elif is_cjk(c):
            out.append(f" {c} ")
        else:
            out.append(c)
    text = unicodedata.normalize("NFD", "".join(out))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").lower()
    # Pre-tokenizer: split on whitespace, and each punctuation character apart.
    words = []
    for chunk in text.split():
        word = ""
        for c in chunk:
            if is_punctuation(c):
                if word:
                    words.append(word)
                words.append(c)
                word = ""
            else:
                word += c
        if word:
            words.append(word)
    # WordPiece: longest match first, "##" for the pieces after the first.
    ids = []
    for word in words:
        if len(word) > 100:
            ids.append(vocab["[UNK]"])
            continue
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in vocab:
                    pieces.append(vocab[piece])
                    break
                end -= 1
            if end == start:
                pieces = [vocab["[UNK]"]]
                break
            start = end
        ids.extend(pieces)
    return [vocab["[CLS]"]] + ids[: max_tokens - 2] + [vocab["[SEP]"]]


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(f"usage: {sys.argv[0]} MODEL_DIR [OUT.json]")
    model_dir = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) == 3 else DEFAULT_OUT

    config = json.loads((model_dir / "config.json").read_text())
    max_tokens = json.loads((model_dir / "sentence_bert_config.json").read_text())[
        "max_seq_length"
    ]
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"], pooling
    weights = model_dir / "model.safetensors"
    bert = Bert(read_safetensors(weights), config)

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens)
    tokenizer.no_padding()
    vocab = tokenizer.get_vocab(with_added_tokens=True)

    cases = []
    for text in TEXTS:
        encoding = tokenizer.encode(text)
        ids = encoding.ids
        plain = plain_bert_tokens(text, vocab, max_tokens)
        if plain != ids:
            sys.exit(f"the plain BERT tokenizer disagrees on {text!r}:\n {plain}\n {ids}")
        e = embedding(bert, ids)
        cases.append(
            {
                "text": text,
                "ids": ids,
                "truncated": bool(encoding.overflowing),
                # Nine significant digits: more than f32 holds, far more than the tests need.
                "embedding": [float(f"{x:.9g}") for x in e],
            }
        )

    header = {
        "model": "all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)",
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "tokenizer_sha256": hashlib.sha256((model_dir / "tokenizer.json").read_bytes()).hexdigest(),
        "command": COMMAND,
        "reference": (
            f"numpy {np.__version__} in float64: BERT from model.safetensors and config.json, "
            "mean of the last layer over all tokens, L2-normalized; tokens from HuggingFace "
            f"tokenizers {tokenizers.__version__} (tokenizer.json, truncation at "
            f"{max_tokens}, no padding), checked against a plain-Python BERT tokenizer"
        ),
        "max_seq_length": max_tokens,
        "dimensions": int(config["hidden_size"]),
    }
    head = json.dumps(header, ensure_ascii=False, indent=1).replace("\n", "\n ")
    lines = ["{", f' "header": {head},', ' "cases": [']
    body = [json.dumps(c, ensure_ascii=False) for c in cases]
    lines.append(",\n".join("  " + b for b in body))
    lines += [" ]", "}"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(cases)} cases to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
