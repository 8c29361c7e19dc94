"""Each team's mean training return per agent over the last 100 and last 1 000 episodes.

Usage: python3 scripts/last_returns.py FILE ADVERSARIES GOOD [EPISODES]

FILE is one of our runs' metrics.csv (its return_<i> columns) or the PyTorch peer's
agent_rewards.npy; ADVERSARIES and GOOD are comma-separated agent indices (simple_tag_v3: 0,1,2
and 3; simple_adversary_v3: 0 and 1,2); EPISODES keeps only the first EPISODES episodes (the
peer's 1.5 M-step run at 1 M: 40000). Prints "adversaries/good" for the last 100, then the last
1 000. The README's "Self-play beside the anchors" table is made with it.
"""
import csv
import sys

import numpy as np


def returns(path: str, agents: int) -> np.ndarray:
    """Episodes × agents."""
    if path.endswith(".npy"):
        r = np.load(path)
        return r.T if r.shape[0] < r.shape[1] else r
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(row[f"return_{i}"]) for i in range(agents)] for row in rows])


def fail(message: str) -> None:
    """One line on stderr, exit code 2."""
    print(message, file=sys.stderr)
    sys.exit(2)


def main() -> None:
    if len(sys.argv) not in (4, 5):
        fail(__doc__.split("\n\n")[1])
    path = sys.argv[1]
    try:
        adversaries, good = ([int(i) for i in a.split(",")] for a in sys.argv[2:4])
        r = returns(path, len(adversaries) + len(good))
        if len(sys.argv) == 5:
            r = r[: int(sys.argv[4])]
    except KeyError as e:
        fail(f"{path}: no column {e}")
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    print(" ".join(f"{r[-w:, adversaries].mean():.2f}/{r[-w:, good].mean():.2f}" for w in (100, 1000)))


main()
