"""Frozen value types with no I/O: artifact references, lineage graphs, schema, statistics, manifests."""
