"""``yard stats``, ``yard schema infer`` and ``yard validate``: data validation for any CI, outside a pipeline.

They call the same library functions the pipeline's statistics, schema and validate steps call, so a
check that passes here passes there. Bad input (a broken CSV, a missing file, a typo in the schema)
is a usage error: one line naming file, line and column, exit code 2. An error-severity anomaly is a
failed check: exit code 1. Files are written whole or not at all.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from modelyard.cli.output import console, emit_json, errors
from modelyard.errors import DataError, UsageError

schema_app = typer.Typer(help="The data contract: infer a schema.yaml from data.", no_args_is_help=True)

_DATA_HELP = "A CSV, Parquet (file or folder) or JSON Lines file; omit it when using --sql/--db."
_CSV_PANEL = "Reading"


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
    app.command("validate")(validate)
    app.add_typer(schema_app, name="schema")
    schema_app.command("infer")(schema_infer)


@contextmanager
def _bad_input_is_usage() -> Iterator[None]:
    """Unreadable input is the caller's to fix, like a bad flag: exit 2 rather than 1 (a failed check)."""
    try:
        yield
    except DataError as exc:
        raise UsageError(exc.message, where=exc.where, hint=exc.hint) from None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _options(
    delimiter: str | None,
    quote: str | None,
    encoding: str | None,
    header: bool | None,
    na: list[str] | None,
    fmt: str | None,
) -> Any:
    from modelyard.data.csv_source import CsvOptions
    from modelyard.data.inputs import ReadOptions

    with _bad_input_is_usage():
        csv = CsvOptions(delimiter=delimiter, quote=quote or '"', encoding=encoding, header=header)
    return ReadOptions(csv=csv, na_values=tuple(na) if na else None, format=fmt)


def _load_statistics_json(path: Path) -> Any:
    """Statistics saved by ``yard stats -o`` (or a pipeline's statistics.json split) instead of data."""
    from modelyard.core.statistics import DatasetStatistics

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and "num_rows" in data and "columns" in data:
        return DatasetStatistics.from_dict(data)
    if isinstance(data, dict) and isinstance(data.get("train"), dict) and "num_rows" in data["train"]:
        return DatasetStatistics.from_dict(data["train"])
    return None


def _statistics(
    data: Path | None,
    what: str,
    options: Any,
    sql: str | None = None,
    db: str | None = None,
    slice_by: list[str] | None = None,
) -> Any:
    from modelyard.data.statistics import compute_statistics

    if data is not None and data.suffix.lower() == ".json" and data.is_file():
        saved = _load_statistics_json(data)
        if saved is not None:
            return saved
    with _bad_input_is_usage(), errors.status(f"{what}: reading", spinner="dots") as status:
        update: Callable[[str], None] = lambda text: status.update(f"{what}: {text}")  # noqa: E731
        return compute_statistics(data, options=options, sql=sql, db=db, slice_by=slice_by, progress=update)


def _short(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.4g}" if not float(value).is_integer() else f"{int(value):,}"


