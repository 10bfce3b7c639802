"""Cache keys change exactly when code, parameters or inputs change, and a miss says which."""

from __future__ import annotations

from types import SimpleNamespace

from modelyard.pipeline.cache import cache_key, explain_miss


def test_key_depends_on_each_part_and_not_on_order() -> None:
    base = cache_key("train", "code1", {"a": 1, "b": 2}, {"data": "d1"})
    assert base == cache_key("train", "code1", {"b": 2, "a": 1}, {"data": "d1"})
    assert base != cache_key("train", "code2", {"a": 1, "b": 2}, {"data": "d1"})
    assert base != cache_key("train", "code1", {"a": 1, "b": 3}, {"data": "d1"})
    assert base != cache_key("train", "code1", {"a": 1, "b": 2}, {"data": "d2"})


def test_explain_names_what_changed() -> None:
    previous = SimpleNamespace(code_fingerprint="c1", params={"C": 1.0, "seed": 7}, input_digests={"data": "aaaa1111"})
    why = explain_miss(previous, fingerprint="c2", params={"C": 0.5, "seed": 7}, input_digests={"data": "bbbb2222"})
    assert why == "code changed; param C: 1.0 -> 0.5; input data changed (aaaa1111 -> bbbb2222)"
    assert explain_miss(None, fingerprint="c", params={}, input_digests={}) == "first run of this step"
    same = explain_miss(previous, fingerprint="c1", params={"C": 1.0, "seed": 7}, input_digests={"data": "aaaa1111"})
    assert same == "cached outputs are no longer in the artifact store"
