"""The workflow files of one CI system, built as data from the environments' models.

Three runs per CI system, the same commands everywhere:

- pull/merge request: ``validate``, ``render --check``, ``plan --changed-since BASE`` with
  the change report, the report posted as one comment (``df-gen ci comment``), the saved
  plans copied to ``gs://STATE_BUCKET/df-gen-plans/ENV/KEY/`` (:mod:`generator.ci.plankey`);
- default branch: the saved plans fetched back by the same key, ``apply --changed-since``
  behind the CI system's approval (the plan is applied when still current, else planned
  again, and the report says which), then the plans deleted;
- schedule: drift, ``plan --all --detailed-exitcode``: exit 2 fails the run, the report
  is attached.

Credentials are keyless: GitHub's and GitLab's OIDC tokens exchanged through Workload
Identity Federation (direct resource access, no service-account key), Cloud Build's own
service account; the rendered stacks impersonate the environment's automation account
themselves. One run per environment at a time: a concurrency group (GitHub) or resource
group (GitLab) named after the environment.

Pipeline code: a pull request that changes an environment's rendered pipeline stacks runs
``dags check`` in the Airflow of its Composer image. Promotion (``--promote dev,prod``): on
merge the first environment is applied, each changed pipeline's DAG is run there to its end
(``dags run --wait``), and only then is the next one applied, behind its own approval.
"""

from __future__ import annotations

from generator.ci.cloudbuild import cloudbuild
from generator.ci.github import github
from generator.ci.gitlab import gitlab
from generator.ci.steps import Env

__all__ = ["BUILDERS", "PROVIDERS", "Env"]

PROVIDERS = ("github", "gitlab", "cloudbuild")
BUILDERS = {"github": github, "gitlab": gitlab, "cloudbuild": cloudbuild}
