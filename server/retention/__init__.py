"""Retention (docs/retention.md): how long each kind of record is kept, the compaction
horizon, runs leaving phones, and ``doorstep retention apply``."""
from __future__ import annotations

from .policy import LEGAL_STEPS, Periods

__all__ = ["LEGAL_STEPS", "Periods"]
