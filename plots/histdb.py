"""The history database: one schema, versioned, on SQLite (the default, no server) or PostgreSQL.

    db = histdb.connect("results/history.sqlite")     # a path, sqlite:PATH or postgresql://...
    with db.tx():                                      # one transaction; rolled back on an exception
        db.execute("INSERT ...", params)
    rows = db.query("SELECT ... WHERE x = ?", [x])     # '?' placeholders on both backends

connect() brings the schema to SCHEMA_VERSION with the migrations below,
each in its own transaction under a lock (SQLite: BEGIN IMMEDIATE;
PostgreSQL: an advisory lock), so several recorders starting at once
migrate once. A database written by the history before versioning
(tables runs and cases, no schema_version) is version 1 and is migrated
in place. PostgreSQL goes through psycopg2 (Debian: python3-psycopg2).
"""
import contextlib
import hashlib
import os
import sqlite3
import sys

SCHEMA_VERSION = 2
PG_MIGRATION_LOCK = 0x6761706230   # pg_advisory_xact_lock key ("gapb0")


class DbError(Exception):
    """A database that cannot be opened or used: one line, exit 2."""


# {id}: the run id column, {int}: a 64-bit integer, {real}: a double. SQL with '?' placeholders.
MIGRATIONS = {
    # version 1: the history as it was before versioning (a no-op on a database it wrote)
    1: ["""CREATE TABLE IF NOT EXISTS runs (
    id {id}, started TEXT NOT NULL, finished TEXT, suite TEXT NOT NULL, suite_sha256 TEXT NOT NULL,
    git_revision TEXT NOT NULL, machine TEXT NOT NULL, kernel TEXT, sanitized INTEGER NOT NULL,
    folder TEXT NOT NULL, UNIQUE (started, suite_sha256, machine))""",
        """CREATE TABLE IF NOT EXISTS cases (
    run_id {int} NOT NULL REFERENCES runs(id), name TEXT NOT NULL, mechanism TEXT, variant TEXT,
    status TEXT NOT NULL, samples {int}, min_ns {int}, p50_ns {int}, p90_ns {int}, p99_ns {int},
    p999_ns {int}, max_ns {int}, mean_ns {real}, stddev_ns {real}, p50_cycles {int},
    PRIMARY KEY (run_id, name))"""],
    # version 2: the fleet: a run key that makes recording idempotent, machine id and class,
    # a label (accelerator / VM), the platform metadata, the repetition spread of each case
    2: ["ALTER TABLE runs ADD COLUMN run_key TEXT",
        "ALTER TABLE runs ADD COLUMN machine_id TEXT",
        "ALTER TABLE runs ADD COLUMN machine_class TEXT",
        "ALTER TABLE runs ADD COLUMN label TEXT",
        "ALTER TABLE runs ADD COLUMN recorded TEXT",
        "ALTER TABLE runs ADD COLUMN platform_id {int}",
        "ALTER TABLE cases ADD COLUMN repeats {int}",
        "ALTER TABLE cases ADD COLUMN rep_p50_median_ns {real}",
        "ALTER TABLE cases ADD COLUMN rep_p50_lo_ns {real}",
        "ALTER TABLE cases ADD COLUMN rep_p50_hi_ns {real}",
        """CREATE TABLE platforms (id {id}, sha256 TEXT NOT NULL UNIQUE, json TEXT NOT NULL)""",
        "backfill_v2",
        "CREATE UNIQUE INDEX runs_run_key ON runs (run_key)",
        "CREATE INDEX runs_machine ON runs (machine_id, started)",
        "CREATE INDEX cases_name ON cases (name)"],
}

DIALECT = {
    "sqlite": {"id": "INTEGER PRIMARY KEY", "int": "INTEGER", "real": "REAL"},
    "postgresql": {"id": "BIGSERIAL PRIMARY KEY", "int": "BIGINT", "real": "DOUBLE PRECISION"},
}


def run_key(started, suite_sha256, machine_text):
    """The identity of a run: its start time, suite hash and host (what v1's UNIQUE held)."""
    return hashlib.sha256(f"{started}\n{suite_sha256}\n{machine_text}".encode()).hexdigest()


def legacy_machine_id(machine_text):
    return "host-" + hashlib.sha256(machine_text.encode()).hexdigest()[:12]


def _backfill_v2(db):
    """Runs recorded before version 2 get their run key, machine id and class. Before the fleet each
    machine kept its own history, so a run of this host is this machine's (the id new runs get, so its
    series goes on); its class is read from the results folder's meta.json when that still exists."""
    import json
    import socket
    import histfleet
    here = histfleet.machine_id()
    for rid, started, sha, machine, kernel, folder in db.query(
            "SELECT id, started, suite_sha256, machine, kernel, folder FROM runs WHERE run_key IS NULL"):
        host, _, model = machine.partition(" / ")
        try:
            with open(os.path.join(folder, "meta.json"), encoding="utf-8") as f:
                cls = histfleet.machine_class(json.load(f))
        except (OSError, ValueError, AttributeError, TypeError):
            rel = ".".join((kernel or "?").split("-")[0].split(".")[:2])
            cls = f"{model or '?'}, ? cpus, linux {rel}, ?"
        mid = here if here and host == socket.gethostname() else legacy_machine_id(machine)
        db.execute("UPDATE runs SET run_key = ?, machine_id = ?, machine_class = ? WHERE id = ?",
                   [run_key(started, sha, machine), mid, cls, rid])


