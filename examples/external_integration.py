"""External system integration, as a locustfile: webhooks to a local receiver.

Posts ``test_start``, one ``error`` per failed request and ``test_complete`` to
``WEBHOOK_URL`` (default: ``<host>/webhook``, which the local target counts), from spawned
listeners, so that no simulated user waits for a webhook. Run:
``locust -f examples/external_integration.py --headless -u 20 -r 10 -t 10s -H <target URL>``.
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import os
import time

import requests
from locust import HttpUser, between, task


class ExternalReporter:
    def __init__(self, webhook_url=None):
        self.webhook_url = webhook_url
        self.test_start_time = None
        self.request_count = 0

    def on_test_start(self, environment, **kwargs):
        """Notify external system of test start (the post itself is spawned)"""
        if self.webhook_url is None:
            self.webhook_url = f"{environment.host}/webhook"
        self.test_start_time = time.time()
        payload = {
            "event": "test_start",
            "timestamp": self.test_start_time,
            "users": environment.runner.target_user_count if environment.runner else 0,
        }
        webhook_due.fire(payload=payload)

    def on_request(self, request_type, name, response_time, response_length, exception, **kwargs):
        """Track request metrics"""
        self.request_count += 1
        # Send alerts for errors
        if exception:
            payload = {
                "event": "error",
                "timestamp": time.time(),
                "request_type": request_type,
                "name": name,
                "error": str(exception),
            }
            self.send_webhook(payload)

    def on_test_stop(self, environment, **kwargs):
        """Send final test report"""
        duration = time.time() - self.test_start_time
        payload = {
            "event": "test_complete",
            "timestamp": time.time(),
            "duration": duration,
            "total_requests": self.request_count,
            # Not stats.serialize_stats(): it resets Locust's statistics (it is meant for
            # worker reports) and would leave the run's final report empty; copy instead.
            "stats": [entry.serialize() for entry in environment.stats.entries.values()]
            if environment.stats
            else [],
        }
        self.send_webhook(payload)

    def send_webhook(self, payload):
        """Send webhook notification"""
        try:
            requests.post(self.webhook_url, json=payload, timeout=5)
        except Exception as e:
            print(f"Webhook failed: {e}")


# Initialize external reporter
reporter = ExternalReporter(os.environ.get("WEBHOOK_URL"))
# A hook of our own for webhooks to post, whose listener is spawned.
webhook_due = events.add_hook("webhook_due", "payload")

# Register event listeners. spawn=True runs them in the registry's listener pool: a user
# whose request failed goes on at once instead of waiting for the webhook's round trip, and
# Locust's shutdown waits (boundedly) until every queued webhook was posted. test_start runs
# its listeners in place (Locust starts the users right after, so they must have set the
# start time): on_test_start hands its post to webhook_due, whose listener is spawned.
events.test_start.add_listener(reporter.on_test_start)
webhook_due.add_listener(reporter.send_webhook, spawn=True)
events.request.add_listener(reporter.on_request, spawn=True)
events.test_stop.add_listener(reporter.on_test_stop, spawn=True)


class WebUser(HttpUser):
    wait_time = between(1, 2)

    @task
    def browse(self):
        self.client.get("/")

    @task
    def api_call(self):
        self.client.get("/api/data")
