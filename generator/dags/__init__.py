"""The data processing workflow: check rendered DAGs in Airflow, run them on Composer.

``check`` loads every rendered DAG into the DagBag of an Airflow whose version matches the
environment's Composer image (a child process in that Airflow's interpreter, running
``probe.py``); ``run`` triggers a pipeline's DAG through the Airflow REST API and waits.
"""
