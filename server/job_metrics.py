"""Metrics of the system-context features: scheduled runs, webhooks and TALK TO delivery.

``JobServerMetrics`` is the server's ``ServerMetrics`` plus these series, so ``/metrics``
shows them without the endpoint knowing about them:

* ``botbasic_schedule_firings_total{bot,result}`` — what this process did when a schedule
  fired: ``ran``, ``busy`` (skipped: the previous run is still in progress), ``taken``
  (another process runs this firing), ``missing`` (the script is gone or broken);
* ``botbasic_scheduled_runs_total{bot,status}`` — finished runs, ``ok`` or ``error``;
* ``botbasic_scheduled_run_seconds`` — how long scheduled runs take (histogram);
* ``botbasic_scheduled_jobs`` — schedules registered now;
* ``botbasic_webhook_requests_total{bot,status}`` — webhook calls by HTTP status;
* ``botbasic_channel_messages_total{bot,delivery}`` — TALK TO messages: ``pushed`` to an
  open WebSocket, ``stored`` for later, ``delivered`` later, ``email``.
"""
from __future__ import annotations

from .metrics import Counter, Gauge, Histogram, ServerMetrics

RUN_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class JobMetrics:
    """The series listed in the module doc."""

    def __init__(self) -> None:
        self.schedule_firings = Counter(
            "botbasic_schedule_firings_total", "Schedule firings seen by this process.",
            ["bot", "result"])
        self.scheduled_runs = Counter(
            "botbasic_scheduled_runs_total", "Scheduled runs finished by this process.",
            ["bot", "status"])
        self.scheduled_run_seconds = Histogram(
            "botbasic_scheduled_run_seconds", "Duration of scheduled runs.", RUN_BUCKETS)
        self.scheduled_jobs = Gauge("botbasic_scheduled_jobs", "Schedules registered.")
        self.webhook_requests = Counter(
            "botbasic_webhook_requests_total", "Webhook requests by response status.",
            ["bot", "status"])
        self.channel_messages = Counter(
            "botbasic_channel_messages_total", "TALK TO messages by delivery.",
            ["bot", "delivery"])

    def render_lines(self) -> list[str]:
        lines: list[str] = []
        for metric in (self.schedule_firings, self.scheduled_runs, self.scheduled_run_seconds,
                       self.scheduled_jobs, self.webhook_requests, self.channel_messages):
            lines.extend(metric.render())
        return lines


class JobServerMetrics(ServerMetrics):
    """``ServerMetrics`` with ``jobs`` (``JobMetrics``) rendered after the server's own."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs = JobMetrics()

    def render(self) -> str:
        return super().render() + "\n".join(self.jobs.render_lines()) + "\n"
