"""The closed loop, unattended: serve, watch, notice a shift, retrain, canary, promote — and tell the story.

What it does (``make demo-loop``, or ``.venv/bin/python examples/demo_loop.py --dir /tmp/loop``):

1. scaffolds the penguins project and adds a ``monitor:`` section to its pipeline.yaml (windows of
   ``--window`` requests, retrain after 2 drifted windows or accuracy below 0.9, canary 25 %);
2. trains and registers penguins 1.0.0 (``yard run``), starts ``yard serve models:/penguins@champion`` and
   ``yard schedule --every 2s`` in the background — from here on no person acts;
3. replays traffic: penguins sampled from the bundled data (with measurement jitter), one record per
   request, the true species posted as feedback by request id. After ``--stable`` windows the field
   team's callipers change: bill length reads 6 mm longer and flipper length 15 mm longer from then on;
4. waits for the scheduler to notice the drift, retrain on the new labelled span, push 1.1.0 as
   challenger and start a canary, and for the server's policy to promote it; sends two more windows;
5. prints ``yard history penguins`` and the accuracy of each window, and exits 0 when the promoted
   model is better on the shifted traffic than the old one was.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MONITOR_SECTION = """
# The loop (added by examples/demo_loop.py): watch penguins' traffic in windows of {window} requests,
# retrain when drift persists for 2 windows or accuracy on labelled traffic falls below 0.9.
monitor:
  model: penguins
  window: {window}
  retrain:
    drift_windows: 2
    quality: {{accuracy: {{min: 0.9}}}}
    cooldown: 0s
    min_labels: 200
  canary: {{percent: 25, min_requests: {canary_requests}, max_distance: 0.6}}
