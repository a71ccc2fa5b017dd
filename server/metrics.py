"""Prometheus metrics in the text exposition format (version 0.0.4), written by hand.

Only what the server needs: counters and gauges with optional labels, and a histogram
with fixed buckets. Updates are plain attribute arithmetic on the event loop thread, so
no lock is needed and recording costs next to nothing per message.
"""
from __future__ import annotations

import bisect
import math
from typing import Iterable

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels_text(names: tuple, values: tuple) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values))
    return "{" + pairs + "}"


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Iterable[str] = ()):
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    """A value that only goes up; one series per label combination."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Iterable[str] = ()):
        super().__init__(name, help_text, labels)
        self.values: dict[tuple, float] = {} if self.label_names else {(): 0}

    def inc(self, *labels, amount: float = 1) -> None:
        self.values[labels] = self.values.get(labels, 0) + amount

    def value(self, *labels) -> float:
        return self.values.get(labels, 0)

    def render(self) -> list[str]:
        return self.header() + [f"{self.name}{_labels_text(self.label_names, k)} {_number(v)}"
                                for k, v in sorted(self.values.items())]


class Gauge(Counter):
    """A value that goes up and down."""

    kind = "gauge"

    def set(self, value: float, *labels) -> None:
        self.values[labels] = value


class Histogram(_Metric):
    """Observations counted in cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets=LATENCY_BUCKETS):
        super().__init__(name, help_text)
        self.bounds = tuple(sorted(buckets))
        self.counts = [0] * len(self.bounds)  # per bucket, made cumulative when rendered
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.bounds, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.count += 1
        self.sum += value

    def render(self) -> list[str]:
        lines = self.header()
        running = 0
        for bound, count in zip(self.bounds, self.counts):
            running += count
            lines.append(f'{self.name}_bucket{{le="{_number(bound)}"}} {running}')
        lines.append(f'{self.name}_bucket{{le="+Inf"}} {self.count}')
        lines.append(f"{self.name}_sum {_number(self.sum)}")
        lines.append(f"{self.name}_count {self.count}")
        return lines


class ServerMetrics:
    """The metrics of one server process."""

    def __init__(self) -> None:
        self.messages_received = Counter(
            "botbasic_messages_received_total", "User messages received.", ["bot"])
        self.sessions_created = Counter(
            "botbasic_sessions_created_total", "Conversations started.", ["bot"])
        self.script_errors = Counter(
            "botbasic_script_errors_total", "Script executions that ended with an error.", ["bot"])
        self.bots_loaded = Gauge("botbasic_bots_loaded", "Bot packages currently loaded.")
        self.turn_starts = Counter(
            "botbasic_turn_starts_total", "Turns by how they began: warm (with the live "
            "objects of the session's last turn in this process) or cold (from the store).",
            ["state"])
        self.warm_sessions = Gauge(
            "botbasic_warm_sessions", "Conversations whose live objects this process keeps.")
        self.turn_latency = Histogram(
            "botbasic_turn_latency_seconds", "Time to handle one user message, store included.")
        self.llm_cache_hits = Counter(
            "botbasic_llm_cache_hits_total", "LLM answers taken from the semantic cache.", ["bot"])
        self.llm_cache_misses = Counter(
            "botbasic_llm_cache_misses_total", "Semantic cache lookups that found no answer.", ["bot"])
        self.llm_errors = Counter(
            "botbasic_llm_errors_total", "LLM turns that failed (provider error, timeout).", ["bot"])

    def render(self) -> str:
        """The whole exposition text."""
        lines: list[str] = []
        for metric in (self.messages_received, self.sessions_created, self.script_errors,
                       self.bots_loaded, self.turn_starts, self.warm_sessions,
                       self.turn_latency, self.llm_cache_hits,
                       self.llm_cache_misses, self.llm_errors):
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
