"""Input checks: a bad request gets every offence back in words, never a NumPy traceback."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from modelyard.errors import ModelyardError, UsageError, ValidationFailed
from modelyard.models.package import ModelPackage, load_package, save_package
from modelyard.models.signature import check_records

GOOD = {
    "island": "Biscoe", "bill_length_mm": 39.1, "bill_depth_mm": 18.7,
    "flipper_length_mm": 181, "body_mass_g": 3750, "sex": "male",
}  # fmt: skip


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory, trained, make_signature) -> ModelPackage:
    """A package whose contract forbids nulls in the measurements and limits islands to the known ones."""
    fitted, estimator = trained
    required = {"nullable": False}
    signature = make_signature(
        island={"nullable": False, "domain": ["Biscoe", "Dream", "Torgersen"]},
        bill_length_mm=required,
        flipper_length_mm=required,
        body_mass_g={"domain": {"min": 2000, "max": 7000}},
    )
    dest = tmp_path_factory.mktemp("strict") / "pkg"
    save_package(dest, estimator=estimator, transform=fitted, task="classification", label="species",
                 signature=signature)  # fmt: skip
    return load_package(dest)


def test_every_offence_is_listed_with_record_and_field(strict: ModelPackage) -> None:
    records = [
        GOOD,
        {**GOOD, "island": "Atlantis"},
        {**GOOD, "bill_length_mm": math.nan},
        {**GOOD, "bill_length_mm": "abc", "sex": 3},
        {k: v for k, v in GOOD.items() if k != "flipper_length_mm"},
        {**GOOD, "flipper_length_mm": 181.5, "body_mass_g": 9000},
        {**GOOD, "bill_depth_mm": True},
        "not a record",
    ]
    with pytest.raises(ValidationFailed) as caught:
        strict.predict(records)
    assert caught.value.problems == [
        "record 1, field 'island': 'Atlantis' is not one of the allowed values (Biscoe, Dream, Torgersen)",
        "record 2, field 'bill_length_mm': null/NaN is not allowed here (the field is not nullable)",
        "record 3, field 'bill_length_mm': expected a number, got 'abc'",
        "record 3, field 'sex': expected a string, got 3",
        "record 4, field 'flipper_length_mm': required field is missing (the field is not nullable)",
        "record 5, field 'flipper_length_mm': expected a whole number, got 181.5",
        "record 5, field 'body_mass_g': 9000 is above the maximum 7000",
        "record 6, field 'bill_depth_mm': expected a number, got True",
        "record 7: expected a mapping of field to value, got 'not a record'",
    ]
    assert str(caught.value).startswith("7 of 8 record(s) do not match the model signature: record 1, field 'island'")
    assert isinstance(caught.value, ModelyardError)


def test_numeric_strings_get_a_hint_and_convert_only_when_asked(strict: ModelPackage) -> None:
    record = {**GOOD, "bill_length_mm": "39.1", "flipper_length_mm": "181", "bill_depth_mm": 18}
    with pytest.raises(ValidationFailed) as caught:
        strict.check_inputs([record])
    assert caught.value.problems == [
        "record 0, field 'bill_length_mm': expected a number, got '39.1' (coerce=True converts numeric strings)",
        "record 0, field 'flipper_length_mm': expected a whole number, got '181' (coerce=True converts numeric "
        "strings)",
    ]
    clean = strict.check_inputs([record], coerce=True)[0]
    assert clean["bill_length_mm"] == 39.1 and type(clean["bill_length_mm"]) is float
    assert clean["flipper_length_mm"] == 181 and type(clean["flipper_length_mm"]) is int
    assert clean["bill_depth_mm"] == 18.0 and type(clean["bill_depth_mm"]) is float  # 3 -> 3.0
    assert strict.predict([record], coerce=True) == strict.predict([GOOD])


def test_coercion_still_rejects_what_cannot_convert_safely(strict: ModelPackage) -> None:
    records = [
        {**GOOD, "bill_length_mm": "abc"},
        {**GOOD, "flipper_length_mm": "181.5"},
        {**GOOD, "bill_depth_mm": "inf"},
        {**GOOD, "sex": True},
    ]
    with pytest.raises(ValidationFailed) as caught:
        strict.check_inputs(records, coerce=True)
    assert caught.value.problems == [
        "record 0, field 'bill_length_mm': expected a number, got 'abc', which is not a number",
        "record 1, field 'flipper_length_mm': expected a whole number, got 181.5",
        "record 2, field 'bill_depth_mm': expected a finite number, got inf",
        "record 3, field 'sex': expected a string, got True",
    ]


def test_clean_records_keep_only_signature_fields_and_fill_absent_nullable_ones(strict: ModelPackage) -> None:
    clean = strict.check_inputs([{**GOOD, "species": "Adelie", "year": 2007, "sex": None, "bill_depth_mm": math.nan}])
    assert set(clean[0]) == set(GOOD)
    assert clean[0]["sex"] is None and clean[0]["bill_depth_mm"] is None
    partial = strict.check_inputs([{"island": "Dream", "bill_length_mm": 40, "flipper_length_mm": 190.0}])[0]
    assert partial["flipper_length_mm"] == 190 and partial["body_mass_g"] is None


def test_dataframes_are_checked_too(strict: ModelPackage) -> None:
    frame = pd.DataFrame([GOOD, {**GOOD, "island": "Atlantis"}])
    with pytest.raises(ValidationFailed, match="record 1, field 'island': 'Atlantis'"):
        strict.predict(frame)
    with pytest.raises(UsageError, match="cannot predict on a dict"):
        strict.predict(GOOD)


def test_bool_and_timestamp_fields() -> None:
    signature = {
        "inputs": [
            {"name": "member", "type": "bool", "nullable": False},
            {"name": "seen", "type": "timestamp"},
        ]
    }
    from modelyard.models.signature import normalize_signature

    sig = normalize_signature(signature)
    clean = check_records(sig, [{"member": "Yes", "seen": "2024-05-01T10:00:00"}], coerce=True)[0]
    assert clean["member"] is True and clean["seen"].year == 2024
    with pytest.raises(ValidationFailed) as caught:
        check_records(sig, [{"member": "maybe", "seen": "yesterday"}], coerce=True)
    assert caught.value.problems == [
        "record 0, field 'member': expected true or false, got 'maybe'",
        "record 0, field 'seen': expected a timestamp, got 'yesterday'",
    ]


def test_a_string_domain_on_a_number_is_refused_at_save(tmp_path: Path, trained, make_signature) -> None:
    fitted, estimator = trained
    with pytest.raises(UsageError, match="range domain applies to int or float"):
        save_package(tmp_path / "p", estimator=estimator, transform=fitted, task="classification",
                     label="species", signature=make_signature(island={"domain": {"min": 1}}))  # fmt: skip


def test_the_all_floats_shortcut_gives_what_the_field_by_field_check_gives() -> None:
    """Records of finite floats take C-level checks; anything else (NaN, inf, an overflowing sum, an int,
    a missing field) falls back to the per-field path: same clean records, same order, same offences."""
    signature = {"inputs": [
        {"name": "a", "type": "float", "nullable": True},
        {"name": "s", "type": "string", "nullable": False, "domain": ["x", "y"]},
        {"name": "b", "type": "float", "nullable": False},
        {"name": "c", "type": "float", "nullable": True, "domain": {"min": 0.0}},
    ]}  # fmt: skip
    ok = {"b": 2.5, "s": "x", "a": 1.0, "c": 3.0, "label": "dropped"}
    clean = check_records(signature, [ok, {**ok, "a": 1e308, "b": 1e308}, {**ok, "a": 2}])
    assert [list(r) for r in clean] == [["a", "s", "b", "c"]] * 3  # the signature's order, label dropped
    assert clean[0] == {"a": 1.0, "s": "x", "b": 2.5, "c": 3.0}
    assert clean[1]["b"] == 1e308 and clean[2]["a"] == 2
    with pytest.raises(ValidationFailed) as failed:
        check_records(signature, [{**ok, "a": math.nan, "b": math.inf}, {**ok, "b": None}, {**ok, "c": -1.0}])
    problems = failed.value.problems
    assert any("record 0, field 'b'" in p for p in problems) and not any("field 'a'" in p for p in problems)
    assert any("record 1, field 'b'" in p and "not nullable" in p for p in problems)
    assert any("record 2, field 'c'" in p and "below the minimum" in p for p in problems)
