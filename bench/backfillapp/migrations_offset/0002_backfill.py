"""(b) The seed document's batch loop: pages of 1,000 by LIMIT/OFFSET, each updated at once.

The seed selects ``LIMIT 1000 OFFSET n`` and processes the page. This version is the generous
reading of it: pages ordered by id (without an order, pages of a table being updated skip and
repeat rows), and each page updated with one statement in autocommit rather than row by row.
"""

from django.db import connection, migrations

from bench.backfillapp.timing import timed

BATCH = 1000


@timed
def fill(apps, schema_editor):
    offset = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT id FROM backfillapp_product ORDER BY id LIMIT %s OFFSET %s",
                [BATCH, offset],
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            cursor.execute(
                "UPDATE backfillapp_product SET price_cents = CAST(price * 100 AS BIGINT) "
                "WHERE id = ANY(%s)",
                [ids],
            )
            offset += BATCH


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("backfillapp", "0001_initial")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
