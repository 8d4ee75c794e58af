"""Tables, columns, indexes and constraints whose names need quoting: mixed case
(``LegacyOrder``), spaces and a semicolon (``Odd Table;drop``, ``Na me; x``), a reserved word
(``select``), a dot inside a name (``legacy.dotted``), and a schema off the search path
(``"legacy"."Remote Order"``, the way Django's ``db_table`` names a table in a schema).
Every safe operation runs on them, one migration each."""
