"""The database schema, as sqlite-utils migrations applied idempotently at start-up."""
from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("doorstep")

# entity type -> (table, indexed link columns generated from the JSON data)
ENTITY_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "school": ("schools", ()),
    "household": ("households", ()),
    "pupil": ("pupils", ("school_id", "household_id", "upn")),
    "case": ("cases", ("pupil_id", "assigned_officer_id", "status")),
    "visit": ("visits", ("case_id", "officer_id")),
    "conversation": ("conversations", ("case_id",)),
    "transport_run": ("transport_runs", ("driver_id", "school_id")),
    "transport_stop": ("transport_stops", ("run_id", "pupil_id")),
    "task": ("tasks", ("case_id",)),
    "note": ("notes", ("case_id", "subject_id")),
    # written by the server for officers to read (m018, docs/protocol.md §7.6, §7.7)
    "notice": ("notices", ("recipient_id",)),
    "review": ("review_records", ("case_id", "subject_id")),
    # parents and attendance support plans (m023, docs/protocol.md §7.8, §7.9)
    "person": ("persons", ("household_id",)),
    "support_plan": ("support_plans", ("case_id", "supersedes")),
    # wellbeing plans and lone-working check-ins (m028, docs/protocol.md §7.10, §7.11)
    "wellbeing_plan": ("wellbeing_plans", ("case_id", "supersedes")),
    "check_in": ("check_ins", ("officer_id", "case_id", "household_id")),
}


def _entity_table(db: Database, table: str, links: tuple[str, ...]) -> None:
    """An entity table as m001 makes them (later migrations add columns), with its indexes."""
    generated = "".join(
        f",\n  {col} TEXT GENERATED ALWAYS AS (json_extract(data, '$.{col}')) VIRTUAL" for col in links)
    db.execute(f"""
CREATE TABLE IF NOT EXISTS {table} (
  id TEXT PRIMARY KEY,
  data TEXT NOT NULL,
  meta TEXT NOT NULL,
  version INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  deleted_hlc TEXT,
  flags TEXT NOT NULL DEFAULT '{{}}',
  created_at TEXT, created_by TEXT, updated_at TEXT, updated_by TEXT{generated}
)""")
    db.execute(f"CREATE INDEX IF NOT EXISTS {table}_seq ON {table}(seq)")
    for col in links:
        db.execute(f"CREATE INDEX IF NOT EXISTS {table}_{col} ON {table}({col})")


@migrations()
def m001_entities(db: Database) -> None:
    for table, links in ENTITY_TABLES.values():
        _entity_table(db, table, links)


