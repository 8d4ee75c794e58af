"""Benchmarks of safemigrate against plain ``migrate``; see bench/README.md."""
