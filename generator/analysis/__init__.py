"""Static analysis of one environment, before anything is deployed.

- ``grants``: the access model, every role each identity holds on which resource, read
  back from the model (the values df-gen passes the modules, and the grants the modules
  make themselves);
- ``sql``: what a BigQuery statement reads and writes, column by column (sqlglot);
- ``needs``: what each DAG task needs, from the pipeline code's ``tasks.yaml`` and its SQL;
- ``check``: tasks and personas against the access model (``df-gen access``);
- ``lineage``: column lineage from landing to exposure (``df-gen lineage``).

``generator/access.py`` computes the grants df-gen makes; this package reads the whole
picture back and checks it.
"""
