"""Settings, from defaults and ``DOORSTEP_*`` environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .casework.legal_settings import LegalSettings
    from .retention.policy import Periods


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw and raw.isdigit() else default


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ[name])
    except (KeyError, ValueError):
        return default


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _env_bool(name: str, default: bool) -> bool:
    """1/true/yes/on or 0/false/no/off; anything else stops the server rather than guess."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _TRUE + _FALSE:
        raise ValueError(f"{name}={raw!r}: expected one of {', '.join(_TRUE + _FALSE)}")
    return raw in _TRUE


def _improvement_points() -> float:
    """DOORSTEP_IMPROVEMENT_POINTS: more than 0, at most 100; anything else stops the server rather than guess."""
    value = _env_float("DOORSTEP_IMPROVEMENT_POINTS", 10.0)
    if not 0 < value <= 100:
        raise ValueError(f"DOORSTEP_IMPROVEMENT_POINTS={value}: expected more than 0 and at most 100")
    return value


def _retention() -> Periods:
    from .retention.policy import Periods

    return Periods()


def _legal() -> LegalSettings:
    from .casework.legal_settings import LegalSettings

    return LegalSettings()


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
    # failed sign-ins from one address per window before it waits (docs/operations.md: why 300)
    signin_address_limit: int = field(default_factory=lambda: _env_int("DOORSTEP_SIGNIN_ADDRESS_LIMIT", 300))
    # /api/ready answers 503 when the database's disk has less free space than this
    ready_min_free_mb: int = field(default_factory=lambda: _env_int("DOORSTEP_READY_MIN_FREE_MB", 1024))
    # Prometheus /metrics on this port (0: not served), on metrics_host (docs/operations.md)
    metrics_port: int = field(default_factory=lambda: _env_int("DOORSTEP_METRICS_PORT", 0))
    metrics_host: str = field(default_factory=lambda: os.environ.get("DOORSTEP_METRICS_HOST", "127.0.0.1"))
    gps_flag_m: float = field(default_factory=lambda: _env_float("DOORSTEP_GPS_FLAG_M", 250.0))
    at_risk_threshold: float = field(default_factory=lambda: _env_float("DOORSTEP_AT_RISK", 0.05))
    # "improving": attendance over the last 4 school weeks this many points above the 4 before (docs/relationships.md)
    improvement_points: float = field(default_factory=lambda: _improvement_points())
    # the longest ride to school, minutes, when a pupil has no limit of their own (docs/routing.md section 6)
    ride_limit_primary_min: int = field(default_factory=lambda: _env_int("DOORSTEP_RIDE_LIMIT_PRIMARY_MIN", 45))
    ride_limit_secondary_min: int = field(
        default_factory=lambda: _env_int("DOORSTEP_RIDE_LIMIT_SECONDARY_MIN", 75))
    # the office is alerted to phones that have held unsent work longer than this
    unsent_alert_hours: float = field(default_factory=lambda: _env_float("DOORSTEP_UNSENT_ALERT_HOURS", 24.0))
    # behind a TLS proxy (docs/deploy.md): office cookies are always Secure, whatever the request says
    secure_cookies: bool = field(default_factory=lambda: _env_bool("DOORSTEP_SECURE_COOKIES", False))
    # addresses whose X-Forwarded-For/-Proto uvicorn believes (comma-separated, "*" any, "" none)
    forwarded_allow_ips: str = field(
        default_factory=lambda: os.environ.get("DOORSTEP_FORWARDED_ALLOW_IPS", "127.0.0.1").strip())
    # office and admin sign in with a second factor (TOTP) as well as the password (docs/users.md)
    require_totp: bool = field(default_factory=lambda: _env_bool("DOORSTEP_REQUIRE_TOTP", False))
    # how long an admin's one-time password reset code lasts (docs/users.md)
    reset_code_hours: float = field(default_factory=lambda: _env_float("DOORSTEP_RESET_CODE_HOURS", 24.0))
    # praise texts (docs/relationships.md): sent while a legal step is live on the case? at most one a family per N days
    praise_during_legal: bool = field(default_factory=lambda: _env_bool("DOORSTEP_PRAISE_DURING_LEGAL", False))
    praise_interval_days: int = field(default_factory=lambda: _env_int("DOORSTEP_PRAISE_INTERVAL_DAYS", 14))
    # safe lone working (docs/relationships.md): minutes past a check-in's expected end before the office
    # is alerted; minutes an alert may go unacknowledged before it escalates; whom to call ("Name, phone")
    checkin_grace_min: int = field(default_factory=lambda: _env_int("DOORSTEP_CHECKIN_GRACE_MINUTES", 15))
    checkin_escalate_min: int = field(default_factory=lambda: _env_int("DOORSTEP_CHECKIN_ESCALATE_MINUTES", 15))
    checkin_escalation_contact: str = field(
        default_factory=lambda: (os.environ.get("DOORSTEP_CHECKIN_ESCALATION_CONTACT") or "").strip())
    # how long each kind of record is kept: DOORSTEP_RETENTION_* (docs/retention.md)
    retention: Periods = field(default_factory=_retention)
    # the legal steps: DOORSTEP_NTI_WEEKS, DOORSTEP_PN_* (docs/casework.md)
    legal: LegalSettings = field(default_factory=_legal)
    # the authority this database is when one server answers for several (server/tenancy): its access
    # tokens name it (``aud``) and a token naming no authority is refused; None: the only one
    authority: str | None = None
