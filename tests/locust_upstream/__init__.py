"""Locust's own test suite, run on stock Locust and with every Environment on locust_events."""
