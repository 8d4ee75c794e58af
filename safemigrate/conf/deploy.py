"""The deploy settings: the live-process gate and the heartbeat that feeds it."""

from __future__ import annotations

from typing import Any, ClassVar

from safemigrate.conf.values import SettingsGroup
from safemigrate.exceptions import ConfigurationError


class DeploySettings(SettingsGroup):
    """When a post-deploy migration may run: once no live process runs code without it."""

    DEFAULTS: ClassVar[dict[str, Any]] = {
        "LIVE_PROCESS_GATE": True,
        "LIVE_PROCESS_WINDOW": "3min",
        "LIVE_PROCESS_WAIT": "5min",
        "LIVE_PROCESS_HEARTBEAT": "1min",
    }

    @property
    def live_process_gate(self) -> bool:
        """Whether application processes report their migrations, and post-deploy ones wait."""
        return self._bool("LIVE_PROCESS_GATE")

    @property
    def live_process_window_ms(self) -> int:
        """A process is live if its heartbeat is younger than this."""
        return self._above_zero("LIVE_PROCESS_WINDOW")

    @property
    def live_process_wait_ms(self) -> int:
        """How long a post-deploy migration waits for old code to go before it is refused."""
        return self._duration("LIVE_PROCESS_WAIT")

    @property
    def live_process_heartbeat_ms(self) -> int:
        """How often each application process reports that it is alive."""
        return self._above_zero("LIVE_PROCESS_HEARTBEAT")

    def _above_zero(self, key: str) -> int:
        value = self._duration(key)
        if value <= 0:
            raise ConfigurationError(
                f"SAFEMIGRATE['{key}'] must be a duration above zero, not {self._raw(key)!r}."
            )
        return value
