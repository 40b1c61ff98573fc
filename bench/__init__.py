"""Benchmarks of the gateway against the simulator (``python -m bench``); figures are printed and
written to ``bench/results/latest.json``, never asserted in tests."""
