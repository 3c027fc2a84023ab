"""Test suite of osc_live (a package so that helpers such as ``tests.peers`` import cleanly)."""
