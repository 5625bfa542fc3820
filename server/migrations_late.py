"""Migrations m022 onwards: this round's records (the fleet, casework, register insight, praise
texts, wellbeing plans and check-ins). ``server/migrations.py`` imports this module at its end,
so they are registered, and applied, after m001-m021 and in the order written here."""
from __future__ import annotations

from sqlite_utils import Database

from .migrations import _entity_table, _late_entity_table, migrations


@migrations()
def m022_transport_fleet(db: Database) -> None:
    """Home-to-school transport as records in the office (docs/routing.md section 8): each pupil's
    transport needs (one row a pupil), the fleet (vehicles, retired rather than deleted) and the
    county plans made from them (the base a re-plan keeps unchanged runs from, and what route
    sheets print)."""
    db.execute("""CREATE TABLE IF NOT EXISTS transport_needs (
  pupil_id TEXT PRIMARY KEY, data TEXT NOT NULL, retired_at TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT)""")
    db.execute("""CREATE TABLE IF NOT EXISTS transport_vehicles (
  id TEXT PRIMARY KEY, data TEXT NOT NULL, retired_at TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT)""")
    db.execute("""CREATE TABLE IF NOT EXISTS transport_plans (
  id TEXT PRIMARY KEY, date TEXT NOT NULL, run TEXT NOT NULL, created_at TEXT NOT NULL,
  created_by TEXT, problem TEXT NOT NULL, plan TEXT NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS transport_plans_day ON transport_plans(date, run, created_at)")


@migrations()
def m025_targeting(db: Database) -> None:
    """Termly targeting meetings (server/casework/targeting*.py, docs/casework.md): a meeting with a
    school (date, attendees), and a row per pupil on its worklist: the figures the meeting saw
    (the trend at the next meeting is measured from them) and the decision agreed, if any."""
    db.execute("""CREATE TABLE IF NOT EXISTS targeting_meetings (
  id TEXT PRIMARY KEY, school_id TEXT NOT NULL, held_on TEXT NOT NULL, year INTEGER NOT NULL,
  attendees TEXT NOT NULL DEFAULT '[]', notes TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL, created_by TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS targeting_meetings_school ON targeting_meetings(school_id, held_on)")
    db.execute("""CREATE TABLE IF NOT EXISTS targeting_decisions (
  meeting_id TEXT NOT NULL, pupil_id TEXT NOT NULL, pct INTEGER, band TEXT, threshold_met INTEGER NOT NULL DEFAULT 0,
  case_id TEXT, has_plan INTEGER NOT NULL DEFAULT 0, decision TEXT, agreed_by TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '', PRIMARY KEY (meeting_id, pupil_id)) WITHOUT ROWID""")
    db.execute("CREATE INDEX IF NOT EXISTS targeting_decisions_pupil ON targeting_decisions(pupil_id)")


@migrations()
def m026_register_insight(db: Database) -> None:
    """Improvement spotted and codes used consistently (docs/relationships.md): each figures row's
    attendance over the last 4 school weeks and the 4 before (tenths of a per cent, NULL with too
    few school weeks) and whether that is an improvement; per school, academic year and code the
    sessions recorded (kept on import like ``school_weeks``, filled here once from the marks); and
    each school's phase and pupils on roll as at the last marks import."""
    columns = db["figures"].columns_dict
    for name, kind in (("recent_pct", "INTEGER"), ("prior_pct", "INTEGER"),
                       ("improving", "INTEGER NOT NULL DEFAULT 0")):
        if name not in columns:
            db.execute(f"ALTER TABLE figures ADD COLUMN {name} {kind}")
    db.execute("CREATE INDEX IF NOT EXISTS figures_improving ON figures(year, pct, pupil_pk) WHERE improving = 1")
    db.execute("""CREATE TABLE IF NOT EXISTS school_codes (
  school_pk INTEGER NOT NULL, year INTEGER NOT NULL, code TEXT NOT NULL, sessions INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (school_pk, year, code)) WITHOUT ROWID""")
    db.execute("""CREATE TABLE IF NOT EXISTS school_profiles (
  school_pk INTEGER PRIMARY KEY, phase TEXT NOT NULL, pupils INTEGER NOT NULL, updated_at TEXT NOT NULL)""")
    if db.execute("SELECT 1 FROM school_codes LIMIT 1").fetchone() is None:
        db.execute(
            "INSERT INTO school_codes (school_pk, year, code, sessions) SELECT p.school_pk, "
            "CAST(strftime('%Y', m.day + 1721424.5) AS INTEGER) - (CAST(strftime('%m', m.day + 1721424.5) "
            "AS INTEGER) < 9) AS y, m.code, count(*) FROM register_marks m JOIN register_pupils p "
            "ON p.pk = m.pupil_pk WHERE p.school_pk IS NOT NULL GROUP BY p.school_pk, y, m.code")


@migrations()
def m027_praise_messages(db: Database) -> None:
    """Praise texts to families of improving pupils (docs/relationships.md): the authority's
    message templates per kind and language, each family's contact preferences (opted out of
    these texts; do not contact at all), and every message queued, sent through GOV.UK Notify
    (its id and delivery status) or exported as CSV, kept with the pupil and case."""
    db.execute("""CREATE TABLE IF NOT EXISTS message_templates (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, language TEXT NOT NULL, body TEXT NOT NULL,
  notify_template_id TEXT, updated_at TEXT NOT NULL, updated_by TEXT, UNIQUE (kind, language))""")
    db.execute("""CREATE TABLE IF NOT EXISTS contact_preferences (
  household_id TEXT PRIMARY KEY, opted_out INTEGER NOT NULL DEFAULT 0,
  do_not_contact INTEGER NOT NULL DEFAULT 0, reason TEXT, set_by TEXT, set_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY, pupil_id TEXT NOT NULL, case_id TEXT, household_id TEXT, phone TEXT,
  language TEXT, body TEXT NOT NULL, channel TEXT, status TEXT NOT NULL, notify_id TEXT, notify_status TEXT,
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL, last_error TEXT, created_at TEXT NOT NULL,
  created_by TEXT, sent_at TEXT, exported_at TEXT, status_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS messages_pupil ON messages(pupil_id, created_at)")
    db.execute("CREATE INDEX IF NOT EXISTS messages_case ON messages(case_id) WHERE case_id IS NOT NULL")
    db.execute("CREATE INDEX IF NOT EXISTS messages_status ON messages(status, created_at) "
               "WHERE status IN ('to_send', 'sent')")


@migrations()
def m023_casework_people(db: Database) -> None:
    """Parents as people and attendance support plans (docs/protocol.md §7.8, §7.9): their tables,
    and every household's contacts as ``person`` records, written through the sync engine's change
    log so phones pull them (server/casework/people_migrate.py). The contacts stay on the household."""
    for type_ in ("person", "support_plan"):
        _late_entity_table(db, type_)
    from server.casework.people_migrate import contacts_to_persons

    contacts_to_persons(db.conn)


@migrations()
def m024_legal_steps(db: Database) -> None:
    """The legal steps (docs/casework.md): term dates (the authority's, ``school_id`` NULL, and a
    school's own), Notices to Improve and penalty notices (``legal_notices``, one per parent,
    their history in ``legal_events``), the register sessions each penalty notice rests on (used
    once per parent and child while the notice stands), letter templates with every version,
    and the letters made (the PDF kept with the case)."""
    db.execute("""CREATE TABLE IF NOT EXISTS term_dates (
  id INTEGER PRIMARY KEY, school_id TEXT, kind TEXT NOT NULL, starts_on TEXT NOT NULL, ends_on TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, created_by TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS term_dates_school ON term_dates(school_id, starts_on)")
    db.execute("""CREATE TABLE IF NOT EXISTS legal_notices (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, case_id TEXT NOT NULL, pupil_id TEXT NOT NULL, person_id TEXT,
  parent_key TEXT NOT NULL, status TEXT NOT NULL, due_on TEXT, data TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL, created_by TEXT, updated_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS legal_notices_case ON legal_notices(case_id, created_at)")
    db.execute("CREATE INDEX IF NOT EXISTS legal_notices_parent ON legal_notices(pupil_id, parent_key, kind)")
    db.execute("CREATE INDEX IF NOT EXISTS legal_notices_due ON legal_notices(status, due_on)")
    db.execute("""CREATE TABLE IF NOT EXISTS legal_events (
  id INTEGER PRIMARY KEY, notice_id TEXT NOT NULL, at TEXT NOT NULL, user_id TEXT, action TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}')""")
    db.execute("CREATE INDEX IF NOT EXISTS legal_events_notice ON legal_events(notice_id, id)")
    db.execute("""CREATE TABLE IF NOT EXISTS penalty_sessions (
  notice_id TEXT NOT NULL, pupil_id TEXT NOT NULL, parent_key TEXT NOT NULL, day INTEGER NOT NULL,
  session INTEGER NOT NULL, code TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (notice_id, day, session)) WITHOUT ROWID""")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS penalty_sessions_once "
               "ON penalty_sessions(pupil_id, parent_key, day, session) WHERE active = 1")
    db.execute("""CREATE TABLE IF NOT EXISTS letter_templates (
  kind TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT,
  PRIMARY KEY (kind, version)) WITHOUT ROWID""")
    db.execute("""CREATE TABLE IF NOT EXISTS letters (
  id TEXT PRIMARY KEY, notice_id TEXT NOT NULL, case_id TEXT NOT NULL, kind TEXT NOT NULL,
  template_version INTEGER NOT NULL, created_at TEXT NOT NULL, created_by TEXT, sha256 TEXT NOT NULL,
  pdf BLOB NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS letters_notice ON letters(notice_id, created_at)")


@migrations()
def m028_wellbeing_checkins(db: Database) -> None:
    """Wellbeing plans and safe lone working (docs/relationships.md, docs/protocol.md §7.10, §7.11):
    the two entity tables, and the office's acknowledgement of an overdue check-in (one row a
    check-in: who acknowledged it, and when)."""
    for type_ in ("wellbeing_plan", "check_in"):
        _late_entity_table(db, type_)
    # the open check-ins the overview reads (server/relationships/checkins.py)
    db.execute("CREATE INDEX IF NOT EXISTS check_ins_open ON check_ins(seq) "
               "WHERE json_extract(data, '$.closed_at') IS NULL")
    db.execute("""CREATE TABLE IF NOT EXISTS check_in_acks (
  check_in_id TEXT PRIMARY KEY, acknowledged_at TEXT NOT NULL, acknowledged_by TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '')""")
