"""Casework beyond the case record (docs/casework.md): the steps the 2024 attendance guidance asks
for, each in modules of its own (``targeting*.py``: the termly targeting meetings with each school)."""
