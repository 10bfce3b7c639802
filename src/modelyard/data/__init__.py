"""The data layer: reading and ingesting raw files, statistics, schema inference and YAML, validation, reports.

Everything here runs on DuckDB and Arrow, imported only when a function needs them, so importing this
package stays cheap.
"""
