"""Benchmarks behind the README's performance table (`make bench`)."""
