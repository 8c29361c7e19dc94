"""Each team's mean training return per agent over the last 100 and last 1 000 episodes.

Usage: python3 scripts/last_returns.py FILE ADVERSARIES GOOD [EPISODES]

FILE is one of our runs' metrics.csv (its return_<i> columns) or the PyTorch peer's
agent_rewards.npy (agents × episodes); ADVERSARIES and GOOD are comma-separated agent indices
(simple_tag_v3: 0,1,2 and 3; simple_adversary_v3: 0 and 1,2); EPISODES keeps only the first
EPISODES episodes (the peer's 1.5 M-step run at 1 M: 40000). Prints "adversaries/good" for the
last 100, then the last 1 000. The README's "Self-play beside the anchors" table is made with it.
"""
import csv
import sys

import numpy as np

WINDOWS = (100, 1000)


def fail(message: str) -> None:
    """One line on stderr, exit code 2."""
    print(message, file=sys.stderr)
    sys.exit(2)


def count(text: str, what: str) -> int:
    """A non-negative integer argument, or a one-line error naming it."""
    if not text.isdigit():
        fail(f"{what} must be a non-negative integer, got {text!r}")
    return int(text)


def returns(path: str, agents: list[int]) -> np.ndarray:
    """Episodes × agents, a column for every index up to the largest of `agents` (those not
    asked for are NaN in a metrics.csv)."""
    if path.endswith(".npy"):
        r = np.load(path)
        if r.ndim != 2 or r.shape[0] <= max(agents):
            fail(f"{path}: shape {r.shape} has no agent {max(agents)}")
        return r.T
    with open(path) as f:
        reader = csv.DictReader(f)
        for i in sorted(set(agents)):
            if f"return_{i}" not in (reader.fieldnames or []):
                fail(f"{path}: no column return_{i}")
        columns = [f"return_{i}" if i in agents else None for i in range(max(agents) + 1)]
        return np.array([[float(row[c]) if c else np.nan for c in columns] for row in reader])


def main() -> None:
    if len(sys.argv) not in (4, 5):
        fail(__doc__.split("\n\n")[1])
    path = sys.argv[1]
    adversaries, good = ([count(i, "an agent index") for i in a.split(",")] for a in sys.argv[2:4])
    episodes = count(sys.argv[4], "EPISODES") if len(sys.argv) == 5 else None
    try:
        r = returns(path, adversaries + good)[:episodes]
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    if len(r) < WINDOWS[-1]:
        fail(f"{path}: {len(r)} episodes, fewer than the last {WINDOWS[-1]} asked for")
    print(" ".join(f"{r[-w:, adversaries].mean():.2f}/{r[-w:, good].mean():.2f}" for w in WINDOWS))


main()
