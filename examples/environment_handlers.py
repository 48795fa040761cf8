"""Environment-specific event handling, as a locustfile: ``TEST_ENV`` picks the handlers.

``development`` (the default) prints every request, ``staging`` prints failed or slow ones,
``production`` posts user errors to ``MONITORING_URL`` (default: ``<host>/webhook``). Run:
``TEST_ENV=staging locust -f examples/environment_handlers.py --headless -u 5 -t 5s -H <URL>``.
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import os

import requests
from locust import HttpUser, between, task

monitoring = {"url": os.getenv("MONITORING_URL")}


@events.test_start.add_listener
def find_monitoring_service(environment, **kwargs):
    if monitoring["url"] is None:
        monitoring["url"] = f"{environment.host}/webhook"


def send_to_monitoring_service(message):
    """Posts the message to the monitoring webhook."""
    try:
        requests.post(monitoring["url"], json={"event": "user_error", "error": message}, timeout=5)
    except Exception as e:
        print(f"Monitoring failed: {e}")


def setup_environment_specific_handlers():
    """Setup different event handlers based on environment"""
    environment = os.getenv("TEST_ENV", "development")
    if environment == "production":
        # Production: minimal logging, external monitoring
        def prod_error_handler(user_instance, exception, tb, **kwargs):
            # Send to external monitoring service
            send_to_monitoring_service(str(exception))

        events.user_error.add_listener(prod_error_handler)
    elif environment == "staging":
        # Staging: detailed logging for debugging
        def staging_request_handler(
            request_type, name, response_time, response_length, exception, **kwargs
        ):
            # response_time is None for a request without a duration (asynchronous clients)
            if exception or (response_time is not None and response_time > 2000):
                print(f"STAGING ALERT: {name} - {response_time}ms - {exception}")

        events.request.add_listener(staging_request_handler)
    else:
        # Development: verbose logging
        def dev_request_handler(**kwargs):
            print(f"DEV REQUEST: {kwargs}")

        events.request.add_listener(dev_request_handler)


# Setup environment-specific handling
setup_environment_specific_handlers()


class EnvironmentUser(HttpUser):
    wait_time = between(1, 3)

    @task
    def environment_test(self):
        response = self.client.get("/api/environment")
        if os.getenv("TEST_ENV") == "production" and os.getenv("FAIL_TASKS"):
            # Lets the production branch be seen: an error escaping a task fires user_error.
            raise RuntimeError(f"environment check failed with status {response.status_code}")
