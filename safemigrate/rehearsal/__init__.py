"""The rehearsal (``safemigrate --rehearse``): the plan applied, rolled back and applied
again on a scratch copy of the database, every operation timed, the schemas compared and
the heaviest queries replayed before and after.

``command`` is the mode's entry; ``copy`` makes the scratch copy and always drops it;
``phases`` runs ``safemigrate`` on the copy in a child process per phase (``phase`` is that
child's entry), so the real connection is never pointed elsewhere and every guard applies;
``queries`` replays the queries and judges their plans; ``report`` prints the result and
``timings`` stores the measured durations with each migration's review.

May import: ``analysis/`` (the plan, to say when there is nothing to rehearse), ``review/``
(the migration's fingerprint the measured timings belong to), ``postgres/`` and the app's
face. Only the command imports it.
"""
