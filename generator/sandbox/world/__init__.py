"""The Google Cloud world around the sandbox's resources, checked at create, update, delete.

The store (:mod:`generator.sandbox.store`) holds resources; this module keeps, beside them
under ``data["world"]``, what Google Cloud knows that no single resource says:

- ``projects``: every project the sandbox created (``google_project``) or was seeded with,
  by ID, with its number, the APIs enabled in it and the Google-managed service agents
  provisioned in it. A project that is not listed is an existing one the sandbox never saw
  created (an adopted project, the state project, a Shared VPC host): every API is enabled
  there and every agent exists. A deleted project stays listed as ``deleted`` so that
  nothing is created in it afterwards.

The rules (each cites its source where it is defined):

- **APIs**: a resource in a listed project needs the API that serves it enabled there.
- **Identities**: an IAM member ``serviceAccount:X@P.iam.gserviceaccount.com`` with P a
  listed project must be a service account in the store.
- **Service agents**: an IAM member that is a service agent of a listed project must have
  been provisioned (see :mod:`generator.sandbox.agents` for how Google provisions each).
- **CMEK**: a bucket, dataset, table, topic or Composer environment protected by a Cloud KMS
  key needs the project's agent for that service to hold
  ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on the key when it is created.
- **Dataset access**: an entry is in a dataset's access list once; a dataset access resource
  and a dataset IAM member of the same member and (basic) role are that one entry.
- **Deletion**: deleting a project deletes everything in it; an object under an unexpired
  bucket retention policy can be neither deleted nor overwritten.

Functions here work on the store's data inside its transaction and return error messages
(Google's wording first); the provider turns them into diagnostics.

The package has one module per concern: :mod:`.projects` (the state of the world),
:mod:`.apis`, :mod:`.identities`, :mod:`.access`, :mod:`.cmek`, :mod:`.retention`, :mod:`.checks` and
:mod:`.recording` (the provider's entry points), :mod:`.seed` (what exists before the first write).
"""

from __future__ import annotations

from generator.sandbox.world.apis import (
    API_TITLES,
    DATA_API,
    DEFAULT_SERVICES,
    NO_DEFAULT_NETWORK_SERVICES,
    TYPE_API,
    api_disabled,
)
from generator.sandbox.world.checks import check_data_read, check_delete, check_write
from generator.sandbox.world.cmek import CMEK, ENCRYPTER, cmek_problems
from generator.sandbox.world.identities import agent_problem, identity_problem
from generator.sandbox.world.projects import (
    CREATED,
    WORLD,
    agent_exists,
    api_enabled,
    listed,
    new_project,
    project_of,
    projects,
    provision,
)
from generator.sandbox.world.recording import record_data_read, record_delete, record_write
from generator.sandbox.world.retention import retention_problem
from generator.sandbox.world.seed import read_seed, seed_data, seed_path

__all__ = [
    "API_TITLES", "CMEK", "CREATED", "DATA_API", "DEFAULT_SERVICES", "ENCRYPTER", "NO_DEFAULT_NETWORK_SERVICES",
    "TYPE_API", "WORLD", "agent_exists", "agent_problem", "api_disabled", "api_enabled", "check_data_read",
    "check_delete", "check_write", "cmek_problems", "identity_problem", "listed", "new_project", "project_of",
    "projects", "provision", "read_seed", "record_data_read", "record_delete", "record_write", "retention_problem",
    "seed_data", "seed_path",
]
