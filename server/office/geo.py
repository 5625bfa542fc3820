"""How far a visit's GPS fix was from the household's address, and whether to flag it.

Distances are geodesic on the WGS-84 ellipsoid (geopy). A visit is flagged
when it is more than ``Settings.gps_flag_m`` metres (``DOORSTEP_GPS_FLAG_M``,
default 250) from its household; it is never blocked. Scanning many visits, a
cheap flat-earth estimate settles the clear cases (well inside the limit) and
only the rest are measured geodesically.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from geopy.distance import geodesic

EARTH_RADIUS_M = 6_371_008.8
# The flat estimate is within 1% of the geodesic distance at the distances that matter here.
SAFE_RATIO = 0.98


@dataclass(frozen=True)
class GpsCheck:
    distance_m: float | None  # None when the visit or the household has no position
    flagged: bool
    reason: str  # words for the office


def _point(lat: Any, lon: Any) -> tuple[float, float] | None:
    if isinstance(lat, bool) or isinstance(lon, bool):
        return None
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return float(lat), float(lon)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in metres between two (lat, lon) points."""
    return float(geodesic(a, b).meters)


def _flat_estimate_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    mean_lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(mean_lat)
    dy = math.radians(b[0] - a[0])
    return EARTH_RADIUS_M * math.hypot(dx, dy)


def check(visit_lat: Any, visit_lon: Any, home_lat: Any, home_lon: Any, limit_m: float) -> GpsCheck:
    """The distance between a visit's GPS fix and its household, and the flag."""
    visit = _point(visit_lat, visit_lon)
    home = _point(home_lat, home_lon)
    if visit is None:
        return GpsCheck(None, False, "The visit has no GPS position.")
    if home is None:
        return GpsCheck(None, False, "The household's address has no map position.")
    d = distance_m(visit, home)
    if d > limit_m:
        return GpsCheck(d, True, f"Recorded {round(d):,} m from the household, more than {round(limit_m):,} m.")
    return GpsCheck(d, False, f"Recorded {round(d):,} m from the household, within {round(limit_m):,} m.")


def is_far(visit_lat: Any, visit_lon: Any, home_lat: Any, home_lon: Any, limit_m: float) -> bool:
    """``check(...).flagged``, quick for scanning a whole log."""
    visit = _point(visit_lat, visit_lon)
    home = _point(home_lat, home_lon)
    if visit is None or home is None:
        return False
    if _flat_estimate_m(visit, home) < limit_m * SAFE_RATIO:
        return False
    return distance_m(visit, home) > limit_m
