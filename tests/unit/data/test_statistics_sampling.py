"""The cheaper passes keep their promises: exact small data, bounded percentile error, same answer every run."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from pathlib import Path

import pytest

from modelyard.data import statistics as statistics_module
from modelyard.data import statistics_parts
from modelyard.data.quantiles import SAMPLE_ROWS
from modelyard.data.statistics import compute_statistics

Writer = Callable[[str, str], Path]
BIG = 3 * SAMPLE_ROWS


def test_small_tables_get_exact_percentiles(write_parquet: Writer) -> None:
    # x = i*i for i in 0..1000: the p-th percentile (linear interpolation) of 1001 values is (10p)^2.
    numeric = compute_statistics(write_parquet("sq.parquet", "SELECT range * range AS x FROM range(1001)")).column("x")
    expected = [float((10 * p) ** 2) for p in range(101)]
    assert list(numeric.numeric.percentiles) == pytest.approx(expected, rel=1e-12)


def test_large_tables_get_percentiles_within_the_stated_rank_error(write_parquet: Writer) -> None:
    # A skewed column of BIG distinct values: the true rank of a reported value is known exactly.
    query = f"SELECT exp(range / {BIG / 10}) AS x FROM range({BIG}) ORDER BY random()"
    numeric = compute_statistics(write_parquet("big.parquet", query)).column("x").numeric
    values = sorted(2.718281828459045 ** (i / (BIG / 10)) for i in range(BIG))
    worst = max(abs(bisect.bisect_left(values, q) / BIG - p / 100) for p, q in enumerate(numeric.percentiles))
    assert worst < 0.006  # the module's bound: below 0.0052 with 99% probability


def test_csv_and_parquet_of_the_same_rows_get_the_same_statistics(write_parquet: Writer, tmp_path: Path) -> None:
    query = f"SELECT range % 977 * 0.5 AS x, 'c' || (range % 7) AS c FROM range({BIG})"
    parquet = compute_statistics(write_parquet("same.parquet", query))
    csv_path = tmp_path / "same.csv"
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"COPY ({query}) TO '{csv_path}' (HEADER)")
    from_csv, again = compute_statistics(csv_path), compute_statistics(csv_path)
    # Same sampled rows, so the same percentiles; moments only up to the order of parallel float sums.
    for other in (from_csv, again):
        x, y = parquet.column("x").numeric, other.column("x").numeric
        assert x.percentiles == y.percentiles and x.histogram_counts == y.histogram_counts
        assert (x.mean, x.std) == (pytest.approx(y.mean, rel=1e-12), pytest.approx(y.std, rel=1e-12))
        assert other.column("c") == parquet.column("c")


def test_a_large_text_file_staged_as_parquet_gives_the_same_statistics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.csv"
    lines = ["v,s"] + [f"{(i * 7919) % 100003 / 3},k{i % 11}" for i in range(BIG)]
    path.write_text("\n".join(lines) + "\n")
    in_memory = compute_statistics(path)
    monkeypatch.setattr(statistics_module, "STAGE_IN_MEMORY_BYTES", 0)
    on_disk = compute_statistics(path)
    x, y = in_memory.column("v").numeric, on_disk.column("v").numeric
    assert x.percentiles == y.percentiles and x.histogram_counts == y.histogram_counts
    assert x.mean == pytest.approx(y.mean, rel=1e-12) and on_disk.column("s") == in_memory.column("s")


def test_nan_and_infinity_found_after_the_fact_are_kept_out_of_moments_and_buckets(write_parquet: Writer) -> None:
    query = """SELECT CASE WHEN range = 3 THEN '-inf'::DOUBLE WHEN range = 4 THEN 'nan'::DOUBLE
               ELSE range END AS x, 'inf'::DOUBLE AS only_inf, range::DOUBLE AS clean FROM range(10)"""
    stats = compute_statistics(write_parquet("nf.parquet", query))
    x = stats.column("x").numeric
    assert (x.min, x.max, x.nan, x.inf, x.negatives) == (0, 9, 1, 1, 1)
    assert x.mean == pytest.approx((45 - 3 - 4) / 8)
    assert sum(x.histogram_counts) == 8 and x.percentiles[50] == pytest.approx(5.5)
    only = stats.column("only_inf").numeric
    assert (only.inf, only.min, only.mean, only.percentiles, only.histogram_counts) == (10, None, None, (), ())
    assert stats.column("clean").numeric.mean == 4.5


def test_identifiers_get_lengths_but_no_top_values(write_parquet: Writer) -> None:
    n = 150_000  # more distinct values than the exact limit
    stats = compute_statistics(write_parquet("ids.parquet", f"SELECT 'k' || range AS id FROM range({n})"))
    column = stats.column("id").string
    assert column.distinct_is_approximate and column.top == ()
    assert column.distinct == pytest.approx(n, rel=0.1)
    total = sum(1 + len(str(i)) for i in range(n))
    assert (column.min_len, column.max_len) == (2, 7) and column.mean_len == pytest.approx(total / n)


def test_string_lengths_of_listed_columns_count_every_value_not_just_the_top(write_parquet: Writer) -> None:
    query = "SELECT repeat('x', 1 + range % 60) AS s FROM range(600)"  # 60 distinct values, top_k 5
    column = compute_statistics(write_parquet("len.parquet", query), top_k=5).column("s").string
    assert (column.distinct, len(column.top), column.min_len, column.max_len) == (60, 5, 1, 60)
    assert column.mean_len == pytest.approx(30.5)


def test_slices_keep_percentiles_and_guard_nan_per_slice(write_parquet: Writer) -> None:
    query = "SELECT range % 2 AS a, CASE WHEN range = 1 THEN 'nan'::DOUBLE ELSE range END AS v FROM range(200)"
    stats = compute_statistics(write_parquet("sl.parquet", query), slice_by=["a"])
    odd = stats.slices["a=1"].column("v").numeric
    assert (odd.nan, odd.min, odd.max) == (1, 3, 199)
    assert len(odd.percentiles) == 101 and sum(odd.histogram_counts) == 99


def test_a_parquet_column_named_like_the_row_number_does_not_clash(write_parquet: Writer) -> None:
    stats = compute_statistics(write_parquet("rn.parquet", "SELECT range AS file_row_number FROM range(50)"))
    assert stats.column("file_row_number").numeric.percentiles[50] == 24.5


def test_varied_and_counted_string_columns_get_the_same_statistics(
    write_parquet: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1,500 values in 150,000 rows: the probe does not find s varied, so only the counting pass reads it;
    # with every probed column taken as varied, pass 2 also estimates its distinct count and measures its
    # lengths, and the counting pass still counts it. Both must give the same top values (ties by value),
    # distinct count and lengths; the bool column is counted in pass 2 either way.
    query = (
        "SELECT 'v' || (range % 1500) || repeat('é', (range % 1500 % 7)::INTEGER) AS s, range % 3 = 0 AS b, "
        "CASE WHEN range % 11 = 0 THEN NULL ELSE 'k' || (range % 5) END AS few FROM range(150000)"
    )
    path = write_parquet("strings.parquet", query)
    counted = compute_statistics(path, slice_by=["few"])
    monkeypatch.setattr(statistics_parts, "VARIED_SHARE", 10**9)
    varied = compute_statistics(path, slice_by=["few"])
    assert counted.to_dict() == varied.to_dict()
    s = varied.column("s").string
    assert s.distinct == 1500 and not s.distinct_is_approximate and s.top[0][1] == 100
    assert [value for value, _ in s.top] == sorted(value for value, _ in s.top)  # all tied: ordered by value
    sizes = [1 + len(str(i)) + i % 7 for i in range(1500)]  # characters, not bytes: 'é' is one
    assert (s.min_len, s.max_len, s.mean_len) == (min(sizes), max(sizes), pytest.approx(sum(sizes) / 1500))
    b = varied.column("b").string
    assert b.distinct == 2 and dict(b.top) == {"false": 100000, "true": 50000}
    few = varied.column("few")
    assert few.missing == 150000 // 11 + 1 and few.string.distinct == 5


def test_a_column_the_probe_misjudges_is_still_counted_exactly(write_parquet: Writer) -> None:
    # 30,000 distinct values between rows 20,000 and 50,000, where no probe run reaches: the probe sees
    # one value, so the column is counted (exactly) rather than estimated. Slower, never wrong.
    query = "SELECT CASE WHEN range BETWEEN 20000 AND 49999 THEN 'id' || range ELSE 'a' END AS s FROM range(150000)"
    s = compute_statistics(write_parquet("hidden.parquet", query)).column("s").string
    assert (s.distinct, s.distinct_is_approximate, s.top[0]) == (30001, False, ("a", 120000))


def test_an_all_false_bool_column_lists_one_value(write_parquet: Writer) -> None:
    stats = compute_statistics(write_parquet("f.parquet", "SELECT false AS b, NULL::BOOLEAN AS n FROM range(10)"))
    assert stats.column("b").string.top == (("false", 10),) and stats.column("b").string.distinct == 1
    assert stats.column("n").string.distinct == 0 and stats.column("n").missing == 10


def test_every_input_kind_probes_its_own_rows_and_gets_the_same_string_statistics(tmp_path: Path) -> None:
    # Above the exact limit, so each kind of input runs the probe over its own rows: Parquet row runs,
    # slices of the staged CSV's Arrow table, the JSON Lines table's row ids. Whatever each probe sees,
    # the answers agree.
    import duckdb

    query = (
        "SELECT 'k' || range AS id, 'c' || (range % 5) AS few, "
        "CASE WHEN range BETWEEN 20000 AND 49999 THEN 'h' || range ELSE 'a' END AS hidden FROM range(150000)"
    )
    paths = [tmp_path / "s.parquet", tmp_path / "s.csv", tmp_path / "s.jsonl"]
    with duckdb.connect() as con:
        for path, kind in zip(paths, ("parquet", "csv", "json"), strict=True):
            con.execute(f"COPY ({query}) TO '{path}' (FORMAT {kind})")
    found = [compute_statistics(path) for path in paths]
    for stats in found:
        assert stats.num_rows == 150000
        identifiers = stats.column("id").string
        assert identifiers.distinct_is_approximate and identifiers.top == () and identifiers.max_len == 7
        assert stats.column("few").string.distinct == 5 and stats.column("few").string.top[0] == ("c0", 30000)
        assert stats.column("hidden").string.distinct == 30001
    assert found[1].columns == found[0].columns and found[2].columns == found[0].columns


def test_timestamps_and_dates_in_a_csv_are_sampled_like_their_parquet_copy(
    write_parquet: Writer, tmp_path: Path
) -> None:
    # The staged CSV's sample keeps only the columns that can hold numbers: timestamps and dates among them.
    query = (
        "SELECT TIMESTAMP '2026-01-01' + INTERVAL (range * 7) SECOND AS ts, "
        f"DATE '2000-01-01' + (range % 3000)::INTEGER AS d, 'k' || range AS id FROM range({BIG})"
    )
    parquet = compute_statistics(write_parquet("times.parquet", query))
    csv_path = tmp_path / "times.csv"
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"COPY ({query}) TO '{csv_path}' (HEADER)")
    from_csv = compute_statistics(csv_path)
    for name in ("ts", "d"):
        x, y = parquet.column(name).numeric, from_csv.column(name).numeric
        assert x.percentiles == y.percentiles and len(x.percentiles) == 101 and (x.min, x.max) == (y.min, y.max)


def test_a_csv_of_strings_only_gets_its_statistics(tmp_path: Path) -> None:
    path = tmp_path / "words.csv"
    path.write_text("a,b\nx,y\nz,y\n")
    stats = compute_statistics(path)
    assert stats.column("a").string.distinct == 2 and stats.column("b").string.top == (("y", 2),)


@pytest.mark.parametrize("share", [0, 10**9])  # nothing varied / every probed column varied
def test_the_probe_never_changes_the_answer_above_the_exact_limit(
    write_parquet: Writer, monkeypatch: pytest.MonkeyPatch, share: int
) -> None:
    # 150,000 identifiers, also by slice (one slice of them, one of five values): estimated in the aggregate
    # pass or counted and then estimated by the counting pass, they come out the same, approximate, no top.
    query = (
        "SELECT 'id' || range AS id, CASE WHEN range < 130000 THEN NULL ELSE 'small' END AS g, "
        "CASE WHEN range < 130000 THEN 'id' || range ELSE 'v' || (range % 5) END AS mixed FROM range(150000)"
    )
    path = write_parquet("probe.parquet", query)
    default = compute_statistics(path, slice_by=["g"], top_k=1)
    monkeypatch.setattr(statistics_parts, "VARIED_SHARE", share)
    assert compute_statistics(path, slice_by=["g"], top_k=1).to_dict() == default.to_dict()
    identifiers = default.column("id").string
    assert identifiers.distinct_is_approximate and identifiers.top == ()
    assert default.slices["g=small"].column("mixed").string.top == (("v0", 4000),)
    assert default.slices["g=NULL"].column("mixed").string.distinct_is_approximate


def test_a_top_k_of_a_million_or_more_keeps_every_value(write_parquet: Writer) -> None:
    path = write_parquet("tiny.parquet", "SELECT 'v' || (range % 3) AS s FROM range(10)")
    assert compute_statistics(path, top_k=1_000_000).column("s").string.top == (("v0", 4), ("v1", 3), ("v2", 3))


def test_a_column_named_rowid_does_not_stand_in_for_the_row_position(tmp_path: Path) -> None:
    # In a temporary table a column named rowid hides DuckDB's row id, which numbers the rows for the
    # sample and the probe: a constant one would leave the sample empty, a text one break the probe.
    import duckdb

    path = tmp_path / "rowid.jsonl"
    query = f"SELECT 8 AS rowid, 'order-' || range AS key, range % 1000 AS x FROM range({BIG})"
    with duckdb.connect() as con:
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT json)")
    stats = compute_statistics(path)
    x = stats.column("x").numeric
    assert len(x.percentiles) == 101 and x.percentiles[50] == pytest.approx(500, abs=15)
    assert stats.column("key").string.distinct_is_approximate and stats.column("rowid").numeric.min == 8
