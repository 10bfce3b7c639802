"""A separate process for the metadata conformance tests (run as a script, not collected by pytest).

python _metadata_worker.py create-run URL        -> prints the id of a new run, with a running step, and exits
python _metadata_worker.py hammer URL RUN NAME N -> prints "ready", waits for "go" on stdin, then makes
                                                   N calls (alternating log_batch and put_artifact) and
                                                   prints a JSON summary
"""

from __future__ import annotations

import hashlib
import json
import sys
import time

from modelyard.store.metadata.store import MetadataStore

SHARED_DIGEST = hashlib.sha256(b"shared by every writer").hexdigest()


def hammer(store: MetadataStore, run_id: str, name: str, calls: int) -> dict[str, object]:
    """What every concurrent writer does, in threads of the test process and in worker processes."""
    shared_ids = set()
    for i in range(calls):
        if i % 2 == 0:
            store.log_batch(run_id, metrics=[(f"{name}.loss", float(i), i, int(time.time() * 1000), None)])
        else:
            digest = hashlib.sha256(f"{name}-{i}".encode()).hexdigest()
            store.put_artifact("dataset", f"file:///{name}/{i}", digest)
            if i % 10 == 1:
                shared_ids.add(store.put_artifact("dataset", "file:///shared", SHARED_DIGEST).id)
    return {"name": name, "shared_ids": sorted(shared_ids)}


def main(argv: list[str]) -> None:
    mode, url = argv[1], argv[2]
    store = MetadataStore.open(url)
    try:
        if mode == "create-run":
            run_id = store.create_run(pipeline="doomed")
            store.create_execution(
                run_id=run_id,
                step="train",
                component="train",
                params={},
                code_fingerprint="f",
                cache_key="k-doomed",
                input_digests={},
            )
            print(run_id, flush=True)
        elif mode == "hammer":
            run_id, name, calls = argv[3], argv[4], int(argv[5])
            print("ready", flush=True)
            sys.stdin.readline()
            print(json.dumps(hammer(store, run_id, name, calls)), flush=True)
        else:
            raise SystemExit(f"unknown mode {mode}")
    finally:
        store.close()


if __name__ == "__main__":
    main(sys.argv)
