"""Names an index at random: a re-run leaves another schema than the first run."""

from django.db import migrations

FORWARD = """
DO $$ BEGIN
  EXECUTE format('CREATE INDEX %I ON scenarioapp_customer (name)',
                 'scenarioapp_random_' || substr(md5(random()::text), 1, 8));
END $$
"""
BACKWARD = """
DO $$ DECLARE found text; BEGIN
  FOR found IN SELECT indexname FROM pg_indexes WHERE indexname LIKE 'scenarioapp_random_%' LOOP
    EXECUTE format('DROP INDEX %I', found);
  END LOOP;
END $$
"""


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0003_email_unindexed")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
