"""GitHub Actions: the pull-request, apply and drift workflows."""

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


def _gh_setup(install: str) -> list[dict[str, Any]]:
    return [
        {"uses": "actions/checkout@v5", "with": {"fetch-depth": 0}},
        {"uses": "actions/setup-python@v6", "with": {"python-version": "3.12"}},
        {"name": "Install df-gen", "run": install},
        {"name": "Google Cloud credentials (Workload Identity Federation, no key)",
         "uses": "google-github-actions/auth@v3",
         "with": {"workload_identity_provider": "${{ vars.DF_GEN_WIF_PROVIDER }}"}},
        {"uses": "google-github-actions/setup-gcloud@v3"},
    ]


def _gh_artifact(env: Env, days: int) -> dict[str, Any]:
    return {"name": "Keep the report", "if": "always()", "uses": "actions/upload-artifact@v6",
            "with": {"name": f"df-gen-report-{env.slug}", "path": f"{REPORTS}/{env.slug}.*",
                     "retention-days": days, "if-no-files-found": "ignore"}}


def _gh_summary(env: Env) -> dict[str, Any]:
    report = f"{REPORTS}/{env.slug}.md"
    return {"name": "Report in the run summary", "if": "always()",
            "run": f"if [ -f {report} ]; then cat {report} >> \"$GITHUB_STEP_SUMMARY\"; fi\n"}


def _gh_job(env: Env, steps: list[dict[str, Any]], permissions: dict[str, str]) -> dict[str, Any]:
    return {"runs-on": "ubuntu-latest", "permissions": permissions, "timeout-minutes": 120,
            "concurrency": {"group": f"df-gen-{env.slug}", "cancel-in-progress": False}, "steps": steps}




def github(envs: Sequence[Env], install: str, args: str, branch: str,
           promote: Sequence[Env] = ()) -> dict[str, str]:
    """``.github/workflows/df-gen-{pull-request,apply,drift}.yml``."""
    pr_jobs, apply_jobs, drift_jobs = {}, {}, {}
    for env in envs:
        before, after = chain(env, promote)
        report_json = f"{REPORTS}/{env.slug}.json"
        pr_jobs[f"plan-{env.slug}"] = _gh_job(env, [
            *_gh_setup(install),
            {"name": "Validate and check the rendered stacks", "run": validate_script(env)},
            {"name": "Check the DAGs in the environment's Airflow (when pipeline code changed)",
             "env": {"BASE": "${{ github.event.pull_request.base.sha }}"}, "run": dags_check_script(env, "$BASE")},
            {"name": "Plan the changed stacks", "env": {"BASE": "${{ github.event.pull_request.base.sha }}"},
             "run": plan_script(env, "$BASE")},
            {"name": "Post or update the plan comment",
             "if": f"always() && hashFiles('{report_json}') != ''",
             "env": {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}",
                     "RUN_URL": "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}"},
             "run": f"df-gen ci comment --provider github --report {report_json} --run-url \"$RUN_URL\"\n"},
            {"name": "Keep the saved plans for the apply after the merge (GCS, automation account only)",
             "run": save_plans_script(env)},
            _gh_summary(env),
            _gh_artifact(env, 14),
        ], {"contents": "read", "id-token": "write", "pull-requests": "write"})
        apply_job = _gh_job(env, [
            *_gh_setup(install),
            {"name": "Fetch the pull request's saved plans", "run": fetch_plans_script(env)},
            {"name": "Apply the changed stacks",
             "env": {"BEFORE": "${{ github.event.before }}"},
             "run": apply_script(env, "$BEFORE")},
            {"name": "Drop the spent plans", "if": "always()", "run": drop_plans_script(env)},
            _gh_summary(env),
            _gh_artifact(env, 90),
        ], {"contents": "read", "id-token": "write"})
        if after is not None:  # the promotion gate: the changed pipelines run here first
            apply_job["steps"].append({
                "name": f"Run the changed pipelines' DAGs end to end before {after.name}",
                "env": {"BEFORE": "${{ github.event.before }}"}, "run": dags_run_script(env, "$BEFORE")})
        if before is not None:
            apply_job["needs"] = f"apply-{before.slug}"
        apply_job["environment"] = env.name  # required reviewers: the environment's protection rules
        apply_jobs[f"apply-{env.slug}"] = apply_job
        drift_jobs[f"drift-{env.slug}"] = _gh_job(env, [
            *_gh_setup(install),
            {"name": "Plan every stack (exit 2: drift)", "run": drift_script(env)},
            _gh_summary(env),
            _gh_artifact(env, 30),
        ], {"contents": "read", "id-token": "write"})
    return {
        ".github/workflows/df-gen-pull-request.yml": dump(
            {"name": "df-gen plan", "on": {"pull_request": {}}, "jobs": pr_jobs}, args),
        ".github/workflows/df-gen-apply.yml": dump(
            {"name": "df-gen apply", "on": {"push": {"branches": [branch]}}, "jobs": apply_jobs}, args),
        ".github/workflows/df-gen-drift.yml": dump(
            {"name": "df-gen drift", "on": {"schedule": [{"cron": "17 5 * * *"}], "workflow_dispatch": {}},
             "jobs": drift_jobs}, args),
    }
