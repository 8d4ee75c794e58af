"""Maintenance windows: when risky migrations may run, read from ``MAINTENANCE_WINDOWS``.

A window is a dict: ``start`` and ``end`` as ``"HH:MM"`` wall-clock times in its
``timezone`` (an IANA name; ``settings.TIME_ZONE`` by default), on the ``days`` it lists
(``"mon"`` ... ``"sun"`` or ranges such as ``"mon-fri"``; every day by default). An ``end``
at or before ``start`` runs past midnight into the next day; ``"24:00"`` ends at midnight.
Wall-clock times follow daylight saving time, as the people on call do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from safemigrate.exceptions import ConfigurationError

NAME = "SAFEMIGRATE['MAINTENANCE_WINDOWS']"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WINDOW_KEYS = ("days", "start", "end", "timezone")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAY_MINUTES = 24 * 60
EXAMPLE = "{'days': ['mon-fri'], 'start': '22:00', 'end': '06:00', 'timezone': 'Europe/Paris'}"


@dataclass(frozen=True)
class Window:
    """One weekly window: minutes after midnight, local to ``zone``, on some weekdays."""

    days: frozenset[int]
    start: int
    end: int
    zone: ZoneInfo

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (an aware datetime) falls inside this window."""
        local = moment.astimezone(self.zone)
        minute = local.hour * 60 + local.minute + local.second / 60
        today = local.weekday()
        if not self.overnight:
            return today in self.days and self.start <= minute < self.end
        yesterday = (today - 1) % 7
        return (today in self.days and minute >= self.start) or (
            yesterday in self.days and minute < self.end
        )

    def next_opening(self, moment: datetime) -> datetime:
        """Return when this window next opens after ``moment``."""
        local = moment.astimezone(self.zone).date()
        for offset in range(8):
            day = local + timedelta(days=offset)
            opening = self._opening(day)
            if day.weekday() in self.days and opening > moment:
                return opening
        raise AssertionError("a window with days opens within a week")  # pragma: no cover

    def _opening(self, day: date) -> datetime:
        return datetime.combine(day, time(self.start // 60, self.start % 60), tzinfo=self.zone)

    def describe(self) -> str:
        """Say the window as it was written, e.g. ``mon-fri 22:00-06:00 Europe/Paris``."""
        days = ",".join(DAYS[day] for day in sorted(self.days))
        return f"{days} {_clock(self.start)}-{_clock(self.end)} {self.zone.key}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_windows(raw: object) -> list[Window] | None:
    """Validate ``MAINTENANCE_WINDOWS``: ``None`` (no windows) or a list of window dicts."""
    if raw is None:
        return None
    if not isinstance(raw, list | tuple) or isinstance(raw, str):
        raise ConfigurationError(
            f"{NAME} must be None (no windows) or a list of windows such as [{EXAMPLE}]."
        )
    return [parse_window(entry, f"{NAME}[{index}]") for index, entry in enumerate(raw)]


def parse_window(raw: object, name: str) -> Window:
    """Validate one window dict."""
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{name} must be a dict such as {EXAMPLE}.")
    unknown = sorted(set(raw) - set(WINDOW_KEYS))
    if unknown:
        raise ConfigurationError(
            f"{name} has unknown keys {unknown}; allowed: {', '.join(WINDOW_KEYS)}."
        )
    for key in ("start", "end"):
        if key not in raw:
            raise ConfigurationError(f"{name} needs its {key!r} time, such as '22:00'.")
    start = _minutes(raw["start"], f"{name}['start']", allow_midnight_end=False)
    end = _minutes(raw["end"], f"{name}['end']", allow_midnight_end=True)
    if start == end:
        raise ConfigurationError(
            f"{name} starts and ends at {_clock(start)}: for a whole day write "
            "'start': '00:00', 'end': '24:00'."
        )
    days = _days(raw.get("days", list(DAYS)), f"{name}['days']")
    return Window(days, start, end, _zone(raw.get("timezone"), f"{name}['timezone']"))


def _minutes(value: object, name: str, *, allow_midnight_end: bool) -> int:
    match = _CLOCK.match(value) if isinstance(value, str) else None
    hours, minutes = (int(match[1]), int(match[2])) if match else (-1, -1)
    total = hours * 60 + minutes
    limit = _DAY_MINUTES if allow_midnight_end else _DAY_MINUTES - 1
    if not match or minutes > 59 or not 0 <= total <= limit:
        latest = "24:00" if allow_midnight_end else "23:59"
        raise ConfigurationError(
            f"{name} must be a time 'HH:MM' from 00:00 to {latest}, not {value!r}."
        )
    return total


def _days(value: object, name: str) -> frozenset[int]:
    tokens = [value] if isinstance(value, str) else value
    if not isinstance(tokens, list | tuple) or not tokens:
        raise ConfigurationError(f"{name} must be a list of days such as ['mon-fri', 'sun'].")
    days: set[int] = set()
    for token in tokens:
        days.update(_day_range(token, name))
    return frozenset(days)


def _day_range(token: object, name: str) -> list[int]:
    """Return the weekdays of ``"tue"`` or of a range ``"fri-mon"`` (which wraps the week)."""
    parts = token.lower().split("-") if isinstance(token, str) else []
    if not 1 <= len(parts) <= 2 or any(part not in DAYS for part in parts):
        raise ConfigurationError(
            f"{name} has {token!r}: use {', '.join(DAYS)} or a range such as 'mon-fri'."
        )
    first, last = DAYS.index(parts[0]), DAYS.index(parts[-1])
    return [(first + step) % 7 for step in range((last - first) % 7 + 1)]


def _zone(value: object, name: str) -> ZoneInfo:
    """The window's time zone; without one, the project's ``TIME_ZONE`` (or UTC if unset)."""
    key = (settings.TIME_ZONE or "UTC") if value is None else value
    try:
        if not isinstance(key, str) or not key:
            raise ValueError(key)
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigurationError(
            f"{name} must be a time zone name such as 'Europe/Paris' or 'UTC', not {key!r}."
        ) from error
