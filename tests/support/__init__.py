"""Helpers shared by the test suite (servers on loopback, paths to shared data)."""
