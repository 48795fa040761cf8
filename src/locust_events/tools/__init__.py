"""The command-line tools built on locust_events: doctor, bench, demo and a local target server.

The library never imports this package: ``import locust_events`` loads none of it.
"""
