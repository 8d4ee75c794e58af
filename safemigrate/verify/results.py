"""What one postcondition found, in words an operator reads and values the history keeps."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: Values are kept as their ``repr``, cut to this length: a check returns a count or a flag,
#: and the history must not fill with whatever rows a careless query returned.
SHOWN_CHARS = 200


def shown(value: Any) -> str:
    """Return ``value`` as the history and the messages show it."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


@dataclass(frozen=True)
class CheckResult:
    """One postcondition: whether it held, what it expected and what it found."""

    description: str
    passed: bool
    expected: str = ""
    actual: str = ""
    #: Why the check could not be judged as written (a query returning two columns...).
    error: str = ""
    sql: str = ""
    duration_ms: float = 0.0

    def explain(self) -> str:
        """Say what was found, e.g. ``expected 0, got 3``."""
        if self.error:
            return self.error
        if self.expected:
            return f"expected {self.expected}, got {self.actual}"
        return f"got {self.actual}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
