"""The migrations of bench/operations.py: each seed type as makemigrations writes it, and in
safemigrate's operations. Each migration is ``(atomic, operations source)``."""

from __future__ import annotations

from pathlib import Path

HEADER = '''import django.db.models.deletion
from django.db import migrations, models

import safemigrate.operations as safe


def copy(source, target):
    """Copy ``source`` into ``target`` by primary key range, 1000 rows per transaction."""

    def run(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT min(id), max(id) FROM benchapp_account")
            low, high = cursor.fetchone()
            for start in range(low or 0, (high or -1) + 1, 1000):
                cursor.execute(
                    f"UPDATE benchapp_account SET {target} = {source} "
                    f"WHERE id >= %s AND id < %s AND {target} IS NULL",
                    [start, start + 1000],
                )

    return run

'''

Migration = tuple[bool, str]

HOLDER_NULL = "models.CharField(max_length=40, null=True)"
HOLDER = "models.CharField(max_length=40)"
STATUS = 'models.CharField(default="active", max_length=10)'
FK = (
    "models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, "
    'to="benchapp.account")'
)
CHECK = 'models.CheckConstraint(condition=models.Q(balance__gte=-1000000), name="balance_floor")'
INDEX = 'models.Index(fields=["owner"], name="account_owner_idx")'
TRANSFER = (
    'migrations.CreateModel("Transfer", fields=['
    '("id", models.BigAutoField(primary_key=True)), ("amount", models.IntegerField()), '
    '("account", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, '
    'to="benchapp.account"))])'
)
DROP_OWNER = f'safe.RemoveFieldFromDatabase("account", "owner", {HOLDER})'

#: seed type -> (as makemigrations writes it, with safemigrate's operations)
TYPES: dict[str, tuple[list[Migration], list[Migration]]] = {
    "add-column": (
        [(True, f'migrations.AddField("account", "status", {STATUS})')],
        [(False, f'safe.AddFieldSafely("account", "status", {STATUS})')],
    ),
    "remove-column": (
        [(True, 'migrations.RemoveField("account", "owner")')],
        [(True, 'safe.RemoveFieldFromState("account", "owner")'), (True, DROP_OWNER)],
    ),
    "rename-column": (
        [(True, 'migrations.RenameField("account", "owner", "holder")')],
        [
            (
                False,
                f'safe.AddFieldSafely("account", "holder", {HOLDER_NULL}),\n'
                '        migrations.RunPython(copy("owner", "holder"), migrations.RunPython.noop)',
            ),
            (
                False,
                f'safe.SetNotNull("account", "holder", {HOLDER}),\n'
                '        safe.RemoveFieldFromState("account", "owner")',
            ),
            (True, DROP_OWNER),
        ],
    ),
    "change-type": (
        [(True, 'migrations.AlterField("account", "balance", models.BigIntegerField(default=0))')],
        [
            (
                False,
                'safe.AddFieldSafely("account", "balance_big", models.BigIntegerField(null=True)),'
                "\n        migrations.RunPython("
                'copy("balance", "balance_big"), migrations.RunPython.noop)',
            ),
            (
                False,
                'safe.SetNotNull("account", "balance_big", models.BigIntegerField()),\n'
                '        safe.RemoveFieldFromState("account", "balance")',
            ),
        ],
    ),
    "add-index": (
        [(True, f'migrations.AddIndex("account", {INDEX})')],
        [(False, f'safe.AddIndexConcurrently("account", {INDEX})')],
    ),
    "add-fk": (
        [(True, f'migrations.AddField("account", "parent", {FK})')],
        [(False, f'safe.AddFieldSafely("account", "parent", {FK})')],
    ),
    "add-check": (
        [(True, f'migrations.AddConstraint("account", {CHECK})')],
        [
            (
                False,
                f'safe.AddConstraintNotValid("account", {CHECK}),\n'
                '        safe.ValidateConstraint("account", "balance_floor")',
            )
        ],
    ),
    "create-table": ([(True, TRANSFER)], [(True, TRANSFER)]),
}


def write_package(directory: Path, initial: str, migrations: list[Migration]) -> list[str]:
    """Write a migrations package: ``initial`` (0001), then one file per migration.

    Return the names of the migrations after 0001.
    """
    directory.mkdir(parents=True)
    (directory / "__init__.py").write_text("")
    (directory / "0001_initial.py").write_text(initial)
    names, previous = [], "0001_initial"
    for number, (atomic, operations) in enumerate(migrations, start=2):
        name = f"{number:04d}_change"
        body = (
            f"{HEADER}\nclass Migration(migrations.Migration):\n"
            f"    atomic = {atomic}\n"
            f"    dependencies = [('benchapp', '{previous}')]\n"
            f"    operations = [\n        {operations},\n    ]\n"
        )
        (directory / f"{name}.py").write_text(body)
        names.append(name)
        previous = name
    return names
