#!/usr/bin/env python3
"""Steps per second of the original MPE2 scenarios, for `deno task bench --reference`.

Steps each scenario through PettingZoo's parallel API with random actions (each agent's
`action_space(agent).sample()`), resetting when an episode ends, for about `--seconds`
seconds per scenario and action type, and prints one JSON object on stdout:

  {"simple_spread_v3": {"discrete": 4500.0, "continuous": 4100.0}, ...}

Run it with the Python of the MPE2 reference venv (see ../shared/reference/mpe/trace.sh):

  $MPE_VENV/bin/python scripts/mpe2_speed.py [--seconds 2] [--seed 42] [ENV ...]

MPE2 is imported from ../shared/reference/mpe/mpe2 with the headless pygame stand-in of
../shared/reference/mpe/stubs, as trace.py does.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import time
import warnings

REFERENCE = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "reference", "mpe")
)
sys.path.insert(0, os.path.join(REFERENCE, "stubs"))  # headless pygame stand-in
sys.path.insert(0, REFERENCE)  # the mpe2 package

SCENARIOS = [
    "simple_v3",
    "simple_adversary_v3",
    "simple_crypto_v3",
    "simple_push_v3",
    "simple_reference_v3",
    "simple_speaker_listener_v4",
    "simple_spread_v3",
    "simple_tag_v3",
    "simple_world_comm_v3",
]


def steps_per_second(env_id: str, continuous: bool, seconds: float, seed: int) -> float:
    """Random-action steps per second of one scenario (default options, 25-step episodes)."""
    module = importlib.import_module(f"mpe2.{env_id}")
    env = module.parallel_env(max_cycles=25, continuous_actions=continuous)
    env.reset(seed=seed)
    for agent in env.possible_agents:
        env.action_space(agent).seed(seed)
    for _ in range(100):  # warm-up: first-call costs out of the timing
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})
        if not env.agents:
            env.reset()
    steps = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        env.step(actions)
        steps += 1
        if not env.agents:
            env.reset()
        if steps % 64 == 0 and time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("envs", nargs="*", default=SCENARIOS, help="scenario ids [all nine]")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per scenario and mode")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("pettingzoo.utils.env_logger").setLevel(logging.ERROR)
    results = {}
    for env_id in args.envs:
        results[env_id] = {
            mode: steps_per_second(env_id, mode == "continuous", args.seconds, args.seed)
            for mode in ("discrete", "continuous")
        }
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
