"""One hot table for the lock-stall benchmark, and the migration that alters it."""
