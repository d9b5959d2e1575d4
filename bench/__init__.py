"""Benchmarks of Hearus: run them as scripts (`python bench/<name>.py --help`); see
docs/benchmarks.md for the commands and the results measured so far."""
