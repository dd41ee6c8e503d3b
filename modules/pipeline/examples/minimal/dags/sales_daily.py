"""Placeholder DAG uploaded by the example; df-gen renders the real one from dag.py.j2."""

DAG_ID = "sales-daily"
