"""The lock modes statements.py claims, checked against what PostgreSQL really takes."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from pglast import ast

from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.statements import RelationLock, classify, parse

pytestmark = pytest.mark.django_db(transaction=True)

SETUP = [
    "CREATE TABLE lk_parent (id bigint PRIMARY KEY, name text)",
    "CREATE TABLE lk_child (id bigint PRIMARY KEY, parent_id bigint, note text)",
    "CREATE INDEX lk_child_note ON lk_child (note)",
    "ALTER TABLE lk_child ADD CONSTRAINT lk_child_fk FOREIGN KEY (parent_id) "
    "REFERENCES lk_parent (id) NOT VALID",
]

# (statement, table whose lock we read)
CASES = [
    ("ALTER TABLE lk_child ADD COLUMN extra text NULL", "lk_child"),
    ("ALTER TABLE lk_child ALTER COLUMN note SET DEFAULT 'x'", "lk_child"),
    ("ALTER TABLE lk_child ALTER COLUMN note SET NOT NULL", "lk_child"),
    ("ALTER TABLE lk_child ALTER COLUMN note TYPE varchar(500)", "lk_child"),
    ("ALTER TABLE lk_child RENAME COLUMN note TO remark", "lk_child"),
    ("ALTER TABLE lk_child VALIDATE CONSTRAINT lk_child_fk", "lk_child"),
    ("ALTER TABLE lk_child SET (fillfactor = 90)", "lk_child"),
    ("ALTER TABLE lk_child ALTER COLUMN note SET STATISTICS 200", "lk_child"),
    (
        "ALTER TABLE lk_child ADD CONSTRAINT lk_fk2 FOREIGN KEY (parent_id) "
        "REFERENCES lk_parent (id)",
        "lk_child",
    ),
    (
        "ALTER TABLE lk_child ADD CONSTRAINT lk_fk3 FOREIGN KEY (parent_id) "
        "REFERENCES lk_parent (id) NOT VALID",
        "lk_parent",
    ),
    ("ALTER TABLE lk_child ADD CONSTRAINT lk_check CHECK (id > 0) NOT VALID", "lk_child"),
    ("CREATE INDEX lk_child_parent ON lk_child (parent_id)", "lk_child"),
    ("DROP INDEX lk_child_note", "lk_child"),
    ("ALTER INDEX lk_child_note RENAME TO lk_child_note2", "lk_child_note"),
    ("DROP TABLE lk_child", "lk_child"),
    ("TRUNCATE lk_child", "lk_child"),
    ("UPDATE lk_child SET note = 'y'", "lk_child"),
    (
        "CREATE TRIGGER lk_trg BEFORE UPDATE ON lk_child FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "lk_child",
    ),
    ("LOCK TABLE lk_child IN SHARE MODE", "lk_child"),
]


def strongest_lock_taken(sql: str, table: str) -> LockMode:
    """Run ``sql`` in a transaction and read the strongest lock it holds on ``table``."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid", [table])
        oid = cursor.fetchone()[0]  # before the statement: it may rename or drop the table
        cursor.execute(sql)
        cursor.execute(
            "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = %s", [oid]
        )
        modes = [LockMode.from_pg_name(mode) for (mode,) in cursor.fetchall()]
        transaction.set_rollback(True)
    return max(mode for mode in modes if mode is not None)


@pytest.fixture
def lock_tables():
    with connection.cursor() as cursor:
        for sql in SETUP:
            cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS lk_child, lk_parent CASCADE")


@pytest.mark.parametrize(("sql", "table"), CASES)
def test_claimed_lock_mode_is_the_lock_postgres_takes(lock_tables, sql, table):
    [info] = classify(sql)
    claimed = {lock.name: lock.mode for lock in info.locks}
    key = table if table in claimed else next(iter(claimed))
    assert claimed[key] == strongest_lock_taken(sql, table)


def test_concurrently_is_recognised():
    assert classify("CREATE INDEX CONCURRENTLY i ON t (a)")[0].concurrently
    assert classify("DROP INDEX CONCURRENTLY IF EXISTS i")[0].concurrently
    assert classify("REINDEX INDEX CONCURRENTLY i")[0].concurrently
    assert not classify("CREATE INDEX i ON t (a)")[0].concurrently


def test_django_placeholders_parse():
    [info] = classify('ALTER TABLE "t" ALTER COLUMN "a" SET DEFAULT %s')
    assert info.parsed
    assert info.locks[0].mode == LockMode.ACCESS_EXCLUSIVE


def test_unparseable_sql_is_marked():
    [info] = classify("ALTER TABLE WHAT")
    assert not info.parsed
    assert info.kind == "Unparseable"


def test_created_tables_are_named():
    [info] = classify('CREATE TABLE "shop_x" ("id" bigint)')
    assert info.creates == ("shop_x",)


def test_conflict_matrix_is_symmetric():
    for mode in LockMode:
        for other in LockMode:
            assert mode.conflicts_with(other) == other.conflicts_with(mode)


