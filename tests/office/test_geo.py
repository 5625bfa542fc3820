"""The GPS flag: a visit more than the configured distance from its household, by geodesic distance."""
from __future__ import annotations

import math
import random

import pytest

from server.config import Settings
from server.office import geo

from .conftest import text_of
from .helpers import HOME, add_visit, north_of


def test_known_distance_is_geodesic():
    # GeographicLib's documented example: JFK (40.6 N, 73.8 W) to LHR (51.6 N, 0.5 W) on WGS-84
    assert geo.distance_m((40.6, -73.8), (51.6, -0.5)) == pytest.approx(5_551_759.400, abs=0.01)
    # a short step north is the meridian radius of curvature times the angle
    a, e2, lat = 6_378_137.0, 0.00669437999014, math.radians(53.5005)
    meridian = a * (1 - e2) / (1 - e2 * math.sin(lat) ** 2) ** 1.5
    assert geo.distance_m((53.5, -1.5), (53.501, -1.5)) == pytest.approx(meridian * math.radians(0.001), abs=0.001)


@pytest.mark.parametrize("metres, flagged", [(0, False), (120, False), (249, False), (251, True), (320, True),
                                             (600, True), (5000, True)])
def test_flag_at_known_distances(metres, flagged):
    visit = north_of(HOME, metres)
    result = geo.check(visit[0], visit[1], *HOME, 250)
    assert result.flagged is flagged
    assert result.distance_m == pytest.approx(metres, abs=0.01)
    assert geo.is_far(visit[0], visit[1], *HOME, 250) is flagged


def test_no_position_is_never_flagged():
    assert geo.check(None, None, *HOME, 250) == geo.GpsCheck(None, False, "The visit has no GPS position.")
    assert not geo.check(53.5, -1.5, None, None, 250).flagged
    assert not geo.is_far(53.5, -1.5, None, -1.5, 250)
    assert not geo.check(True, False, *HOME, 250).flagged  # not numbers


def test_quick_scan_agrees_with_the_geodesic_check():
    rng = random.Random(7)
    for _ in range(2000):
        lat, lon = rng.uniform(49.9, 58.7), rng.uniform(-6.4, 1.8)  # England and around
        bearing, metres = rng.uniform(0, 360), rng.choice([rng.uniform(0, 600), rng.uniform(240, 260)])
        from geopy.distance import geodesic

        p = geodesic(meters=metres).destination((lat, lon), bearing)
        assert geo.is_far(p.latitude, p.longitude, lat, lon, 250) == geo.check(
            p.latitude, p.longitude, lat, lon, 250).flagged


def test_threshold_comes_from_the_environment(monkeypatch):
    assert Settings(db_path="x").gps_flag_m == 250
    monkeypatch.setenv("DOORSTEP_GPS_FLAG_M", "400")
    assert Settings(db_path="x").gps_flag_m == 400


def test_visit_log_flags_the_far_visit_and_not_the_near_one(world, office_page):
    _office, officer, ids = world
    far = add_visit(officer, ids["case"], lat=north_of(HOME, 320)[0], lon=north_of(HOME, 320)[1],
                    notes="Far visit")
    near = add_visit(officer, ids["case"], lat=north_of(HOME, 180)[0], lon=north_of(HOME, 180)[1],
                     notes="Near visit")
    page = office_page()
    listed = page.get("/office/visits", gps_far="1").text
    assert far in listed and near not in listed
    assert "GPS 320 m from home" in text_of(listed)
    everything = page.get("/office/visits").text
    assert far in everything and near in everything
    far_page = text_of(page.get(f"/office/visits/{far}").text)
    assert "320 m between the GPS position and the household's address — flagged: more than 250 m" in far_page
    near_page = text_of(page.get(f"/office/visits/{near}").text)
    assert "180 m between the GPS position and the household's address (within 250 m)" in near_page


def test_the_configured_distance_is_used(world, app_state, client, office_page):
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"], lat=north_of(HOME, 320)[0], lon=north_of(HOME, 320)[1])
    page = office_page()
    assert visit in page.get("/office/visits", gps_far="1").text
    object.__setattr__(app_state.settings, "gps_flag_m", 400.0)  # frozen dataclass: as if DOORSTEP_GPS_FLAG_M=400
    assert visit not in page.get("/office/visits", gps_far="1").text
    assert "GPS more than 400 m from home" in page.get("/office/visits").text
