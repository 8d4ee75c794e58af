from django.db import migrations


class AddNoteIfMissing(migrations.operations.base.Operation):
    """A third-party-style operation that asks the live catalog before deciding its SQL.

    Its SQL cannot be rendered without a database in the state it runs against, so
    collecting it (as sqlmigrate does) fails.
    """

    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.collect_sql:
            raise NotImplementedError("the note column's SQL depends on the live table")
        schema_editor.execute("ALTER TABLE scenarioapp_item ADD COLUMN IF NOT EXISTS note text")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.collect_sql:
            raise NotImplementedError("the note column's SQL depends on the live table")
        schema_editor.execute("ALTER TABLE scenarioapp_item DROP COLUMN IF EXISTS note")

    def describe(self):
        return "Add a note column to item if it is missing"


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [AddNoteIfMissing()]
