"""Benchmarks, printed as a table by `make bench`. Figures are measured here, never asserted in tests."""
