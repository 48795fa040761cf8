"""A distributed run: workers attach their own counts to reports, the master adds them up.

Writes ``distributed_summary.json`` on the master. Run one master and two workers::

    locust -f examples/distributed.py --master --headless --expect-workers 2 \\
        --master-bind-host 127.0.0.1 -u 20 -r 10 -t 10s -H <target URL>
    locust -f examples/distributed.py --worker --master-host 127.0.0.1   # twice
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import json
from collections import Counter

from locust import HttpUser, between, task
from locust.runners import MasterRunner, WorkerRunner

#: On a worker: requests by name since the last report to the master.
unreported = Counter()
#: On the master: requests by name, summed over every worker's reports.
totals = Counter()
#: On the master: how many reports each worker sent.
reports = Counter()
connected = []


@events.request.add_listener
def count_request(name, exception, **kwargs):
    unreported[name] += 1


@events.report_to_master.add_listener
def attach_counts(client_id, data, **kwargs):
    """On a worker: send what was counted since the last report along with Locust's stats."""
    data["requests_by_name"] = dict(unreported)
    unreported.clear()


@events.worker_report.add_listener
def add_up_counts(client_id, data, **kwargs):
    """On the master: add a worker's counts to the totals."""
    totals.update(data.get("requests_by_name", {}))
    reports[client_id] += 1


@events.worker_connect.add_listener
def on_worker_connect(client_id, **kwargs):
    connected.append(client_id)
    print(f"worker connected: {client_id}")


@events.quitting.add_listener
def write_summary(environment, exit_code, **kwargs):
    if isinstance(environment.runner, WorkerRunner):
        return
    if isinstance(environment.runner, MasterRunner):
        summary = {
            "workers_connected": len(connected),
            "reports_by_worker": dict(reports),
            "requests_by_name": dict(totals),
            "requests_counted_by_locust": environment.stats.total.num_requests,
            "exit_code": exit_code,
        }
        with open("distributed_summary.json", "w") as f:
            json.dump(summary, f, indent=2)
        print(f"\n--- Distributed summary ---\n{json.dumps(summary, indent=2)}")


class SiteUser(HttpUser):
    wait_time = between(0.5, 1)

    @task(2)
    def page(self):
        self.client.get("/page")

    @task(1)
    def api(self):
        self.client.get("/api/data")
