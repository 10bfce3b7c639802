"""The closed loop, unattended, from one command: examples/demo_loop.py with a smaller window.

A real server, a real scheduler process (``yard schedule --every 2s``) and replayed traffic whose two
features shift part-way: the run must end with a promoted model that is better on the shifted traffic,
and ``yard history`` must tell each decision.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import spawn_env

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo_loop.py"


def test_the_loop_notices_the_shift_retrains_canaries_and_promotes_by_itself(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(DEMO), "--dir", str(tmp_path / "loop"), "--window", "200", "--stable", "2"],
        env=spawn_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out + done.stderr + (tmp_path / "loop" / "schedule.log").read_text()
    assert "drift in bill_length_mm, flipper_length_mm" in out
    assert "policy decided to retrain" in out and "pushed 1.1.0 as challenger" in out
    assert "1.1.0 became champion (by modelyard-policy): automatically promoted" in out
    before, after = out.split("champion 1.1.0: accuracy on shifted traffic ")[1].split(" vs 1.0.0 ")
    assert float(before) > float(after.split()[0])