def test_mixed_case_tables_resolve_for_catalog_lookups():
    from safemigrate.postgres.tables import locked_table

    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "MixedCase" (id int PRIMARY KEY)')
        try:
            [info] = classify('ALTER TABLE "MixedCase" ADD COLUMN a int')
            [lock] = info.locks
            assert locked_table(cursor, lock.regclass, via_index=False) == '"MixedCase"'
            [drop] = classify('DROP INDEX "MixedCase_pkey"')[0].locks
            assert locked_table(cursor, drop.regclass, via_index=True) == '"MixedCase"'
            assert locked_table(cursor, '"NoSuchTable"', via_index=False) is None
        finally:
            cursor.execute('DROP TABLE "MixedCase"')


def test_inline_foreign_keys_lock_the_referenced_table():
    [info] = classify(
        "CREATE TABLE c (id int, p int REFERENCES parent (id), "
        "FOREIGN KEY (id) REFERENCES other (id))"
    )
    assert {(lock.name, lock.mode) for lock in info.locks} == {
        ("parent", LockMode.SHARE_ROW_EXCLUSIVE),
        ("other", LockMode.SHARE_ROW_EXCLUSIVE),
    }
    assert info.may_wait_for_locks(created=set())
    assert not info.may_wait_for_locks(created={"parent", "other"})


def test_which_statements_are_watched_for_blockers():
    def watched(sql: str, created: tuple[str, ...] = ()) -> bool:
        return classify(sql)[0].may_wait_for_locks(set(created))

    assert watched("ALTER TABLE t ADD COLUMN a int")
    assert not watched("ALTER TABLE t ADD COLUMN a int", ("t",))
    assert not watched("CREATE TABLE t (id int)")
    assert not watched("UPDATE t SET a = 1")
    assert watched("COMMENT ON TABLE t IS 'x'")
    assert watched("ALTER WHAT")


def test_a_dot_inside_a_name_is_part_of_it_and_a_schema_is_explicit():
    from safemigrate.postgres.tables import locked_table

    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "Sales"')
        cursor.execute('CREATE TABLE "Sales"."Order Lines" (id int)')
        cursor.execute('CREATE TABLE "sales.order" (id int)')
        try:
            [dotted] = classify('ALTER TABLE "sales.order" ADD COLUMN a int')[0].locks
            assert dotted.name == "sales.order"
            assert locked_table(cursor, dotted.regclass, via_index=False) == '"sales.order"'
            [qualified] = classify('ALTER TABLE "Sales"."Order Lines" ADD COLUMN a int')[0].locks
            assert qualified.name == '"Sales"."Order Lines"'
            found = locked_table(cursor, qualified.regclass, via_index=False)
            assert found == '"Sales"."Order Lines"'
            [dropped] = classify('DROP TABLE "Sales"."Order Lines"')[0].locks
            assert dropped.name == '"Sales"."Order Lines"'
        finally:
            cursor.execute('DROP SCHEMA "Sales" CASCADE')
            cursor.execute('DROP TABLE "sales.order"')


