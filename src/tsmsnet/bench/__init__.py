"""Benchmark helpers: full-scale dataset layouts and synthetic long videos (no real data)."""
