"""GitLab CI: one ``.gitlab-ci.yml`` with the merge-request, apply and drift jobs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from generator.ci.steps import (
    REPORTS,
    Env,
    apply_script,
    chain,
    dags_check_script,
    dags_run_script,
    drift_script,
    drop_plans_script,
    dump,
    fetch_plans_script,
    plan_script,
    save_plans_script,
    validate_script,
)


def gitlab(envs: Sequence[Env], install: str, args: str, branch: str,
           promote: Sequence[Env] = ()) -> dict[str, str]:
    """``.gitlab-ci.yml`` (include it from yours, or use it as it is); GitLab knows its default branch."""
    del branch
    mr = '$CI_PIPELINE_SOURCE == "merge_request_event"'
    main = '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"'
    schedule = '$CI_PIPELINE_SOURCE == "schedule"'
    document: dict[str, Any] = {
        "workflow": {"rules": [{"if": mr}, {"if": main}, {"if": schedule}]},
        "stages": ["plan", "apply", "drift"],
        "variables": {"GIT_DEPTH": "0"},
        ".df-gen": {
            "image": "gcr.io/google.com/cloudsdktool/google-cloud-cli:slim",
            "id_tokens": {"GCP_ID_TOKEN": {"aud": "https://iam.googleapis.com/${DF_GEN_WIF_PROVIDER}"}},
            "before_script": [
                "apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv git >/dev/null",
                "python3 -m venv /tmp/df-gen && . /tmp/df-gen/bin/activate",
                install,
                # GitLab's OIDC token, exchanged through Workload Identity Federation: no key.
                'echo "$GCP_ID_TOKEN" > "$CI_BUILDS_DIR/.gcp-oidc-token"',
                'gcloud iam workload-identity-pools create-cred-config "$DF_GEN_WIF_PROVIDER" '
                '--credential-source-file="$CI_BUILDS_DIR/.gcp-oidc-token" '
                '--output-file="$CI_BUILDS_DIR/.gcp-credentials.json"',
                'export GOOGLE_APPLICATION_CREDENTIALS="$CI_BUILDS_DIR/.gcp-credentials.json"',
                'gcloud auth login --cred-file="$GOOGLE_APPLICATION_CREDENTIALS" --quiet',
            ],
        },
    }
    for env in envs:
        artifacts = {"when": "always", "paths": [f"{REPORTS}/{env.slug}.md", f"{REPORTS}/{env.slug}.json"]}
        group = f"df-gen-{env.slug}"
        document[f"plan:{env.slug}"] = {
            "extends": ".df-gen", "stage": "plan", "resource_group": group, "rules": [{"if": mr}],
            "script": [
                validate_script(env),
                dags_check_script(env, "$CI_MERGE_REQUEST_DIFF_BASE_SHA"),
                plan_script(env, "$CI_MERGE_REQUEST_DIFF_BASE_SHA"),
                save_plans_script(env),
            ],
            "after_script": [
                ". /tmp/df-gen/bin/activate",
                f"if [ -f {REPORTS}/{env.slug}.json ]; then df-gen ci comment --provider gitlab "
                f"--report {REPORTS}/{env.slug}.json --run-url \"$CI_PIPELINE_URL\"; fi",
            ],
            "artifacts": {**artifacts, "expire_in": "2 weeks"},
        }
        before, after = chain(env, promote)
        apply_job: dict[str, Any] = {
            "extends": ".df-gen", "stage": "apply", "resource_group": group,
            "rules": [{"if": main, "when": "manual"}],  # the approval; protect the environment to say who
            "environment": {"name": env.name, "deployment_tier": "production"},
            "script": [fetch_plans_script(env), apply_script(env, "$CI_COMMIT_BEFORE_SHA")],
            "after_script": [drop_plans_script(env)],
            "artifacts": {**artifacts, "expire_in": "3 months"},
        }
        if after is not None:  # the promotion gate: the changed pipelines run here first
            apply_job["script"].append(dags_run_script(env, "$CI_COMMIT_BEFORE_SHA"))
        if before is not None:  # offered only once the previous environment's job succeeded
            apply_job["needs"] = [f"apply:{before.slug}"]
        document[f"apply:{env.slug}"] = apply_job
        document[f"drift:{env.slug}"] = {
            "extends": ".df-gen", "stage": "drift", "resource_group": group, "rules": [{"if": schedule}],
            "script": [drift_script(env)],
            "artifacts": {**artifacts, "expire_in": "1 month"},
        }
    return {".gitlab-ci.yml": dump(document, args)}
