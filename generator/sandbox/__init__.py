"""The sandbox: a local stand-in for Google Cloud that real Terraform talks to.

A Terraform provider written in Python (:mod:`generator.sandbox.server`, its RPCs in
:mod:`generator.sandbox.service`, its behaviour in :mod:`generator.sandbox.provider`) that Terraform
loads as ``hashicorp/google`` through a generated CLI configuration with ``dev_overrides``
(:mod:`generator.sandbox.run`). It serves the real google provider schema, plans and applies
changes against a local store (:mod:`generator.sandbox.store`), fills computed attributes
with realistic values (:mod:`generator.sandbox.computed`, :mod:`generator.sandbox.formats`)
and enforces GCP rules the schema cannot express (:mod:`generator.sandbox.rules`,
:mod:`generator.sandbox.world`). It is a test bed, not Google Cloud. The package's layout:
its README.
"""
