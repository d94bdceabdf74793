"""A model's options: the dataclass each model takes, filled from ``--set name=value`` text or
from a checkpoint, with the names checked against the ones the model reads.

Why here and not in each model: every model's options dataclass is its own (documented where the
model uses it), but turning ``lambdas=10,30`` into ``(10.0, 30.0)`` and refusing a name the model
does not read is the same for all of them, and must be: an option a model silently ignores
(``kgrec train --epochs 5`` for a model without epochs) is recorded as if it had been used.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Options:
    ...     lambdas: tuple[float, ...] = (1.0, 2.0)
    ...     steps: int = 80
    >>> build_options(Options, "example", {"lambdas": "10,30", "steps": "5"})
    Options(lambdas=(10.0, 30.0), steps=5)
    >>> try:
    ...     build_options(Options, "example", {"epochs": "5"})
    ... except UnknownOptionError as exc:
    ...     print(exc)
    model 'example' does not read epochs; it reads: lambdas, steps
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kgrec.errors import KgrecError


class UnknownOptionError(KgrecError, ValueError):
    """An option the chosen model does not read, or a value of the wrong kind for one it does."""


@dataclass
class NoConfig:
    """The options of a model that has none (its fit chooses nothing, or chooses on its own)."""


def option_names(options_class: type) -> list[str]:
    """The options a model reads, in declaration order."""
    return [f.name for f in dataclasses.fields(options_class)]


def describe(options_class: type) -> str:
    """``name=default`` of every option, comma-separated values for sequences (as ``--set`` takes them)."""
    defaults = options_class()  # a field's default_factory gives its default only on an instance
    shown = [f"{f.name}={_text(getattr(defaults, f.name))}" for f in dataclasses.fields(options_class)]
    return " ".join(shown) or "(no options)"


def build_options(options_class: type, model: str, values: Mapping[str, Any]) -> Any:
    """``options_class`` with ``values`` over its defaults. A text value (from ``--set``) is
    converted to the field's type; a list (from a JSON-like checkpoint) to a tuple.

    Raises:
        UnknownOptionError: a name ``options_class`` does not have, or a value that does not
            convert; the message names the options the model does read.
    """
    reads = option_names(options_class)
    unknown = [name for name in values if name not in reads]
    if unknown:
        raise UnknownOptionError(f"model {model!r} does not read {', '.join(unknown)}; "
                                 f"it reads: {', '.join(reads) or 'no options'}")
    types = typing.get_type_hints(options_class)
    converted = {}
    for name, value in values.items():
        try:
            converted[name] = _convert(value, types[name])
        except ValueError as exc:
            raise UnknownOptionError(f"model {model!r}: option {name}={value!r}: {exc}") from None
    return options_class(**converted)


def _convert(value: Any, kind: Any) -> Any:
    """``value`` as ``kind``: int, float, bool, str, or a ``tuple[X, ...]`` of them."""
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        # an empty text is the empty tuple (e.g. --set taus= : no grid, the learned shape only)
        parts: Iterable = [part for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        return tuple(_convert(part, item) for part in parts)
    if not isinstance(value, str):
        return kind(value)
    if kind is bool:
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError("expected true or false")
        return value.lower() in ("true", "1", "yes")
    return kind(value.strip())


def _text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
