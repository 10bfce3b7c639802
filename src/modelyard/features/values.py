"""How one cell value is read, the same way whether it came from a DataFrame, an Arrow table, a JSON
request or a DuckDB aggregate.

Training/serving skew often hides in these details: ``2007`` in a request versus ``2007.0`` in a pandas
column that had a null, ``True`` versus ``"true"``, ``None`` versus ``NaN``. Every path that reads a
value goes through these functions so that they cannot disagree. Only the standard library is used.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from decimal import Decimal
from typing import Any

_MISSING_TYPE_NAMES = frozenset({"NAType", "NaTType"})  # pandas.NA, pandas.NaT (without importing pandas)


def is_bool(value: Any) -> bool:
    """True for ``bool`` and NumPy's ``bool_`` (which is not a ``bool`` subclass)."""
    return isinstance(value, bool) or (type(value).__name__ in ("bool_", "bool") and type(value).__module__ == "numpy")


def is_missing(value: Any) -> bool:
    """None, NaN (any float type), ``pandas.NA`` and ``pandas.NaT`` all mean "no value"."""
    if value is None:
        return True
    if isinstance(value, float | Decimal) or (
        isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)
    ):
        try:
            return math.isnan(value)
        except (TypeError, ValueError):
            return False
    return type(value).__name__ in _MISSING_TYPE_NAMES


def category_key(value: Any) -> str | None:
    """The canonical string a categorical value is counted and looked up under; None when missing.

    Integral numbers map to their decimal digits whatever their type (``2007``, ``2007.0``,
    ``numpy.int16(2007)`` and ``"2007"`` are one category), booleans to ``"true"``/``"false"``.
    """
    if is_missing(value):
        return None
    if is_bool(value):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real | Decimal):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def as_float(value: Any) -> float | None:
    """The value as a float (NaN for missing), or None when it is not a number at all.

    Strings are *not* parsed here: turning ``"39.1"`` into a number is a decision the caller makes
    explicitly (``coerce=True`` on a model package), not something a transform does silently.
    """
    if is_missing(value):
        return math.nan
    if is_bool(value):
        return 1.0 if value else 0.0
    if isinstance(value, numbers.Real | Decimal):
        try:
            return float(value)
        except OverflowError:  # an int beyond the float range is not a usable number
            return None
    return None


def describe(value: Any) -> str:
    """A short, quoted rendering of a value for error messages (long strings are cut)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_datetime(value: Any) -> dt.datetime | None:
    """A timestamp as a ``datetime`` (dates at midnight, ISO strings parsed), or None when it is none.

    ``pandas.Timestamp`` is a ``datetime`` already; a NumPy ``datetime64`` goes through microseconds.
    """
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if type(value).__name__ == "datetime64":
        converted = value.astype("datetime64[us]").item()
        return converted if isinstance(converted, dt.datetime) else None
    return None


def date_part(moment: dt.datetime, part: str) -> float:
    """One calendar field as a float; ``day_of_week`` counts Monday as 0."""
    if part == "day_of_week":
        return float(moment.weekday())
    if part == "day_of_year":
        return float(moment.timetuple().tm_yday)
    return float(getattr(moment, part))
