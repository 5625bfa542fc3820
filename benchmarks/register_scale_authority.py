"""The authority ``register_scale.py`` measures: schools, households and pupils, their roll CSV,
and a term of AM/PM marks in the order a school MIS sends daily extracts (see that file's
docstring for the shapes and shares)."""
from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import _common  # noqa: F401  (puts the checkout on sys.path)
from server.register.upn import make_upn

START = dt.date(2026, 9, 7)  # a Monday: the first day of the autumn term's marks
ON_ROLL_FROM = dt.date(2026, 9, 1)


FIRST = ("Aisha Alfie Amelia Archie Ava Bella Charlie Chloe Daisy Dylan Ella Ethan Evie Finley Freya George "
         "Grace Harry Harvey Isabella Isla Jack Jacob Jessica Joshua Layla Leo Lily Logan Lucy Mason Mia "
         "Mohammed Noah Olivia Oscar Poppy Riley Rosie Ruby Sienna Sophia Teddy Theo Thomas Willow Zara").split()
LAST = ("Ahmed Ali Bailey Baker Barker Bell Brown Clarke Cooper Davies Dixon Evans Fletcher Green Hall Harris "
        "Hill Holmes Hughes Hussain Jackson Johnson Jones Kaur Khan King Lee Marsh Mitchell Moore Patel Price "
        "Roberts Robinson Shaw Singh Smith Taylor Thompson Turner Walker Ward Watson White Wilson Wood "
        "Wright Young").split()
STREETS = ("Acre Albion Alder Ash Aspen Bank Beech Belle Birch Bridge Brook Castle Cedar Chapel Cherry Church "
           "Cliff Colliery Croft Dale Elm Fern Field Garden Green Grove Hawthorn Hazel Heath High Hill Holly "
           "Ings Laburnum Lime Low Manor Maple Marsh Mill Moor Oak Orchard Park Pinfold Poplar Priory Quarry "
           "Rectory School Spring Station Sycamore Thorn Vicarage Water Well Willow Wood").split()
SUFFIXES = ("Road", "Street", "Lane", "Close", "Avenue", "Grove", "Terrace", "Drive")
RELATIONS = ("Mother", "Father", "Grandmother", "Carer", "Aunt", "Stepfather")


@dataclass
class School:
    urn: str
    name: str
    phase: str  # primary or secondary (7-11)
    size: int
    postcode: str
    lat: float
    lon: float
    inset: int = 0  # the school-day index of its INSET day ('#')


@dataclass
class Pupil:
    upn: str
    school: int  # index into Authority.schools
    household: int
    propensity: float  # chance of missing a school day
    holiday_week: int  # -1: none; else the week of G marks
    part_time: bool  # on a part-time timetable (C2 in the afternoon)


@dataclass
class Authority:
    schools: list[School]
    pupils: list[Pupil]
    households: int