def _import_psycopg2():
    try:
        import psycopg2
    except ImportError:
        # a python3 other than Debian's (pyenv, a venv) does not see Debian's python3-psycopg2
        debian = "/usr/lib/python3/dist-packages"
        if not os.path.isdir(os.path.join(debian, "psycopg2")):
            raise DbError("a postgresql:// history needs psycopg2 (Debian: apt-get install python3-psycopg2)")
        sys.path.append(debian)
        try:
            import psycopg2
        except ImportError as e:
            raise DbError(f"psycopg2 from {debian} does not load in this python3: {e}") from e
    return psycopg2


def redact(url):
    """A database URL fit for a log line: no password."""
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    if "@" in rest.split("/", 1)[0]:
        cred, host = rest.split("@", 1)
        return f"{scheme}://{cred.split(':', 1)[0]}:***@{host}"
    return url


class Db:
    def __init__(self, kind, conn, where):
        self.kind, self.conn, self.where = kind, conn, where
        self.errors = (sqlite3.Error,) if kind == "sqlite" else (_import_psycopg2().Error,)
        self._in_tx = False

    def _sql(self, sql):
        return sql if self.kind == "sqlite" else sql.replace("?", "%s")

    def execute(self, sql, params=()):
        """One statement; returns the cursor (fetchall(), rowcount)."""
        cur = self.conn.cursor()
        cur.execute(self._sql(sql), list(params))
        return cur

    def query(self, sql, params=()):
        return self.execute(sql, params).fetchall()

    def executemany(self, sql, rows):
        self.conn.cursor().executemany(self._sql(sql), rows)

    @contextlib.contextmanager
    def tx(self):
        """One transaction, holding the write lock (SQLite) from its start; rolled back on any exception,
        including a process killed inside it (the server or SQLite's journal undoes it)."""
        if self._in_tx:
            raise DbError("nested transaction")
        self.execute("BEGIN IMMEDIATE" if self.kind == "sqlite" else "BEGIN")
        self._in_tx = True
        try:
            yield self
        except BaseException:
            with contextlib.suppress(*self.errors):
                self.execute("ROLLBACK")
            raise
        finally:
            self._in_tx = False
        self.execute("COMMIT")

    def version(self):
        if self.kind == "sqlite":
            names = {r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        else:
            names = {r[0] for r in self.query("SELECT table_name FROM information_schema.tables"
                                              " WHERE table_schema = current_schema()")}
        if "schema_version" in names:
            return int(self.query("SELECT version FROM schema_version")[0][0])
        return 1 if "runs" in names else 0

    def migrate(self):
        if self.version() == SCHEMA_VERSION:
            return
        for target in range(1, SCHEMA_VERSION + 1):
            with self.tx():
                if self.kind == "postgresql":
                    self.execute("SELECT pg_advisory_xact_lock(?)", [PG_MIGRATION_LOCK])
                have = self.version()   # again, under the lock: another recorder may have done it
                if have >= target:
                    continue
                for stmt in MIGRATIONS[target]:
                    if stmt == "backfill_v2":
                        _backfill_v2(self)
                    else:
                        self.execute(stmt.format(**DIALECT[self.kind]))
                self.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                self.execute("DELETE FROM schema_version")
                self.execute("INSERT INTO schema_version VALUES (?)", [target])
        if self.version() > SCHEMA_VERSION:
            raise DbError(f"{self.where}: schema version {self.version()} is newer than this history.py "
                          f"({SCHEMA_VERSION}): update gapbench")

    def close(self):
        self.conn.close()


def connect(url, migrate=True):
    """Open the history at URL (a path, sqlite:PATH or postgresql://...) and bring its schema up to date."""
    if url.startswith(("postgresql://", "postgres://")) or url == "postgresql:":
        pg = _import_psycopg2()
        try:
            # "postgresql:" alone: libpq's environment (PGHOST, PGUSER, PGPASSWORD, ...)
            conn = pg.connect("" if url == "postgresql:" else url, connect_timeout=20)
        except pg.Error as e:
            raise DbError(f"cannot connect to {redact(url)}: {str(e).strip().splitlines()[0]}") from e
        conn.autocommit = True   # transactions are explicit: Db.tx()
        db = Db("postgresql", conn, redact(url))
    else:
        path = url[len("sqlite:"):] if url.startswith("sqlite:") else url
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise DbError("empty SQLite path")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # autocommit mode: Db.tx() issues BEGIN IMMEDIATE, so concurrent writers queue on the lock
        conn = sqlite3.connect(path, timeout=120, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        db = Db("sqlite", conn, path)
    if migrate:
        try:
            db.migrate()
        except db.errors as e:
            raise DbError(f"{db.where}: migrating the schema: {str(e).strip().splitlines()[0]}") from e
    return db
