"""The ``yard`` command: thin commands that call the layers below and print tables or JSON."""
