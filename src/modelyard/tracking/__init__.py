"""Experiment tracking from user code: params, metrics, tags and artifacts, buffered and written in batches."""