"""
NUMERIC = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
SHIFT = {"bill_length_mm": 6.0, "flipper_length_mm": 15}


def yard(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("yard")
    return subprocess.run([str(exe), *args], cwd=cwd, text=True, capture_output=True, check=check)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_penguins(project: Path) -> list[dict]:
    rows = []
    with (project / "data" / "penguins.csv").open() as f:
        for row in csv.DictReader(f):
            if any(row[c] in ("", "NA") for c in (*NUMERIC, "sex")):
                continue
            rows.append(row)
    return rows


def record_of(row: dict, rng: random.Random, shifted: bool) -> tuple[dict, str]:
    record = {"island": row["island"], "sex": row["sex"]}
    record["bill_length_mm"] = round(float(row["bill_length_mm"]) + rng.gauss(0, 0.2), 1)
    record["bill_depth_mm"] = round(float(row["bill_depth_mm"]) + rng.gauss(0, 0.1), 1)
    record["flipper_length_mm"] = int(row["flipper_length_mm"]) + rng.choice((-1, 0, 0, 1))
    record["body_mass_g"] = int(row["body_mass_g"]) + rng.choice((-25, 0, 0, 25))
    if shifted:
        for column, delta in SHIFT.items():
            record[column] = round(record[column] + delta, 1) if isinstance(delta, float) else record[column] + delta
    return record, row["species"]


def post(url: str, body: object) -> tuple[dict, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read()), dict(response.headers)


def wait_ready(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/v2/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not become ready")


def champion(project: Path) -> str:
    out = yard("models", "list", "--json", cwd=project).stdout
    for model in json.loads(out):
        if model.get("name") == "penguins":
            return str((model.get("aliases") or {}).get("champion"))
    return ""


def send_window(base: str, rows: list[dict], n: int, rng: random.Random, shifted: bool, pool: ThreadPoolExecutor,
                tally: dict) -> None:  # fmt: skip
    picks = [record_of(rng.choice(rows), rng, shifted) for _ in range(n)]

    def one(item: tuple[dict, str]) -> tuple[str, str, str, str]:
        body, headers = post(f"{base}/invocations", {"dataframe_records": [item[0]]})
        return headers.get("x-request-id", ""), item[1], body["predictions"][0], headers.get("x-model-version", "")

    answers = list(pool.map(one, picks))
    feedback = [{"request_id": rid, "label": truth} for rid, truth, _, _ in answers]
    for i in range(0, len(feedback), 100):
        post(f"{base}/v1/models/penguins/feedback", feedback[i : i + 100])
    for _, truth, predicted, version in answers:
        hits = tally.setdefault(version, [0, 0])
        hits[0] += truth == predicted
        hits[1] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="demo-loop-project", help="project folder (replaced)")
    parser.add_argument("--window", type=int, default=300, help="requests per monitor window")
    parser.add_argument("--stable", type=int, default=3, help="windows before the shift")
    parser.add_argument("--max-windows", type=int, default=14, help="give up after this many shifted windows")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    project = Path(args.dir).resolve()
    shutil.rmtree(project, ignore_errors=True)
    yard("init", str(project), "--example", "penguins", cwd=project.parent)
    canary_requests = max(30, args.window // 4)
    with (project / "pipeline.yaml").open("a") as f:
        f.write(MONITOR_SECTION.format(window=args.window, canary_requests=canary_requests))
    print(f"project {project}: training penguins 1.0.0 ...", flush=True)
    yard("run", cwd=project)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    exe = str(Path(sys.executable).with_name("yard"))
    server = subprocess.Popen([exe, "serve", "models:/penguins@champion", "--port", str(port)], cwd=project,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)  # fmt: skip
    scheduler_log = (project / "schedule.log").open("w")
    scheduler = None
    try:
        wait_ready(base)
        print(f"serving on {base}; the scheduler runs every 2s (log: {project / 'schedule.log'})", flush=True)
        scheduler = subprocess.Popen([exe, "schedule", "--every", "2s"], cwd=project, stdout=scheduler_log,
                                     stderr=subprocess.STDOUT, env=env)  # fmt: skip
        rng = random.Random(args.seed)
        rows = load_penguins(project)
        tally: dict[str, list[int]] = {}
        accuracy: list[tuple[str, dict[str, float]]] = []
        with ThreadPoolExecutor(8) as pool:
            for _ in range(args.stable):
                tally = {}
                send_window(base, rows, args.window, rng, False, pool, tally)
                accuracy.append(("before the shift", {v: h / n for v, (h, n) in tally.items()}))
                time.sleep(2.5)
            print(f"{args.stable} windows of normal traffic sent; now the callipers change "
                  f"({', '.join(f'{c} +{d}' for c, d in SHIFT.items())})", flush=True)  # fmt: skip
            promoted_at = None
            for w in range(args.max_windows):
                tally = {}
                send_window(base, rows, args.window, rng, True, pool, tally)
                accuracy.append(("after the shift", {v: h / n for v, (h, n) in tally.items()}))
                time.sleep(2.5)
                if scheduler.poll() is not None:
                    raise SystemExit(f"the scheduler stopped: {(project / 'schedule.log').read_text()[-2000:]}")
                if promoted_at is None and champion(project) not in ("1.0.0", ""):
                    promoted_at = w
                    print(f"penguins {champion(project)} is champion after {w + 1} shifted windows", flush=True)
                elif promoted_at is not None and w >= promoted_at + 2:
                    break
        time.sleep(8)  # the scheduler judges the last windows
    finally:
        for process in (scheduler, server):
            if process is not None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        scheduler_log.close()
    print("\naccuracy of each window, by the version that answered:")
    for i, (phase, by_version) in enumerate(accuracy):
        figures = ", ".join(f"{v}: {a:.3f}" for v, a in sorted(by_version.items()))
        print(f"  window {i:2d} ({phase}): {figures}")
    print("\nyard history penguins:")
    print(yard("history", "penguins", cwd=project).stdout)
    new = champion(project)
    old_after = [a["1.0.0"] for phase, a in accuracy if phase == "after the shift" and "1.0.0" in a]
    new_after = [a[new] for phase, a in accuracy if new in a and new != "1.0.0"]
    if new in ("1.0.0", "") or not new_after:
        print("the loop did not promote a new model; see schedule.log", file=sys.stderr)
        return 1
    better = sum(new_after) / len(new_after) > sum(old_after) / max(1, len(old_after))
    print(f"champion {new}: accuracy on shifted traffic {sum(new_after) / len(new_after):.3f} "
          f"vs 1.0.0 {sum(old_after) / max(1, len(old_after)):.3f}")  # fmt: skip
    return 0 if better else 1


if __name__ == "__main__":
    sys.exit(main())
