"""Reading one setting: its default, its parser, and the error that names the fix.

Each part's settings group (``guard``, ``analysis``, ``operations``, ``backfill``,
``review``) subclasses ``SettingsGroup`` and declares its ``DEFAULTS`` beside its properties,
so a setting's name, default, parser and docstring sit in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from django.conf import settings

from safemigrate.exceptions import ConfigurationError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, None: 1}


def parse_duration(value: object, name: str) -> int:
    """Return ``value`` as whole milliseconds.

    Accept what PostgreSQL users write: an int (milliseconds, as ``SET lock_timeout = 200``
    means) or a string such as ``"200ms"``, ``"2s"``, ``"5min"`` or ``"1h"``. ``0`` means
    no limit, as it does for PostgreSQL's own timeouts.
    """
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a duration such as '200ms', not {value!r}.")
    if isinstance(value, int | float):
        if value < 0:
            raise ConfigurationError(f"{name} must not be negative, got {value!r}.")
        return int(value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        amount, unit = match.groups()
        return int(float(amount) * _UNIT_MS[unit])
    raise ConfigurationError(
        f"{name} must be a duration such as '200ms', '2s' or '5min' "
        f"(or an int of milliseconds), not {value!r}."
    )


def parse_count(value: object, name: str) -> int:
    """Return ``value`` as a non-negative int, or explain what is wrong with it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{name} must be a whole number >= 0, not {value!r}.")
    return value


def user_settings() -> Mapping[str, Any]:
    """Return ``settings.SAFEMIGRATE``, which must be a dict."""
    user = getattr(settings, "SAFEMIGRATE", {})
    if not isinstance(user, Mapping):
        raise ConfigurationError("SAFEMIGRATE must be a dict of settings.")
    return user


class SettingsGroup:
    """Read keys of ``settings.SAFEMIGRATE`` lazily, falling back to ``DEFAULTS``."""

    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def _raw(self, key: str) -> Any:
        return user_settings().get(key, self.DEFAULTS[key])

    def _duration(self, key: str) -> int:
        return parse_duration(self._raw(key), f"SAFEMIGRATE['{key}']")

    def _optional_duration(self, key: str) -> int | None:
        raw = self._raw(key)
        return None if raw is None else parse_duration(raw, f"SAFEMIGRATE['{key}']")

    def _bool(self, key: str) -> bool:
        raw = self._raw(key)
        if not isinstance(raw, bool):
            raise ConfigurationError(f"SAFEMIGRATE['{key}'] must be True or False, not {raw!r}.")
        return raw

    def _count(self, key: str) -> int:
        return parse_count(self._raw(key), f"SAFEMIGRATE['{key}']")

    def _positive(self, key: str) -> int:
        value = self._count(key)
        if value < 1:
            raise ConfigurationError(f"SAFEMIGRATE['{key}'] must be at least 1, not {value!r}.")
        return value

    def _choice(self, key: str, choices: tuple[str, ...]) -> str:
        raw = self._raw(key)
        if raw not in choices:
            raise ConfigurationError(
                f"SAFEMIGRATE['{key}'] must be one of {', '.join(choices)}, not {raw!r}."
            )
        return str(raw)