def school_sizes(n: int, rng: random.Random) -> list[tuple[str, int]]:
    """About one school per 400 pupils, each 200-1,500 (primaries ~200-450, secondaries ~800-1,500)."""
    count = max(1, round(n / 400))
    if n < 200:
        return [("primary", n)]
    phases = ["secondary" if rng.random() < 0.2 else "primary" for _ in range(count)]
    if count >= 3 and "secondary" not in phases:
        phases[-1] = "secondary"
    weights = [rng.uniform(800, 1500) if p == "secondary" else rng.uniform(200, 450) for p in phases]
    scale = n / sum(weights)
    sizes = [min(1500, max(200, round(w * scale))) for w in weights]
    # settle the rounding and clamping so the sizes add up to n, staying within 200-1,500 where possible
    for _ in range(10 * count + 10):
        diff = n - sum(sizes)
        if diff == 0:
            break
        step = 1 if diff > 0 else -1
        room = [i for i, s in enumerate(sizes) if (s < 1500 if step > 0 else s > 200)]
        if not room:
            room = list(range(count))
        share = max(1, abs(diff) // len(room))
        for i in room:
            if sum(sizes) == n:
                break
            headroom = (1500 - sizes[i]) if step > 0 else (sizes[i] - 200)
            sizes[i] += step * min(share, abs(n - sum(sizes)), max(headroom, 1 if len(room) == count else 0))
    return list(zip(phases, sizes))


def make_authority(n: int, weeks: int, rng: random.Random) -> Authority:
    schools = []
    for i, (phase, size) in enumerate(school_sizes(n, rng)):
        area = i // 3
        schools.append(School(
            urn=str(140_000 + i), name=f"{rng.choice(STREETS)} {'Primary' if phase == 'primary' else 'Academy'} "
            f"{i + 1}", phase=phase, size=size, postcode=f"WF{1 + area % 17} {area % 10}{'ABDEFGHJ'[i % 8]}Z",
            lat=53.60 + (area % 20) * 0.01, lon=-1.60 + (area % 25) * 0.01,
            inset=rng.randrange(max(1, weeks * 5))))
    # pupils school by school; households are runs of 1-4 consecutive pupils (siblings, one address),
    # so siblings mostly share a school and sometimes straddle two neighbouring ones
    pupils: list[Pupil] = []
    household, left_in_household = -1, 0
    serial = 0
    for s, school in enumerate(schools):
        for _ in range(school.size):
            if left_in_household == 0:
                household += 1
                r = rng.random()
                left_in_household = 1 if r < 0.58 else 2 if r < 0.86 else 3 if r < 0.96 else 4
            left_in_household -= 1
            serial += 1
            r = rng.random()
            if r < 0.02:  # severe: misses half or more
                p = rng.uniform(0.56, 0.95)
            elif r < 0.20:  # persistent: misses 10 % or more
                p = rng.uniform(0.115, 0.42)
            else:
                p = rng.uniform(0.0, 0.075)
            holiday = rng.randrange(weeks) if weeks >= 2 and rng.random() < 0.015 else -1
            part_time = p >= 0.5 and rng.random() < 0.25  # C2 every afternoon: severe absence on its own
            pupils.append(Pupil(make_upn(serial), s, household, p, holiday, part_time))
    return Authority(schools, pupils, household + 1)


ROLL_COLUMNS = ("upn", "first_name", "last_name", "date_of_birth", "year_group", "urn", "school_name",
                "school_postcode", "school_lat", "school_lon", "school_day_starts", "household_address",
                "household_postcode", "household_lat", "household_lon", "contact_name",
                "contact_relationship", "contact_phone", "send", "fsm", "on_roll_from", "enrolment")


def household_address(h: int) -> tuple[str, str]:
    street = f"{STREETS[h % len(STREETS)]} {SUFFIXES[(h // len(STREETS)) % len(SUFFIXES)]}"
    number = h // (len(STREETS) * len(SUFFIXES)) + 1
    area = h // 37
    return f"{number} {street}, Wakefield", f"WF{1 + area % 17} {area % 9 + 1}{'ABDEFGHJLNPQRSTUWXYZ'[h % 20]}" \
                                             f"{'ABDEFGHJLNPQRSTUWXYZ'[(h // 20) % 20]}"


def write_roll(auth: Authority, path: Path, rng: random.Random) -> None:
    surnames: dict[int, str] = {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(ROLL_COLUMNS)
        for p in auth.pupils:
            school = auth.schools[p.school]
            lo, hi = (0, 6) if school.phase == "primary" else (7, 11)
            year = rng.randint(lo, hi)
            born = dt.date(2021 - year, 9, 1) + dt.timedelta(days=rng.randrange(365))
            last = surnames.setdefault(p.household, rng.choice(LAST))
            address, postcode = household_address(p.household)
            w.writerow((p.upn, rng.choice(FIRST), last, born.isoformat(), "R" if year == 0 else str(year),
                        school.urn, school.name, school.postcode, f"{school.lat:.5f}", f"{school.lon:.5f}",
                        "08:45", address, postcode, f"{53.6 + (p.household % 997) / 5000:.5f}",
                        f"{-1.6 + (p.household % 991) / 5000:.5f}", f"{rng.choice(FIRST)} {last}",
                        RELATIONS[p.household % len(RELATIONS)], f"07700 9{p.household % 100_000:05d}",
                        "sen_support" if rng.random() < 0.13 else "ehcp" if rng.random() < 0.03 else "none",
                        "Y" if rng.random() < 0.24 else "N", ON_ROLL_FROM.isoformat(), "C"))


# -- marks ----------------------------------------------------------------------------------

def school_days(first: dt.date, count: int) -> list[dt.date]:
    """``count`` weekdays from ``first`` (a weekday) on."""
    out, day = [], first
    for _ in range(count * 2 + 7):
        if len(out) == count:
            break
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def day_lines(auth: Authority, day: dt.date, index: int, rng: random.Random) -> list[str]:
    """One school day's extract: AM and PM for every pupil, pupil by pupil. ``index`` is the
    day's number in the term (school days from START): its week and INSET day."""
    week = index // 5
    date = day.isoformat()
    am, pm = f",{date},AM,", f",{date},PM,"
    rnd = rng.random
    out: list[str] = []
    add = out.append
    inset = {s for s, school in enumerate(auth.schools) if school.inset == index}
    for p in auth.pupils:
        upn = p.upn
        if inset and p.school in inset:
            add(f"{upn}{am}#\n{upn}{pm}#\n")
            continue
        if p.holiday_week == week:
            add(f"{upn}{am}G\n{upn}{pm}G\n")
            continue
        r = rnd()
        if r >= p.propensity:  # in school
            if r > 0.995:
                add(f"{upn}{am}B\n{upn}{pm}B\n")  # approved activity off site
            elif r > 0.965:
                add(f"{upn}{am}L\n{upn}{pm}\\\n")  # late before the register closed
            elif p.part_time:
                add(f"{upn}{am}/\n{upn}{pm}C2\n")
            else:
                add(f"{upn}{am}/\n{upn}{pm}\\\n")
            continue
        # absent (or half a day): the reason
        c = rnd()
        if p.propensity >= 0.5:  # severe absence: mostly unexplained or unauthorised
            code = "O" if c < 0.45 else "N" if c < 0.75 else "I" if c < 0.9 else "G"
            add(f"{upn}{am}{code}\n{upn}{pm}{code}\n")
        elif c < 0.50:
            add(f"{upn}{am}I\n{upn}{pm}I\n")
        elif c < 0.62:
            add(f"{upn}{am}M\n{upn}{pm}\\\n")  # a medical appointment in the morning
        elif c < 0.74:
            add(f"{upn}{am}N\n{upn}{pm}N\n")
        elif c < 0.88:
            add(f"{upn}{am}O\n{upn}{pm}O\n")
        elif c < 0.96:
            add(f"{upn}{am}U\n{upn}{pm}\\\n")  # after the register closed
        else:
            add(f"{upn}{am}I\n{upn}{pm}C2\n" if p.part_time else f"{upn}{am}/\n{upn}{pm}I\n")
    return out


def write_marks(auth: Authority, path: Path, days: list[tuple[int, dt.date]], rng: random.Random,
                cap: int | None = None, max_bytes: int | None = None) -> tuple[int, int]:
    """Marks of ``days`` ((term index, date) pairs), date by date; at most ``cap`` rows and
    ``max_bytes`` bytes. Returns (rows, bytes)."""
    rows, size = 0, 0
    header = "upn,date,session,code\n"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.write(header)
        size += len(header)
        for index, day in days:
            lines = day_lines(auth, day, index, rng)
            if cap is not None and rows + 2 * len(lines) > cap or max_bytes is not None:
                # the last day is cut short (pupil by pupil) at the cap or the size limit
                for chunk in lines:
                    if (cap is not None and rows + 2 > cap) or (max_bytes is not None
                                                                 and size + len(chunk) > max_bytes):
                        return rows, size
                    fh.write(chunk)
                    rows, size = rows + 2, size + len(chunk)
                continue
            text = "".join(lines)
            fh.write(text)
            rows += 2 * len(lines)
            size += len(text)
    return rows, size
