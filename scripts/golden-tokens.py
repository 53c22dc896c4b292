#!/usr/bin/env python3
"""Golden tokenizer data for SmolLM2-135M-Instruct: modules/chat/golden/tokens.json.

Each case is a text and the token ids SmolLM2's reference tokenizer gives it, for the chat
module's own tokenizer (Rust, reading the GGUF's metadata) to be tested against.

The reference: HuggingFace `tokenizers` (the Rust library SmolLM2's published tokenizer.json runs
on) configured as that tokenizer.json is -- no normalizer; pre-tokenizer Sequence[Digits
(individual_digits), ByteLevel(add_prefix_space=false, trim_offsets=true, use_regex=true)]; a BPE
model with no dropout, no unk token, no byte fallback, ignore_merges=false; the 17 control tokens
(ids 0..16, `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`, ...) as special added tokens, matched
whole in the text; no post-processor template (nothing added: add_bos_token is false) -- with the
vocabulary and merges read from the GGUF (`tokenizer.ggml.tokens`, `tokenizer.ggml.merges`),
which the GGUF converter copied from that tokenizer.json. The GGUF says only `pre = "smollm"`;
the pre-tokenizer above is what that name stands for (llama.cpp's SMOLLM pre-type: each digit
apart, then the GPT-2 split).

Not used, and why (docs/models/smollm2.md): llama-cpp-python has no binary wheel on PyPI (sdist
only, a C++ build); transformers' GGUF tokenizer loader imports torch, and maps `smollm` to no
split rule, so it would not split digits apart.

The chat cases are rendered from the GGUF's own `tokenizer.chat_template` with Jinja2 the way
transformers renders chat templates (sandboxed, trim_blocks and lstrip_blocks), so the golden data
also pins the template's output.

Usage (after `scripts/setup-models.sh --golden`):
    ~/.cache/lilypad/venv/bin/python scripts/golden-tokens.py \\
        ~/.cache/lilypad/models/SmolLM2-135M-Instruct.Q4_1.gguf [OUT.json]
OUT defaults to modules/chat/golden/tokens.json in this checkout. The output is deterministic.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import gguf
import jinja2
import jinja2.sandbox
import tokenizers
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "modules" / "chat" / "golden" / "tokens.json"
COMMAND = (
    "scripts/setup-models.sh --golden && ~/.cache/lilypad/venv/bin/python scripts/golden-tokens.py "
    "~/.cache/lilypad/models/SmolLM2-135M-Instruct.Q4_1.gguf"
)
CONTROL = 3  # llama.cpp's token type for control (special) tokens

TEXTS = [
    "Hello, world!",
    "12345 and 3.14159",
    "On 2024-01-15 at 10:30:00 it cost $1,234.56 (0x1F, 1e-9, 1000000).",
    # Whitespace before a digit: the digit split ends the whitespace run there, so "    42" is
    # one token of four spaces then "4", "2" (the GPT-2 split alone would give "ĠĠĠ", "Ġ4"...).
    "total:    42 items\nSteps:\n\n1. mix\n2. bake",
    " leading space",
    "   three leading spaces",
    "runs  of   spaces    and trailing spaces   ",
    "line one\nline two\n\n\nafter blank lines\r\nwindows line end\n",
    "tabs\tbetween\t\tcolumns\n\tindented\n \t mixed",
    "Café naïve résumé Ångström façade, déjà vu — «quotes» and “curly” ones…",
    "中文测试：你好，世界！日本語のテキストとカタカナ。한국어 텍스트입니다.",
    "Emoji: 😀 👍🏽 🇫🇷 ❤️ 🤖 and a ZWJ family 👨‍👩‍👧",
    "don't, I'll, we've, she's, they're, I'm, he'd; DON'T, I'LL; rock'n'roll",
    "fn main() {\n    let xs: Vec<u32> = (0..10).map(|i| i * 2).collect();\n    println!(\"{xs:?}\");\n}\n",
    "def area(r: float) -> float:\n    return 3.14159 * r ** 2  # circle\n",
    "<|im_start|>user\nHi!<|im_end|>\n<|endoftext|> and not special: <|im_start |> <im_end>",
    "control bytes \x04 and \x1d have no token; \x07 has one",
    "",
]

CONVERSATIONS = [
    # A system prompt given: the template uses it.
    (
        [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "4."},
            {"role": "user", "content": "And in Roman numerals?"},
        ],
        True,
    ),
    # None given: the template inserts its default system prompt.
    ([{"role": "user", "content": "Tell me a joke about cats."}], True),
    # A finished exchange, no generation prompt.
    (
        [
            {"role": "user", "content": "Say hello."},
            {"role": "assistant", "content": "Hello!"},
        ],
        False,
    ),
]


def field(reader: gguf.GGUFReader, key: str):
    f = reader.get_field(key)
    if f is None:
        raise SystemExit(f"GGUF has no {key}")
    return f.contents()


def build(reader: gguf.GGUFReader) -> Tokenizer:
    if field(reader, "tokenizer.ggml.model") != "gpt2" or field(reader, "tokenizer.ggml.pre") != "smollm":
        raise SystemExit("not a SmolLM byte-level BPE tokenizer (tokenizer.ggml.model/pre)")
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = []
    for m in field(reader, "tokenizer.ggml.merges"):
        parts = m.split(" ")
        if len(parts) != 2:
            raise SystemExit(f"merge {m!r} is not two symbols")
        merges.append((parts[0], parts[1]))
    vocab = {t: i for i, t in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise SystemExit("duplicate tokens in the vocabulary")
    bpe = models.BPE(
        vocab=vocab,
        merges=merges,
        dropout=None,
        unk_token=None,
        fuse_unk=False,
        byte_fallback=False,
        ignore_merges=False,
    )
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    special = [t for t, ty in zip(tokens, types) if ty == CONTROL]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special])
    for t in special:
        if tok.token_to_id(t) != vocab[t]:
            raise SystemExit(f"special token {t} did not keep its id")
    if tok.get_vocab_size(with_added_tokens=True) != len(tokens):
        raise SystemExit("the vocabulary grew")
    return tok


def render(template: str, messages: list[dict], add_generation_prompt: bool) -> str:
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=add_generation_prompt)


def case(tok: Tokenizer, text: str, **extra) -> dict:
    enc = tok.encode(text, add_special_tokens=True)
    decoded = tok.decode(enc.ids, skip_special_tokens=False)
    return {"text": text, **extra, "ids": enc.ids, "pieces": enc.tokens, "round_trip": decoded == text}


def main() -> None:
    if len(sys.argv) not in (2, 3):
        raise SystemExit("usage: golden-tokens.py SmolLM2-135M-Instruct.Q4_1.gguf [OUT.json]")
    src = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) == 3 else DEFAULT_OUT
    reader = gguf.GGUFReader(src)
    tok = build(reader)
    template = field(reader, "tokenizer.chat_template")

    cases = [case(tok, t) for t in TEXTS]
    for messages, gen in CONVERSATIONS:
        cases.append(case(tok, render(template, messages, gen), messages=messages, add_generation_prompt=gen))

    for c in cases:
        # The only text that may not survive a round trip is the one with bytes the vocabulary
        # lacks (they are dropped).
        if not c["round_trip"] and "\x04" not in c["text"]:
            raise SystemExit(f"{c['text']!r} does not decode back to itself")
    chat = [c for c in cases if "messages" in c]
    for c in chat:
        for sp in ("<|im_start|>", "<|im_end|>"):
            if c["text"].count(sp) != c["ids"].count(tok.token_to_id(sp)):
                raise SystemExit(f"{sp} is not one token in {c['text']!r}")

    header = {
        "model": "SmolLM2-135M-Instruct",
        "gguf": src.name,
        "gguf_sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
        "command": COMMAND,
        "reference": (
            f"HuggingFace tokenizers {tokenizers.__version__}: BPE(vocab, merges from the GGUF; dropout None, "
            "unk None, fuse_unk false, byte_fallback false, ignore_merges false), no normalizer, "
            "pre_tokenizer Sequence[Digits(individual_digits=true), ByteLevel(add_prefix_space=false, "
            "trim_offsets=true, use_regex=true)], the 17 control tokens as special added tokens, no "
            "post-processor (nothing added)"
        ),
        "chat_template_renderer": f"jinja2 {jinja2.__version__} ImmutableSandboxedEnvironment(trim_blocks, lstrip_blocks)",
        "fields": {
            "text": "the input, encoded with special tokens matched whole",
            "ids": "token ids",
            "pieces": "the vocabulary strings of the ids (byte-level alphabet: 'Ġ' is a space, 'Ċ' a newline)",
            "round_trip": "whether decoding the ids gives the text back; false only where the text has "
            "bytes the vocabulary has no symbol for (0x04, 0x1d here), which are dropped",
            "messages, add_generation_prompt": "for chat cases: the conversation the text was rendered from "
            "with the GGUF's tokenizer.chat_template",
        },
    }
    head = json.dumps(header, ensure_ascii=False, indent=1).replace("\n", "\n ")
    lines = ["{", f' "header": {head},', ' "cases": [']
    body = [json.dumps(c, ensure_ascii=False) for c in cases]
    lines.append(",\n".join("  " + b for b in body))
    lines += [" ]", "}", ""]
    text = "\n".join(lines)
    json.loads(text)  # well-formed
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"[golden-tokens] {len(cases)} cases -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
