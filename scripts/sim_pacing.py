#!/usr/bin/env python3
"""Simulate a call-centre shift paced by the dialer's own pacing code (:mod:`dialer.pacing`).

35 operators, talk 60-180 s, wrap-up 20 s, answered after 5-25 s of ringing, no answer after 30 s, an
answered call abandoned when no operator takes it within 2 s. For answer rates of 30, 40 and 60% prints the
operators' occupancy (talk + wrap-up share of the shift), the abandon rate over the shift, the worst
sliding-window rate, and the mean wait between calls, for progressive 1:1 and predictive at caps of 1, 3
and 5%. A fixed seed: the same figures every run.

    PYTHONPATH=. .venv/bin/python scripts/sim_pacing.py [--hours 6] [--seed 18] [--lines 100]
"""

from __future__ import annotations

import argparse

from dialer.pacing import PacingMode, PacingPolicy
from dialer.pacing_sim import Profile, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=6.0, help="length of the shift")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--operators", type=int, default=35)
    parser.add_argument("--lines", type=int, default=100)
    args = parser.parse_args()
    print(f"{args.operators} operators, {args.lines} lines, {args.hours:g} h shift, seed {args.seed}")
    print(f"{'answer':>6}  {'pacing':<16} {'occupancy':>9} {'abandon':>8} {'worst window':>12} "
          f"{'wait (s)':>8} {'answered':>8} {'predictive':>10}")
    for rate in (0.3, 0.4, 0.6):
        profile = Profile(operators=args.operators, lines=args.lines, answer_rate=rate, hours=args.hours)
        runs = [("progressive 1:1", PacingPolicy())] + [
            (f"predictive {cap:.0%}", PacingPolicy(mode=PacingMode.predictive, cap=cap)) for cap in (0.01, 0.03, 0.05)]
        for name, policy in runs:
            r = simulate(profile, policy, seed=args.seed)
            share = r.predictive_passes / r.passes if r.passes else 0.0
            print(f"{rate:>6.0%}  {name:<16} {r.occupancy:>9.3f} {r.abandon_rate:>8.2%} {r.worst_window:>12.2%} "
                  f"{r.mean_wait:>8.1f} {r.answered:>8} {share:>10.0%}")


if __name__ == "__main__":
    main()
