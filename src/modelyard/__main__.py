"""``python -m modelyard`` is the ``yard`` command."""

from modelyard.cli.main import run

run()
