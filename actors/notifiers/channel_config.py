"""What every channel's configuration shares: strictness and a per-attempt timeout."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from alerting.duration import parse_duration

MAX_TIMEOUT_SECONDS = 120


class ChannelConfigBase(BaseModel):
    """Unknown keys refused; ``timeout`` bounds each attempt (0s < timeout <= 2m)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: str = "10s"

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str) -> str:
        if not 0 < parse_duration(value).total_seconds() <= MAX_TIMEOUT_SECONDS:
            raise ValueError("timeout must be between 0s and 2m")
        return value

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout).total_seconds()
