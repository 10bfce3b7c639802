"""User functions the function-transform tests fit and apply (imported by reference, as a user's file would be)."""

from __future__ import annotations

import datetime as dt

import numpy as np


def row_mix(**values):
    """Any columns: numbers halved, booleans as +-1, text by length, timestamps by month; None if all missing."""
    total, seen = 0.0, False
    for value in values.values():
        if value is None:
            continue
        seen = True
        if isinstance(value, bool):
            total += 1.0 if value else -1.0
        elif isinstance(value, float):
            total += value * 0.5
        elif isinstance(value, str):
            total += len(value)
        elif isinstance(value, dt.datetime):
            total += value.month
        else:
            raise TypeError(f"unexpected {type(value).__name__}")
    return total if seen else None


def row_pair(**values):
    """Two outputs as a dict: how many values are present, and the row_mix of them."""
    present = sum(value is not None for value in values.values())
    return {"pair_count": float(present), "pair_mix": row_mix(**values)}


def batch_mix(columns):
    """Two outputs from numeric arrays: a sum of log magnitudes and the square root of the first column."""
    arrays = list(columns.values())
    total = np.zeros_like(arrays[0])
    for values in arrays:
        total = total + np.log1p(np.abs(values))
    return total, np.sqrt(np.abs(arrays[0]))


def mass_per_flipper(body_mass_g, flipper_length_mm):
    if body_mass_g is None or flipper_length_mm is None:
        return None
    return body_mass_g / flipper_length_mm


def ratio(columns):
    return columns["bill_length_mm"] / columns["bill_depth_mm"]


def fragile(bill_length_mm):
    if bill_length_mm is not None and bill_length_mm > 50:
        raise ValueError(f"too long: {bill_length_mm}")
    return bill_length_mm


def fragile_batch(columns):
    values = columns["bill_length_mm"]
    if (values > 50).any():
        raise ValueError("a bill is too long")
    return values


def word(bill_length_mm):
    return "long"


def needs_two(a, b):
    return a
