"""A test kit for projects' own suites: the ``migrator`` fixture and the migrations check.

``plugin`` is the pytest plugin the ``pytest11`` entry point loads in every suite of a project
that installs safemigrate, so it imports nothing but pytest until a test asks for its
fixture. ``migrator`` moves a test database between migration states and hands back each
state's historical models; ``factories`` fills them with factory-boy at production-like
volumes; ``rebuild`` reaches a state behind a migration that cannot be unapplied, by
emptying the test database and migrating up from zero; ``reversibility`` checks every
migration of a project up, down and up again (rebuilding below the ones acknowledged as
irreversible), and that ``makemigrations --check`` has nothing to add.

May import: the app's face and ``postgres``. Nothing imports the test kit.
"""
