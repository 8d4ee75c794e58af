"""The guarded run: ``migrate``'s plan, each statement under lock and statement timeouts.

``run`` holds what one run shares (run lock, side connection, pooler check, history), as
``scope`` describes it to the rest; ``executor`` is Django's executor with each migration
handed to the guard; ``migration`` guards one migration (timeouts, blocker watch, retries)
with the policies of ``timeouts``, whose lock timeouts grow with the retries, set for the
session once per run by ``session``; ``preflight``
waits outside the lock queue for long transactions, and ``storm`` tells them from a lock
storm, where waiting is pointless; ``history`` writes the run ledger through ``sidecar``;
``output`` and ``summary`` tell the operator, and ``undo`` names the commands that roll a
failed run back.

May import: ``postgres/`` and the app's face (``conf``, ``exceptions``, ``models``,
``compat``, ``declared``). Never the analysis, the reviews or the admin: they read what the
guard records, the guard does not depend on them.
"""
