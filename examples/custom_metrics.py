"""Custom metrics collection, as a locustfile: writes ``custom_metrics.json``.

Run: ``locust -f examples/custom_metrics.py --headless -u 20 -r 10 -t 10s -H <target URL>``
(start the target with ``python -m locust_events target``).
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import json

from locust import HttpUser, between, task

# Custom metrics storage
custom_metrics = {"api_calls": 0, "error_count": 0, "response_times": []}


def on_request(request_type, name, response_time, response_length, exception, **kwargs):
    """Collect custom metrics on each request"""
    custom_metrics["api_calls"] += 1
    if exception:
        custom_metrics["error_count"] += 1
    if response_time is None:  # a request without a duration (asynchronous clients)
        return
    custom_metrics["response_times"].append(response_time)
    # Log slow requests
    if response_time > 5000:  # 5 seconds
        print(f"SLOW REQUEST: {name} took {response_time}ms")


def on_test_stop(environment, **kwargs):
    """Report custom metrics at test end"""
    total_calls = custom_metrics["api_calls"]
    response_times = custom_metrics["response_times"]
    # No request completed: report zeros rather than divide by zero.
    avg_response_time = sum(response_times) / len(response_times) if response_times else 0.0
    error_rate = custom_metrics["error_count"] / total_calls * 100 if total_calls else 0.0
    print("\n--- Custom Metrics ---")
    print(f"Total API calls: {total_calls}")
    print(f"Average response time: {avg_response_time:.2f}ms")
    print(f"Error rate: {error_rate:.2f}%")
    # Save to file
    with open("custom_metrics.json", "w") as f:
        json.dump(custom_metrics, f, indent=2)


# Register event listeners
events.request.add_listener(on_request)
events.test_stop.add_listener(on_test_stop)


class APIUser(HttpUser):
    wait_time = between(1, 3)

    @task
    def api_call(self):
        self.client.get("/api/data")
