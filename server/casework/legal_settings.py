"""The authority's settings for the legal steps (docs/deploy.md's table; docs/casework.md).

What the national framework fixes (the amounts, 21 and 28 days, 2 notices per parent per
child in 3 years) is in ``legal_rules.py``; what an authority decides is here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw.isdigit() else default


def _roles(name: str, default: str) -> tuple[str, ...]:
    raw = os.environ.get(name, default)
    return tuple(r.strip() for r in raw.split(",") if r.strip())


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"{name}={raw!r}: expected 1/true/yes/on or 0/false/no/off")
    return raw in ("1", "true", "yes", "on")


DEFAULT_AUTHORITY = "The Local Authority"


@dataclass(frozen=True)
class LegalSettings:
    # the improvement period of a Notice to Improve, school weeks (the framework allows 3 to 6)
    nti_weeks: int = field(default_factory=lambda: _int("DOORSTEP_NTI_WEEKS", 4))
    # working days after posting that a penalty notice is deemed received (served by hand: that day)
    deemed_service_days: int = field(default_factory=lambda: _int("DOORSTEP_PN_DEEMED_SERVICE_DAYS", 2))
    # unauthorised sessions, within how many school weeks, that meet the penalty notice threshold
    threshold_sessions: int = field(default_factory=lambda: _int("DOORSTEP_PN_THRESHOLD_SESSIONS", 10))
    threshold_weeks: int = field(default_factory=lambda: _int("DOORSTEP_PN_THRESHOLD_WEEKS", 10))
    # a term-time holiday (code G) may go to a penalty notice without a Notice to Improve
    holiday_without_nti: bool = field(default_factory=lambda: _bool("DOORSTEP_PN_HOLIDAY_WITHOUT_NTI", True))
    # the roles that may approve, refuse and issue penalty notices (the issuing permission)
    issuer_roles: tuple[str, ...] = field(default_factory=lambda: _roles("DOORSTEP_PN_ISSUER_ROLES", "admin"))
    # the authority's name in letters
    authority_name: str = field(
        default_factory=lambda: (os.environ.get("DOORSTEP_AUTHORITY_NAME") or "").strip()[:200] or DEFAULT_AUTHORITY)

    def __post_init__(self) -> None:
        if not 3 <= self.nti_weeks <= 6:
            raise ValueError("DOORSTEP_NTI_WEEKS: the improvement period is 3 to 6 school weeks")
        if not 0 <= self.deemed_service_days <= 10:
            raise ValueError("DOORSTEP_PN_DEEMED_SERVICE_DAYS: 0 to 10 working days")
        if self.threshold_sessions < 1 or self.threshold_weeks < 1:
            raise ValueError("DOORSTEP_PN_THRESHOLD_SESSIONS and _WEEKS are at least 1")
