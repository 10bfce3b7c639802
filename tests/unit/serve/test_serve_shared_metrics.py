"""/metrics of a multi-worker server is the sum over its workers: live figures plus the others' snapshots,
with a dead worker's last figures kept (counters never go down) and never counted twice."""

from __future__ import annotations

from pathlib import Path

from modelyard.serve.metrics import Metrics
from modelyard.serve.shared_metrics import SharedMetrics


def _series(text: str, name: str) -> dict[str, float]:
    """{labels: value} of one metric in Prometheus text."""
    found = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name) :].rsplit(" ", 1)
            found[labels] = float(value)
    return found


def _worker(folder: Path) -> SharedMetrics:
    return SharedMetrics(folder, Metrics(), interval=3600)  # published by hand in these tests


def test_a_scrape_on_any_worker_gives_the_sum_of_all_workers(tmp_path: Path) -> None:
    first, second = _worker(tmp_path), _worker(tmp_path)
    for seconds in (0.0002, 0.003, 0.003):
        first.metrics.observe("penguins", "1.0.0", "mlflow", 200, seconds)
    second.metrics.observe("penguins", "1.0.0", "mlflow", 200, 0.02)
    second.metrics.observe("penguins", "1.0.0", "mlflow", 422, 0.001)
    second.metrics.observe("penguins", "1.0.0", "v2", 200, 0.004)
    assert first.publish() and second.publish()
    first.metrics.observe("penguins", "1.0.0", "mlflow", 200, 0.003)  # live, not yet published: counted by itself

    mine = _series(first.render(), "modelyard_requests_total")
    assert mine == {
        '{model="penguins",version="1.0.0",protocol="mlflow",code="200"}': 5,
        '{model="penguins",version="1.0.0",protocol="mlflow",code="422"}': 1,
        '{model="penguins",version="1.0.0",protocol="v2",code="200"}': 1,
    }
    assert _series(first.render(), "modelyard_request_errors_total") == {
        '{model="penguins",version="1.0.0",protocol="mlflow",code="422"}': 1
    }
    buckets = _series(first.render(), "modelyard_request_duration_seconds_bucket")
    labels = 'model="penguins",version="1.0.0"'
    assert buckets[f'{{{labels},le="0.0005"}}'] == 1
    assert buckets[f'{{{labels},le="0.005"}}'] == 5  # 0.0002, three of 0.003 and 0.004: both workers

    assert buckets[f'{{{labels},le="0.025"}}'] == buckets[f'{{{labels},le="+Inf"}}'] == 6
    assert _series(first.render(), "modelyard_request_duration_seconds_sum")[f"{{{labels}}}"] == 0.0332
    # the second worker has not seen the first's latest request yet: it appears once the first publishes
    assert (
        _series(second.render(), "modelyard_requests_total")[
            '{model="penguins",version="1.0.0",protocol="mlflow",code="200"}'
        ]
        == 4
    )
    assert first.publish()
    assert second.render() == first.render()


def test_a_dead_workers_figures_stay_and_its_replacement_starts_from_zero(tmp_path: Path) -> None:
    survivor, dying = _worker(tmp_path), _worker(tmp_path)
    survivor.metrics.observe("m", "1", "mlflow", 200, 0.001)
    for _ in range(3):
        dying.metrics.observe("m", "1", "mlflow", 200, 0.001)
    dying.close()  # a clean stop writes the final figures; a killed worker leaves its last published file
    replacement = _worker(tmp_path)  # same folder, new id (a restarted worker may even reuse the pid)
    replacement.metrics.observe("m", "1", "mlflow", 200, 0.001)
    replacement.publish()
    key = '{model="m",version="1",protocol="mlflow",code="200"}'
    assert _series(survivor.render(), "modelyard_requests_total")[key] == 5
    survivor.publish()
    assert _series(replacement.render(), "modelyard_requests_total")[key] == 5
    assert len(list(tmp_path.glob("*.json"))) == 3


def test_a_worker_publishes_only_when_its_figures_changed_and_ignores_foreign_files(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    assert not worker.publish()  # nothing observed yet: no file
    worker.metrics.observe("m", "1", "v2", 200, 0.001)
    assert worker.publish() and not worker.publish()
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"something": "else"}')
    assert worker.others() == []
    assert _series(worker.render(), "modelyard_requests_total") == {
        '{model="m",version="1",protocol="v2",code="200"}': 1
    }


def test_a_snapshot_round_trips_through_add(tmp_path: Path) -> None:
    metrics = Metrics()
    metrics.observe('we"ird', "1", "mlflow", 200, 0.3)
    metrics.observe("", "", "v2", 404, 0.0)
    assert Metrics.total(metrics.snapshot()).render() == metrics.render()


def test_batch_counters_add_up_across_workers() -> None:
    one, two = Metrics(), Metrics()
    one.batched("m", "1", 5)
    two.batched("m", "1", 3)
    two.batched("m", "1", 1)
    text = Metrics.total(one.snapshot(), two.snapshot()).render()
    assert 'modelyard_batches_total{model="m",version="1"} 3' in text
    assert 'modelyard_batched_requests_total{model="m",version="1"} 9' in text
