"""Cloud Build: one build configuration per trigger (pull request, apply, drift)."""

from __future__ import annotations

import re
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

_PYTHON = "python:3.12"
_GCLOUD = "gcr.io/google.com/cloudsdktool/cloud-sdk:slim"
_VENV = "/workspace/.df-gen-venv"


def _cb_step(step_id: str, script: str, image: str = _PYTHON, **extra: Any) -> dict[str, Any]:
    # Cloud Build substitutes $NAME itself: shell variables are written $$NAME.
    script = re.sub(r"\$(?=[a-z(])", "$$", script)
    prefix = f". {_VENV}/bin/activate\n" if image == _PYTHON and step_id != "install" else ""
    return {"id": step_id, "name": image, "entrypoint": "bash", "args": ["-ceu", prefix + script], **extra}


def _cb_install(install: str) -> dict[str, Any]:
    return _cb_step("install", f"python -m venv {_VENV}\n. {_VENV}/bin/activate\n{install}\n")


def _cb_gcloud_key(env: Env) -> str:
    # The cloud-sdk image has no df-gen: the Python step writes the key to a file first.
    return f"{REPORTS}/{env.slug}.plan-key"


def cloudbuild(envs: Sequence[Env], install: str, args: str, branch: str,
               promote: Sequence[Env] = ()) -> dict[str, str]:
    """``cloudbuild/df-gen-{pull-request,apply,drift}.yaml`` (one trigger each; see the README).

    The branch is a trigger setting; the files do not name it. With promotion, every
    environment after the first has its own ``cloudbuild/df-gen-apply-ENV.yaml`` behind its
    own trigger (with approval), which the previous environment's build starts once the
    changed DAGs ran there: Cloud Build has no dependencies between builds.
    """
    del branch
    run_url = "https://console.cloud.google.com/cloud-build/builds;region=${LOCATION}/${BUILD_ID}?project=${PROJECT_ID}"
    pr_steps = [_cb_install(install),
                _cb_step("fetch-base", "git fetch --no-tags origin \"${_BASE_BRANCH}\"\n")]
    apply_steps = [_cb_install(install)]
    promoted: dict[str, list[dict[str, Any]]] = {}
    drift_steps = [_cb_install(install)]
    for env in envs:
        before, after = chain(env, promote)
        key_file = _cb_gcloud_key(env)
        pr_steps += [
            _cb_step(f"validate-{env.slug}", validate_script(env)),
            _cb_step(f"dags-check-{env.slug}", dags_check_script(env, "FETCH_HEAD")),
            _cb_step(f"plan-{env.slug}", plan_script(env, "FETCH_HEAD")
                     + f"df-gen ci plan-key {env.path} > {key_file}\n"),
            _cb_step(f"comment-{env.slug}",
                     f"df-gen ci comment --provider github --repository \"$REPO_FULL_NAME\" "
                     f"--number \"$_PR_NUMBER\" --report {REPORTS}/{env.slug}.json --run-url \"{run_url}\"\n",
                     secretEnv=["GITHUB_TOKEN"]),
            _cb_step(f"save-plans-{env.slug}", save_plans_script(env).replace(
                f"$(df-gen ci plan-key {env.path})", f"$(cat {key_file})"), image=_GCLOUD),
        ]
        steps = [
            _cb_step(f"key-{env.slug}", f"mkdir -p {REPORTS}\ndf-gen ci plan-key {env.path} > {key_file}\n"),
            _cb_step(f"fetch-plans-{env.slug}", fetch_plans_script(env).replace(
                f"$(df-gen ci plan-key {env.path})", f"$(cat {key_file})"), image=_GCLOUD),
            _cb_step(f"apply-{env.slug}", apply_script(env, "HEAD~1")),
            _cb_step(f"drop-plans-{env.slug}", drop_plans_script(env).replace(
                f"$(df-gen ci plan-key {env.path})", f"$(cat {key_file})"), image=_GCLOUD),
        ]
        if after is not None:  # the promotion gate, then the next environment's trigger
            steps += [
                _cb_step(f"dags-run-{env.slug}", dags_run_script(env, "HEAD~1")),
                _cb_step(f"promote-{after.slug}",
                         f"gcloud builds triggers run df-gen-apply-{after.slug} --region=\"${{LOCATION}}\" "
                         f"--sha=\"${{COMMIT_SHA}}\"\n", image=_GCLOUD),
            ]
        if before is None:
            apply_steps += steps
        else:
            promoted[f"cloudbuild/df-gen-apply-{env.slug}.yaml"] = [_cb_install(install), *steps]
        # Artifacts are uploaded only after a successful build: a drifting run prints its report in the log.
        drift_steps.append(_cb_step(f"drift-{env.slug}", "set +e\n" + drift_script(env)
                                    + f"code=$?\ncat {REPORTS}/{env.slug}.md 2>/dev/null\nexit $code\n"))
    # Cloud Build runs steps in order; a step waits for the one before it (no waitFor).
    secrets = {"secretManager": [{"versionName": "projects/${PROJECT_ID}/secrets/df-gen-github-token/versions/latest",
                                  "env": "GITHUB_TOKEN"}]}
    options = {"logging": "CLOUD_LOGGING_ONLY"}
    artifacts = {"objects": {"location": "gs://${_REPORTS_BUCKET}/df-gen-reports/${BUILD_ID}/",
                             "paths": [f"{REPORTS}/*.md", f"{REPORTS}/*.json"]}}
    common = {"artifacts": artifacts, "options": options, "timeout": "7200s",
              "substitutions": {"_REPORTS_BUCKET": envs[0].bucket}}
    return {
        "cloudbuild/df-gen-pull-request.yaml": dump({"steps": pr_steps, "availableSecrets": secrets, **common}, args),
        "cloudbuild/df-gen-apply.yaml": dump({"steps": apply_steps, **common}, args),
        **{name: dump({"steps": steps, **common}, args) for name, steps in sorted(promoted.items())},
        "cloudbuild/df-gen-drift.yaml": dump({"steps": drift_steps, **common}, args),
    }
