"""Benchmarks and measurement reports; they print figures and never assert timings."""