M = LockMode
# (sql, kind, locks as (name, mode, via_index), concurrently, creates): the odd shapes real
# migrations have, read without a database.
ODD_CASES = [
    (
        'ALTER TABLE "sales"."order" ADD COLUMN "note" text NULL',
        "AlterTableStmt",
        [('"sales"."order"', M.ACCESS_EXCLUSIVE, False)],
        False,
        (),
    ),
    (
        'ALTER TABLE "Odd Table; drop" ADD COLUMN "a" int',
        "AlterTableStmt",
        [("Odd Table; drop", M.ACCESS_EXCLUSIVE, False)],
        False,
        (),
    ),
    (
        'UPDATE "t" SET "a" = %s WHERE "b" = %s',
        "UpdateStmt",
        [("t", M.ROW_EXCLUSIVE, False)],
        False,
        (),
    ),
    ('UPDATE "t" SET "a" = \'x%%\'', "UpdateStmt", [("t", M.ROW_EXCLUSIVE, False)], False, ()),
    (
        'REINDEX INDEX CONCURRENTLY "s"."i"',
        "ReindexStmt",
        [('"s"."i"', M.SHARE_UPDATE_EXCLUSIVE, True)],
        True,
        (),
    ),
    ("REINDEX TABLE t", "ReindexStmt", [("t", M.SHARE, False)], False, ()),
    (
        'ALTER TABLE "p" DETACH PARTITION "p_2020" CONCURRENTLY',
        "AlterTableStmt",
        [("p", M.SHARE_UPDATE_EXCLUSIVE, False)],
        True,
        (),
    ),
    (
        'ALTER TABLE "c" ADD COLUMN "p_id" bigint NULL REFERENCES "s"."p" ("id")',
        "AlterTableStmt",
        [("c", M.ACCESS_EXCLUSIVE, False), ('"s"."p"', M.SHARE_ROW_EXCLUSIVE, False)],
        False,
        (),
    ),
    (
        'ALTER TABLE "c" ADD CONSTRAINT "fk" FOREIGN KEY ("p_id") REFERENCES "p" ("id") '
        "DEFERRABLE INITIALLY DEFERRED",
        "AlterTableStmt",
        [("c", M.SHARE_ROW_EXCLUSIVE, False), ("p", M.SHARE_ROW_EXCLUSIVE, False)],
        False,
        (),
    ),
    (
        'ALTER TABLE "c" VALIDATE CONSTRAINT "fk", ENABLE TRIGGER ALL',
        "AlterTableStmt",
        [("c", M.SHARE_ROW_EXCLUSIVE, False)],
        False,
        (),
    ),
    (
        'ALTER INDEX "s"."i" SET (fillfactor = 70)',
        "AlterTableStmt",
        [('"s"."i"', M.ACCESS_EXCLUSIVE, True)],
        False,
        (),
    ),
    (
        'ALTER INDEX "s"."i" RENAME TO "j"',
        "RenameStmt",
        [('"s"."i"', M.SHARE_UPDATE_EXCLUSIVE, True)],
        False,
        (),
    ),
    (
        'DROP INDEX CONCURRENTLY "s"."i"',
        "DropStmt",
        [('"s"."i"', M.SHARE_UPDATE_EXCLUSIVE, True)],
        True,
        (),
    ),
    (
        'DROP TABLE "a", "s"."b"',
        "DropStmt",
        [("a", M.ACCESS_EXCLUSIVE, False), ('"s"."b"', M.ACCESS_EXCLUSIVE, False)],
        False,
        (),
    ),
    ("DROP FUNCTION f()", "DropStmt", [], False, ()),
    (
        'COMMENT ON COLUMN "s"."t"."c" IS \'x\'',
        "CommentStmt",
        [('"s"."t"', M.SHARE_UPDATE_EXCLUSIVE, False)],
        False,
        (),
    ),
    ('LOCK TABLE "t" IN SHARE MODE', "LockStmt", [("t", M.SHARE, False)], False, ()),
    ('VACUUM FULL "t"', "VacuumStmt", [("t", M.ACCESS_EXCLUSIVE, False)], False, ()),
    ('VACUUM (ANALYZE) "t"', "VacuumStmt", [("t", M.SHARE_UPDATE_EXCLUSIVE, False)], False, ()),
    (
        'TRUNCATE "a", "s"."b"',
        "TruncateStmt",
        [("a", M.ACCESS_EXCLUSIVE, False), ('"s"."b"', M.ACCESS_EXCLUSIVE, False)],
        False,
        (),
    ),
    ('CLUSTER "t"', "ClusterStmt", [("t", M.ACCESS_EXCLUSIVE, False)], False, ()),
    ('CREATE TABLE "s"."x" AS SELECT 1', "CreateTableAsStmt", [], False, ('"s"."x"',)),
    ('CREATE SEQUENCE "s"."q"', "CreateSeqStmt", [], False, ()),
]


@pytest.mark.parametrize(("sql", "kind", "locks", "concurrently", "creates"), ODD_CASES)
def test_odd_statements_are_read_as_postgres_locks_them(sql, kind, locks, concurrently, creates):
    [info] = classify(sql)
    assert (info.kind, info.concurrently, info.creates) == (kind, concurrently, creates)
    assert [(lock.name, lock.mode, lock.via_index) for lock in info.locks] == locks
    assert info.parsed
    assert info.sql == sql


def test_several_statements_in_one_string_are_split_on_their_own_text():
    sql = (
        'UPDATE "café" SET "名前" = \'ü; ß\';\n'
        'CREATE INDEX CONCURRENTLY "i" ON "café" ("名前");\n'
        'ALTER TABLE "café" ADD COLUMN "a" int'
    )
    update, index, alter = classify(sql)
    assert update.sql == 'UPDATE "café" SET "名前" = \'ü; ß\''
    assert update.locks == (RelationLock("café", M.ROW_EXCLUSIVE),)
    assert index.sql == 'CREATE INDEX CONCURRENTLY "i" ON "café" ("名前")'
    assert index.concurrently
    assert alter.sql == 'ALTER TABLE "café" ADD COLUMN "a" int'
    assert alter.strongest == M.ACCESS_EXCLUSIVE


def test_unparseable_sql_keeps_the_parser_message():
    [info] = classify("ALTER TABLE WHAT")
    assert (info.kind, info.parsed, info.locks) == ("Unparseable", False, ())
    assert "syntax error" in info.notes[0]
    assert parse("ALTER TABLE WHAT") == ((info, None),)


def test_the_analysis_reads_the_guards_classification_with_the_tree():
    sql = 'ALTER TABLE "c" ADD COLUMN "p_id" bigint REFERENCES "p" ("id"); DROP INDEX "s"."i"'
    parsed = parse(sql)
    assert tuple(info for info, _ in parsed) == classify(sql)
    assert [type(node) for _, node in parsed] == [ast.AlterTableStmt, ast.DropStmt]
