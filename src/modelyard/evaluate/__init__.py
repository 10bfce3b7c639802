"""Evaluation: metrics computed from predictions, and the blessing that decides whether a candidate
model is good enough (absolute thresholds, and no worse than the current champion).

Nothing heavy is imported here; import ``modelyard.evaluate.metrics`` or ``modelyard.evaluate.blessing``.
"""
