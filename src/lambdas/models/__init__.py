"""Data shapes: upstream payloads, CSV rows and their codec, stage events and responses, tables.

The bottom layer: models import nothing of the project but `errors`.
"""
