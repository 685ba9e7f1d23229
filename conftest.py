"""Makes the repository root importable for the test suite (shared fixtures live in tests/conftest.py)."""