def _print_statistics(stats: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{stats.source or 'data'}: {stats.num_rows:,} rows, {len(stats.columns)} columns")
    for heading in ("column", "type", "present", "distinct / mean", "min", "median", "max", "top values"):
        table.add_column(heading, justify="right" if heading in ("present", "min", "median", "max") else "left")
    for column in stats.columns:
        presence = f"{column.presence:.1%}" if column.presence is not None else ""
        numeric, string = column.numeric, column.string
        middle = low = median = high = top = ""
        if numeric is not None:
            middle, low, high = _short(numeric.mean), _short(numeric.min), _short(numeric.max)
            median = _short(numeric.quantile(50))
        if string is not None:
            middle = ("≈" if string.distinct_is_approximate else "") + f"{string.distinct:,} distinct"
            top = ", ".join(f"{value} ({count:,})" for value, count in string.top[:3])
        table.add_row(column.name, column.type, presence, middle, low, median, high, top)
    console.print(table)


def _print_drift(report: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{report.mode}: {len(report.drifted)} of {len(report.columns)} columns moved")
    for heading in ("column", "kind", "measure", "value", "threshold", ""):
        table.add_column(heading)
    for found in report.columns:
        flag = "[bold red]moved[/]" if found.drifted else "ok"
        table.add_row(found.column, found.kind, found.metric, f"{found.value:.4f}", f"{found.threshold:g}", flag)
    for name, reason in report.not_compared:
        table.add_row(name, "", "", "", "", f"[yellow]not compared: {reason}[/]")
    console.print(table)


def _print_anomalies(anomalies: Any) -> None:
    if not len(anomalies):
        console.print("[green]no anomalies[/]")
        return
    for item in sorted(anomalies, key=lambda a: a.severity != "error"):
        color = "red" if item.severity == "error" else "yellow"
        console.print(f"[{color}]{item.severity}[/] [bold]{item.code}[/] {item.message}", soft_wrap=True)


_Delimiter = typer.Option(
    None, "--delimiter", "-d", help="CSV field separator (default: detected).", rich_help_panel=_CSV_PANEL
)
_Quote = typer.Option(None, "--quote", help='CSV quote character (default ").', rich_help_panel=_CSV_PANEL)
_Encoding = typer.Option(None, "--encoding", help="utf-8 (default), utf-16 or latin-1.", rich_help_panel=_CSV_PANEL)
_Header = typer.Option(
    None, "--header/--no-header", help="Whether the CSV has a header (default: detected).", rich_help_panel=_CSV_PANEL
)
_Na = typer.Option(
    None, "--na", help="Text that marks a missing value (repeatable; default NA and empty).", rich_help_panel=_CSV_PANEL
)
_Format = typer.Option(
    None, "--format", help="csv, parquet or jsonl (default: from the suffix).", rich_help_panel=_CSV_PANEL
)
_Sql = typer.Option(
    None, "--sql", help="Read the result of this query instead of a file (needs --db).", rich_help_panel=_CSV_PANEL
)
_Db = typer.Option(
    None, "--db", help="postgresql://..., sqlite:///file.db or duckdb:///file.duckdb", rich_help_panel=_CSV_PANEL
)


def stats(
    data: Path | None = typer.Argument(None, help=_DATA_HELP, show_default=False),
    compare: Path | None = typer.Option(
        None, "--compare", help="A second dataset (or statistics JSON) to compare with."
    ),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report here."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Save the statistics as JSON here."),
    slice_by: list[str] | None = typer.Option(
        None, "--slice", help="Also compute statistics per value of this column (repeat to cross)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    delimiter: str | None = _Delimiter,
    quote: str | None = _Quote,
    encoding: str | None = _Encoding,
    header: bool | None = _Header,
    na: list[str] | None = _Na,
    fmt: str | None = _Format,
    sql: str | None = _Sql,
    db: str | None = _Db,
) -> None:
    """Statistics of a dataset, optionally side by side with a second one and the distance per column.

    Example: yard stats train.csv --compare today.csv --html report.html
    """
    from modelyard.data.drift import compare_statistics
    from modelyard.data.report import statistics_html

    options = _options(delimiter, quote, encoding, header, na, fmt)
    first = _statistics(data, "statistics", options, sql, db, slice_by)
    second = _statistics(compare, "statistics of --compare", options) if compare is not None else None
    report = compare_statistics(first, second) if second is not None else None
    if output is not None:
        _write_atomically(output, json.dumps(first.to_dict(), indent=2) + "\n")
    if html is not None:
        shown = {"reference": first, "current": second} if second is not None else {"data": first}
        shown.update({f"slice {label}": s for label, s in first.slices.items()} if second is None else {})
        _write_atomically(html, statistics_html(shown, title=f"Statistics — {data or 'query'}", drift=report))
    if json_out:
        if second is None:
            emit_json(first.to_dict())
        else:
            emit_json({"reference": first.to_dict(), "current": second.to_dict(), "drift": report.to_dict()})  # type: ignore[union-attr]
        return
    _print_statistics(first)
    if second is not None:
        _print_statistics(second)
        _print_drift(report)
    if html is not None:
        console.print(f"report: {html}")


def schema_infer(
    data: Path | None = typer.Argument(None, help=_DATA_HELP, show_default=False),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the schema here (default: print it)."),
    label: str | None = typer.Option(None, "--label", help="The label column: adds a serving environment without it."),
    max_domain_size: int = typer.Option(
        20, "--max-domain-size", help="Largest number of values that makes a category."
    ),
    ranges: bool = typer.Option(False, "--ranges", help="Bound numeric columns by their observed min and max."),
    relax: Path | None = typer.Option(None, "--relax", help="Widen this existing schema instead (keeps hand edits)."),
    delimiter: str | None = _Delimiter,
    quote: str | None = _Quote,
    encoding: str | None = _Encoding,
    header: bool | None = _Header,
    na: list[str] | None = _Na,
    fmt: str | None = _Format,
    sql: str | None = _Sql,
    db: str | None = _Db,
) -> None:
    """Infer a schema.yaml from data, or relax an existing one so new data passes it.

    Example: yard schema infer train.csv --label species -o schema.yaml
    """
    from modelyard.data.schema_infer import infer_schema, relax_schema
    from modelyard.data.schema_io import read_schema_yaml, schema_yaml

    existing = read_schema_yaml(relax) if relax is not None else None
    found = _statistics(data, "statistics", _options(delimiter, quote, encoding, header, na, fmt), sql, db)
    if existing is not None:
        contract = relax_schema(existing, found, max_domain_size=max_domain_size)
    else:
        contract = infer_schema(found, label=label, max_domain_size=max_domain_size, ranges=ranges)
    text = schema_yaml(contract)
    if output is None:
        typer.echo(text, nl=False)
        return
    _write_atomically(output, text)
    errors.print(f"wrote {output} ({len(contract.columns)} columns)")


def validate(
    data: Path | None = typer.Argument(None, help=_DATA_HELP, show_default=False),
    schema: Path = typer.Option(..., "--schema", "-s", help="The schema.yaml to check against."),
    against: Path | None = typer.Option(None, "--against", help="Reference data (or statistics JSON) for drift/skew."),
    environment: str | None = typer.Option(None, "--environment", "-e", help="Schema environment, e.g. serving."),
    mode: str | None = typer.Option(None, "--mode", help="drift or skew (default: skew in the serving environment)."),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report here."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    delimiter: str | None = _Delimiter,
    quote: str | None = _Quote,
    encoding: str | None = _Encoding,
    header: bool | None = _Header,
    na: list[str] | None = _Na,
    fmt: str | None = _Format,
    sql: str | None = _Sql,
    db: str | None = _Db,
) -> None:
    """Check data against a schema (and a reference for drift); exit 1 when an error anomaly is found.

    Example: yard validate today.csv --schema schema.yaml --against last_week.csv
    """
    from modelyard.data.drift import MODES, compare_statistics
    from modelyard.data.report import statistics_html
    from modelyard.data.schema_io import read_schema_yaml
    from modelyard.data.validation import validate_statistics
    from modelyard.errors import did_you_mean

    if mode is not None and mode not in MODES:
        raise UsageError(f"unknown --mode '{mode}'", hint=did_you_mean(mode, MODES))
    comparison = mode or ("skew" if environment == "serving" else "drift")
    contract = read_schema_yaml(schema)
    if environment is not None:
        contract.columns_for(environment)  # an unknown environment is a usage error before any reading
    options = _options(delimiter, quote, encoding, header, na, fmt)
    current = _statistics(data, "statistics", options, sql, db)
    reference = _statistics(against, "statistics of --against", options) if against is not None else None
    anomalies = validate_statistics(current, contract, environment=environment, reference=reference, mode=comparison)
    report = None
    if reference is not None:
        report = compare_statistics(reference, current, schema=contract, mode=comparison, environment=environment)
    if html is not None:
        shown = {"reference": reference, "current": current} if reference is not None else {"data": current}
        page = statistics_html(shown, anomalies=anomalies, title=f"Validation — {data or 'query'}", drift=report)
        _write_atomically(html, page)
    if json_out:
        emit_json(
            {
                "valid": not anomalies.has_errors,
                "errors": len(anomalies.errors),
                "warnings": len(anomalies.warnings),
                "anomalies": [item.to_dict() for item in anomalies],
                "drift": report.to_dict() if report is not None else None,
            }
        )
    else:
        _print_anomalies(anomalies)
    if anomalies.has_errors:
        raise typer.Exit(1)