@migrations()
def m002_sync(db: Database) -> None:
    db.execute("""CREATE TABLE IF NOT EXISTS changes (
  seq INTEGER PRIMARY KEY, change_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
  entity_id TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, user_id TEXT,
  device_id TEXT, received_at TEXT NOT NULL, hlc TEXT NOT NULL, fields TEXT NOT NULL,
  lost_fields TEXT NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS changes_entity ON changes(entity_id)")
    db.execute("""CREATE TABLE IF NOT EXISTS conflicts (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, entity_id TEXT NOT NULL, field TEXT,
  kept TEXT NOT NULL, lost TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
  resolved_at TEXT, resolved_by TEXT, choice TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS conflicts_status ON conflicts(status, created_at, id)")
    db.execute("""CREATE TABLE IF NOT EXISTS scope_events (
  user_id TEXT NOT NULL, type TEXT NOT NULL, entity_id TEXT NOT NULL, kind TEXT NOT NULL,
  seq INTEGER NOT NULL, PRIMARY KEY (user_id, type, entity_id))""")
    db.execute("CREATE INDEX IF NOT EXISTS scope_events_seq ON scope_events(user_id, seq)")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    db.execute("INSERT OR IGNORE INTO meta VALUES ('max_seq', 0), ('horizon', 0)")


@migrations()
def m003_accounts(db: Database) -> None:
    db.execute("""CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
  role TEXT NOT NULL, password_hash TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL,
  last_seen_at TEXT, last_sync_at TEXT, revoked_at TEXT, revoked_reason TEXT, revoked_by TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS devices_user ON devices(user_id)")
    db.execute("""CREATE TABLE IF NOT EXISTS refresh_tokens (
  id TEXT PRIMARY KEY, device_id TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  issued_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS refresh_tokens_device ON refresh_tokens(device_id)")
    db.execute("""CREATE TABLE IF NOT EXISTS login_failures (
  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_at REAL NOT NULL)""")


@migrations()
def m004_register_audit(db: Database) -> None:
    db.execute("""CREATE TABLE IF NOT EXISTS marks (
  pupil_id TEXT NOT NULL, date TEXT NOT NULL, session TEXT NOT NULL, code TEXT NOT NULL,
  imported_at TEXT NOT NULL, PRIMARY KEY (pupil_id, date, session))""")
    db.execute("""CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY, at TEXT NOT NULL, user_id TEXT, device_id TEXT, action TEXT NOT NULL,
  entity_ids TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}')""")
    db.execute("CREATE INDEX IF NOT EXISTS audit_at ON audit(at)")
    db.execute("""CREATE TABLE IF NOT EXISTS audit_entities (
  audit_id INTEGER NOT NULL, entity_id TEXT NOT NULL, PRIMARY KEY (entity_id, audit_id))
  WITHOUT ROWID""")


@migrations()
def m005_signing_keys(db: Database) -> None:
    db.execute("""CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY, secret TEXT NOT NULL, created_at TEXT NOT NULL, retired_at TEXT)""")


@migrations()
def m010_office(db: Database) -> None:
    """The office pages: cookie sessions, review states and marks-import reports."""
    db.execute("""CREATE TABLE IF NOT EXISTS office_sessions (
  id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, csrf TEXT NOT NULL, created_at REAL NOT NULL,
  last_seen_at REAL NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS office_sessions_user ON office_sessions(user_id)")
    db.execute("""CREATE TABLE IF NOT EXISTS reviews (
  entity_id TEXT PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL, comment TEXT NOT NULL,
  user_id TEXT NOT NULL, at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE IF NOT EXISTS review_history (
  id INTEGER PRIMARY KEY, entity_id TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL,
  comment TEXT NOT NULL, user_id TEXT NOT NULL, at TEXT NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS review_history_entity ON review_history(entity_id, id)")
    db.execute("""CREATE TABLE IF NOT EXISTS office_imports (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, at TEXT NOT NULL, filename TEXT NOT NULL,
  report TEXT NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS office_imports_at ON office_imports(at)")


@migrations()
def m011_pull_items(db: Database) -> None:
    """Each record's pull item, encoded at every save (sync.pull_item): a pull copies
    it. Rows saved before this have none until their next save; a pull builds theirs."""
    for table, _links in ENTITY_TABLES.values():
        if not db[table].exists():
            continue  # made by a later migration, with the column (m018)
        if "item" not in db[table].columns_dict:
            db.execute(f"ALTER TABLE {table} ADD COLUMN item BLOB")


@migrations()
def m012_register_scale(db: Database) -> None:
    """The register at an authority's size (docs/register.md): integer keys for schools and
    pupils, enrolments as history, compact marks with the import that set them, per-pupil
    per-week aggregates, per-school school weeks and per-pupil per-year figures."""
    db.execute("""CREATE TABLE IF NOT EXISTS register_schools (
  pk INTEGER PRIMARY KEY, school_id TEXT NOT NULL UNIQUE, urn TEXT UNIQUE,
  last_mark_date TEXT, last_import_at TEXT)""")
    db.execute("""CREATE TABLE IF NOT EXISTS register_pupils (
  pk INTEGER PRIMARY KEY, pupil_id TEXT NOT NULL UNIQUE, upn TEXT NOT NULL UNIQUE,
  school_pk INTEGER, on_roll_from TEXT, left_on TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS register_pupils_school ON register_pupils(school_pk)")
    db.execute("""CREATE TABLE IF NOT EXISTS enrolments (
  pupil_pk INTEGER NOT NULL, school_pk INTEGER NOT NULL, from_date TEXT NOT NULL, to_date TEXT,
  main INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (pupil_pk, school_pk, from_date)) WITHOUT ROWID""")
    db.execute("CREATE INDEX IF NOT EXISTS enrolments_school ON enrolments(school_pk, to_date)")
    db.execute("""CREATE TABLE IF NOT EXISTS imports (
  no INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, user_id TEXT,
  filename TEXT NOT NULL DEFAULT '', extracted_at TEXT NOT NULL, started_at TEXT NOT NULL,
  finished_at TEXT, status TEXT NOT NULL, position INTEGER NOT NULL DEFAULT 0,
  line INTEGER NOT NULL DEFAULT 1, report TEXT NOT NULL DEFAULT '{}', audit_id INTEGER,
  moved TEXT NOT NULL DEFAULT '[]')""")
    db.execute("""CREATE TABLE IF NOT EXISTS import_rejects (
  import_no INTEGER NOT NULL, line INTEGER NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL,
  PRIMARY KEY (import_no, line)) WITHOUT ROWID""")
    # marks: day = date.toordinal(), session 0 = AM, 1 = PM; import_no -> imports.no
    db.execute("""CREATE TABLE IF NOT EXISTS register_marks (
  pupil_pk INTEGER NOT NULL, day INTEGER NOT NULL, session INTEGER NOT NULL, code TEXT NOT NULL,
  import_no INTEGER NOT NULL, PRIMARY KEY (pupil_pk, day, session)) WITHOUT ROWID""")
    # counts per pupil, academic year and week (week = the Monday's ordinal)
    db.execute("""CREATE TABLE IF NOT EXISTS pupil_weeks (
  pupil_pk INTEGER NOT NULL, year INTEGER NOT NULL, week INTEGER NOT NULL,
  present INTEGER NOT NULL DEFAULT 0, approved INTEGER NOT NULL DEFAULT 0,
  authorised INTEGER NOT NULL DEFAULT 0, unauthorised INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pupil_pk, year, week)) WITHOUT ROWID""")
    # sessions: marks other than '#' the school recorded that week (> 0: a school week)
    db.execute("""CREATE TABLE IF NOT EXISTS school_weeks (
  school_pk INTEGER NOT NULL, week INTEGER NOT NULL, sessions INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (school_pk, week)) WITHOUT ROWID""")
    db.execute("""CREATE TABLE IF NOT EXISTS figures (
  pupil_pk INTEGER NOT NULL, year INTEGER NOT NULL, school_pk INTEGER,
  possible INTEGER NOT NULL DEFAULT 0, attended INTEGER NOT NULL DEFAULT 0,
  authorised INTEGER NOT NULL DEFAULT 0, unauthorised INTEGER NOT NULL DEFAULT 0,
  pct INTEGER NOT NULL DEFAULT 1000, band TEXT NOT NULL DEFAULT 'ok',
  last10 INTEGER NOT NULL DEFAULT 0, threshold_met INTEGER NOT NULL DEFAULT 0,
  threshold_from INTEGER, threshold_to INTEGER, dirty INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (pupil_pk, year)) WITHOUT ROWID""")
    db.execute("CREATE INDEX IF NOT EXISTS figures_band ON figures(year, band, pct, pupil_pk)")
    db.execute("CREATE INDEX IF NOT EXISTS figures_pct ON figures(year, pct, pupil_pk)")
    db.execute("CREATE INDEX IF NOT EXISTS figures_school ON figures(year, school_pk, pct, pupil_pk)")
    db.execute("CREATE INDEX IF NOT EXISTS figures_threshold ON figures(year, pct, pupil_pk) "
               "WHERE threshold_met = 1")
    db.execute("CREATE INDEX IF NOT EXISTS figures_dirty ON figures(pupil_pk, year) WHERE dirty = 1")
    # who saw a pupil on a list page: two integers a row instead of a UUID (docs/register.md)
    db.execute("""CREATE TABLE IF NOT EXISTS audit_pupils (
  pupil_pk INTEGER NOT NULL, audit_id INTEGER NOT NULL, PRIMARY KEY (pupil_pk, audit_id)) WITHOUT ROWID""")


@migrations()
def m013_jobs(db: Database) -> None:
    """Background jobs (server/jobs.py): marks and roll imports from the office, retention,
    transport planning. A job is claimed with a lease, so it survives a restart and runs once
    across worker processes."""
    db.execute("""CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, args TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL, progress TEXT NOT NULL DEFAULT '{}', result TEXT, error TEXT,
  created_by TEXT, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
  lease_owner TEXT, lease_until REAL, attempts INTEGER NOT NULL DEFAULT 0)""")
    db.execute("CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created_at)")


@migrations()
def m015_marks_to_register(db: Database) -> None:
    """Marks stored before m012 (``marks``: one row a mark, UUID keys) move to ``register_marks``
    with their weekly counts and figures (server.register.backfill); the old table goes."""
    if "marks" not in db.table_names():
        return
    from server.register.backfill import from_old_marks

    from_old_marks(db.conn)
    db.execute("DROP TABLE marks")


@migrations()
def m014_register_alerts(db: Database) -> None:
    """Register alerts for the office (a possible child missing education: a pupil who left a
    school's roll with an open case or no known destination), and roll files uploaded in the
    office, kept (compressed) between the dry run and the confirmation (docs/register.md)."""
    db.execute("""CREATE TABLE IF NOT EXISTS register_alerts (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, pupil_id TEXT, school_id TEXT, created_at TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '', resolved_at TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS register_alerts_open ON register_alerts(resolved_at, created_at)")
    db.execute("""CREATE TABLE IF NOT EXISTS roll_uploads (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, at TEXT NOT NULL, filename TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL, content BLOB, report TEXT NOT NULL DEFAULT '{}',
  applied_at TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS roll_uploads_at ON roll_uploads(at)")


@migrations()
def m016_creates_found_through_the_record(db: Database) -> None:
    """A record's first change is found through the record (``created_seq``), not through the
    change log's entity index, which holds only the later changes (``created = 0``): a new
    record costs one random-key index entry fewer (docs/performance.md, sync round five).
    Rows logged before this keep ``created = 0`` and stay in the index."""
    if "created" not in db["changes"].columns_dict:
        db.execute("ALTER TABLE changes ADD COLUMN created INTEGER NOT NULL DEFAULT 0")
    for table, _links in ENTITY_TABLES.values():
        if not db[table].exists():
            continue  # made by a later migration, with the column (m018)
        if "created_seq" not in db[table].columns_dict:
            db.execute(f"ALTER TABLE {table} ADD COLUMN created_seq INTEGER")
    db.execute("CREATE INDEX IF NOT EXISTS changes_entity_edits ON changes(entity_id) WHERE created = 0")
    db.execute("DROP INDEX IF EXISTS changes_entity")


@migrations()
def m017_device_status(db: Database) -> None:
    """What each phone reports on every call (``Doorstep-Unsent``, ``Doorstep-App-Version``,
    ``Doorstep-Last-Sync``: unsent count, since when it has held unsent work, shell version, its
    own last sync) and the two kinds of office revocation, ``lost`` and ``returned``: the
    reason given, the returned phone's final push, and how many unsent changes a wiped phone
    lost (docs/protocol.md §2.6)."""
    columns = {"unsent": "INTEGER", "unsent_since": "TEXT", "app_version": "TEXT", "phone_synced_at": "TEXT",
               "revoke_kind": "TEXT", "revoke_note": "TEXT", "final_push_at": "TEXT",
               "final_push_changes": "INTEGER NOT NULL DEFAULT 0", "lost_unsent": "INTEGER",
               "lost_reported_at": "TEXT"}
    existing = db["devices"].columns_dict
    for name, decl in columns.items():
        if name not in existing:
            db.execute(f"ALTER TABLE devices ADD COLUMN {name} {decl}")
    # every office revocation before this one was a lost phone's
    db.execute("UPDATE devices SET revoke_kind = 'lost' WHERE revoked_reason = 'revoked' AND revoke_kind IS NULL")
    db.execute("CREATE INDEX IF NOT EXISTS devices_unsent_since ON devices(unsent_since) "
               "WHERE unsent_since IS NOT NULL")


@migrations()
def m018_notices_reviews(db: Database) -> None:
    """Tables for the ``notice`` and ``review`` records (docs/protocol.md §7.6, §7.7), shaped as
    every entity table is: m001's columns, and every column later migrations added to the
    others (the pull item, ``created_seq``), copied from ``visits``."""
    for type_ in ("notice", "review"):
        _late_entity_table(db, type_)


def _late_entity_table(db: Database, type_: str) -> None:
    """The table of an entity type added after m001, with every column the others have."""
    table, links = ENTITY_TABLES[type_]
    _entity_table(db, table, links)
    have = {r[1] for r in db.execute(f"PRAGMA table_xinfo({table})").fetchall()}
    for _cid, name, decl, notnull, default, _pk in db.execute("PRAGMA table_info(visits)").fetchall():
        if name not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}"
                       + (f" NOT NULL DEFAULT {default}" if notnull and default is not None else ""))
    db.execute(f"CREATE INDEX IF NOT EXISTS {table}_tombstones ON {table}(seq) WHERE deleted = 1")


@migrations()
def m019_user_admin(db: Database) -> None:
    """User administration (docs/users.md): the second factor (TOTP, RFC 6238) on the user's row
    (its secret, pending until confirmed by a first code; the last time step used, so a code is
    accepted once; failed codes in a row), one-time password reset codes (hashed, expiring) and
    the office's sign-in step between password and code."""
    columns = {"totp_secret": "TEXT", "totp_enabled_at": "TEXT", "totp_last_step": "INTEGER",
               "totp_failures": "INTEGER NOT NULL DEFAULT 0", "totp_failed_at": "REAL"}
    existing = db["users"].columns_dict
    for name, decl in columns.items():
        if name not in existing:
            db.execute(f"ALTER TABLE users ADD COLUMN {name} {decl}")
    db.execute("""CREATE TABLE IF NOT EXISTS password_resets (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, code_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
  created_by TEXT, expires_at REAL NOT NULL, used_at TEXT)""")
    db.execute("CREATE INDEX IF NOT EXISTS password_resets_user ON password_resets(user_id)")
    db.execute("""CREATE TABLE IF NOT EXISTS login_challenges (
  id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at REAL NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0)""")


@migrations()
def m020_signin_throttle(db: Database) -> None:
    """Failed sign-ins per source address and per (username, address) pair, shared by every
    worker process (server/identity/throttle.py); it replaces ``login_failures``, whose
    per-username count let a stranger lock a real user out from anywhere."""
    db.execute("""CREATE TABLE IF NOT EXISTS signin_throttle (
  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, first_at REAL NOT NULL, last_at REAL NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS signin_throttle_last_at ON signin_throttle(last_at)")
    db.execute("DROP TABLE IF EXISTS login_failures")


@migrations()
def m021_retention(db: Database) -> None:
    """Retention (docs/retention.md): each device's pull position, ``pulled_seq`` (what it holds:
    its last cursor's position, or its snapshot's start), which the compaction horizon may not
    pass while the device is active. NULL: it holds no cursor yet. A device from before this
    holds a cursor the server never recorded: 0 until its next pull, so nothing is pruned under it."""
    if "pulled_seq" not in db["devices"].columns_dict:
        db.execute("ALTER TABLE devices ADD COLUMN pulled_seq INTEGER")
        db.execute("UPDATE devices SET pulled_seq = 0")
    # the tombstones compaction removes, found without reading the live records
    for table, _links in ENTITY_TABLES.values():
        if db[table].exists():  # a later migration's table gets its own (m023)
            db.execute(f"CREATE INDEX IF NOT EXISTS {table}_tombstones ON {table}(seq) WHERE deleted = 1")


# m022 onwards live in their own module (registered here, after the ones above)
from . import migrations_late  # noqa: E402,F401
