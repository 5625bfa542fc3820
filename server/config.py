"""Settings, from defaults and ``DOORSTEP_*`` environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw and raw.isdigit() else default


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ[name])
    except (KeyError, ValueError):
        return default


@dataclass(frozen=True)
class Settings:
    db_path: str
    access_ttl_s: int = field(default_factory=lambda: _env_int("DOORSTEP_ACCESS_TTL", 15 * 60))
    refresh_ttl_s: int = field(default_factory=lambda: _env_int("DOORSTEP_REFRESH_TTL", 14 * 24 * 3600))
    jwt_algorithm: str = "HS256"
    max_body_bytes: int = 5 * 1024 * 1024
    max_changes: int = 1000
    login_max_failures: int = field(default_factory=lambda: _env_int("DOORSTEP_LOGIN_MAX_FAILURES", 5))
    login_window_s: int = field(default_factory=lambda: _env_int("DOORSTEP_LOGIN_WINDOW", 15 * 60))
    gps_flag_m: float = field(default_factory=lambda: _env_float("DOORSTEP_GPS_FLAG_M", 250.0))
    at_risk_threshold: float = field(default_factory=lambda: _env_float("DOORSTEP_AT_RISK", 0.05))
    # the office is alerted to phones that have held unsent work longer than this
    unsent_alert_hours: float = field(default_factory=lambda: _env_float("DOORSTEP_UNSENT_ALERT_HOURS", 24.0))
    secure_cookies: bool = False
