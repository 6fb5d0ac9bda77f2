"""Readers: how the harness reads data and records each operation."""
