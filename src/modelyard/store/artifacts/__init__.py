"""Content-addressed artifact storage: a local folder by default, any fsspec URL by configuration.

Only the standard library is imported here; fsspec is imported when a non-local store is opened.
"""

from modelyard.store.artifacts.base import ArtifactStore
from modelyard.store.artifacts.digest import sha256_file, sha256_tree

__all__ = ["ArtifactStore", "sha256_file", "sha256_tree"]
