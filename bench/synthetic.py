"""Write a synthetic app with a long migration history, for timing the analysis."""

from __future__ import annotations

from pathlib import Path

_HEADER = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"


def _operation(n: int) -> str:
    model = f"model{n // 10}"
    kinds = [
        f'migrations.CreateModel("Model{n // 10}", [("id", models.BigAutoField(primary_key=True)),'
        ' ("name", models.CharField(max_length=50))])',
        f'migrations.AddField("{model}", "f{n}", models.TextField(null=True))',
        f'migrations.AddIndex("{model}", models.Index(fields=["name"], name="i{n}"))',
        f'migrations.AlterField("{model}", "f{n - 2}", models.TextField(null=True, blank=True))',
        f'migrations.AddField("{model}", "g{n}", models.IntegerField(default=0))',
        f'migrations.RunSQL("UPDATE synthapp_{model} SET g{n - 1} = 1", migrations.RunSQL.noop)',
        f'migrations.AddField("{model}", "h{n}", models.CharField(max_length=20, null=True))',
        f'migrations.AlterField("{model}", "h{n - 1}", models.CharField(max_length=40, null=True))',
        f'migrations.RemoveField("{model}", "f{n - 7}")',
        f'migrations.AddConstraint("{model}", models.CheckConstraint('
        f'condition=models.Q(g{n - 5}__gte=0), name="c{n}"))',
    ]
    return kinds[n % 10]


def write(directory: Path, count: int = 500) -> None:
    """Write ``count`` migrations into ``directory/synthapp/migrations``."""
    app = directory / "synthapp"
    migrations = app / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    (app / "__init__.py").write_text("")
    (migrations / "__init__.py").write_text("")
    for n in range(count):
        deps = (
            f'    dependencies = [("synthapp", "{n - 1:04d}_m")]\n' if n else "    initial = True\n"
        )
        body = f"{_HEADER}{deps}    operations = [{_operation(n)}]\n"
        (migrations / f"{n:04d}_m.py").write_text(body)
