"""The dashboard's figures in Prometheus' text format, built from the figures of the moment it is scraped
(a collector, not counters kept on the side, so they can never disagree with the screen)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class DashboardCollector(Collector):
    """``live`` is :func:`dashboard.live.live_figures`, ``stored`` :func:`dashboard.figures.stored_figures`."""

    def __init__(self, live: dict[str, Any], stored: dict[str, Any]) -> None:
        self.live, self.stored = live, stored

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        live, board = self.live, self.stored
        lines = GaugeMetricFamily("warroom_lines", "Phone lines per trunk", labels=["trunk"])
        in_use = GaugeMetricFamily("warroom_lines_in_use", "Lines carrying a call now", labels=["trunk"])
        for trunk, t in live["lines"].items():
            lines.add_metric([trunk], t["lines"])
            in_use.add_metric([trunk], t["in_use"])
        yield lines
        yield in_use
        calls = GaugeMetricFamily("warroom_calls", "Calls now by where they are", labels=["state"])
        for state, key in (("dialing", "dialing"), ("ringing", "ringing"), ("answered", "answered"),
                           ("ivr", "ivr_calls"), ("with_operator", "with_operators")):
            calls.add_metric([state], live.get(key, 0))
        calls.add_metric(["queued"], live["queue"]["waiting"])
        yield calls
        yield GaugeMetricFamily("warroom_queue_longest_wait_seconds", "Longest wait of a caller in the queue",
                                value=live["queue"]["longest_wait"])
        yield GaugeMetricFamily("warroom_attempts_last_minute", "Call attempts started in the last minute",
                                value=live["attempts_last_minute"])
        yield GaugeMetricFamily("warroom_answer_rate", "Answered / ended attempts since start",
                                value=live["answer_rate"])
        yield GaugeMetricFamily("warroom_abandon_rate", "Progressive calls abandoned / answered",
                                value=live["progressive"]["abandon_rate"])
        ended = CounterMetricFamily("warroom_attempts_ended", "Attempts ended since start", labels=["disposition"])
        for disposition, n in live["dispositions"].items():
            ended.add_metric([disposition], n)
        yield ended
        trunk_up = GaugeMetricFamily("warroom_trunk_up", "Trunks that can take calls (1 up, 0 down)",
                                     labels=["trunk", "state"])
        for trunk, health in live.get("trunks", {}).items():
            trunk_up.add_metric([trunk, health["state"]], 1 if health["state"] == "up" else 0)
        yield trunk_up
        yield GaugeMetricFamily("warroom_sip_banned", "Addresses banned from SIP now",
                                value=len(live.get("banned", [])))
        up = GaugeMetricFamily("warroom_link_up", "Links to Asterisk (1 up, 0 down)", labels=["link"])
        for link, state in live.get("links", {}).items():
            up.add_metric([link], 1 if state else 0)
        yield up
        ops = GaugeMetricFamily("warroom_operators", "Operators by state", labels=["state"])
        counts: dict[str, int] = {}
        for op in board["operators"]:
            counts[op["state"]] = counts.get(op["state"], 0) + 1
        for state, n in sorted(counts.items()):
            ops.add_metric([state], n)
        yield ops
        targets = GaugeMetricFamily("warroom_campaign_targets", "Campaign targets by progress",
                                    labels=["campaign", "state", "progress"])
        for c in board["campaigns"]:
            for part in ("done", "in_flight", "due", "blocked"):
                targets.add_metric([c["name"], c["state"], part], c[part])
        yield targets
        today = board["today"]
        yield GaugeMetricFamily("warroom_avg_talk_seconds", "Average talk time of today's calls",
                                value=today["avg_talk_seconds"])
        yield GaugeMetricFamily("warroom_tickets_open", "Tickets open or assigned", value=board["open_tickets"])


def exposition(live: dict[str, Any], stored: dict[str, Any]) -> bytes:
    """The text format Prometheus scrapes, for these live and stored figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DashboardCollector(live, stored))
    return generate_latest(registry)
