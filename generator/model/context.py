"""Names and settings every stack of one environment shares."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from generator import naming, pipeline_code
from generator.access import TASK_PROJECT
from generator.analysis.inventory import analyser_for
from generator.defaults import default
from generator.model.stack import Backend
from generator.validate import Descriptors


class Context:
    """Names and settings shared by every stack of one environment."""

    def __init__(self, descriptors: Descriptors) -> None:
        env = descriptors.environment.data
        self.descriptors = descriptors
        self.env = env
        # SQL analyses (cached across runs under ENV_DIR/.df-gen/cache/).
        self.analyser = analyser_for(descriptors)
        self._sources: dict[str, str] = {}
        # Each pipeline code directory's files, listed and guarded once (pipeline_code.scan).
        self.code_scans: dict[Path, pipeline_code.Scan] = {}
        # (id of a parsed table schema, its policy tags) -> (the schema, its schema file text).
        self.schema_texts: dict[tuple[int, tuple[tuple[str, str], ...]], tuple[Any, str]] = {}
        # Each data source's pipelines (keys, sorted): its stack grants their agents.
        self.pipelines_of = descriptors.pipelines_of
        self.prefix: str = env["prefix"]
        self.region: str = env["region"]
        self.location: str = env["location"]
        self.projects = {
            layer: naming.project_id(self.prefix, layer, env["projects"][layer].get("existing"))
            for layer in naming.LAYERS
        }
        self.labels = dict(env.get("labels", {}))
        terraform = env["terraform"]
        self.state_bucket = terraform["state_bucket"]
        self.state_base = terraform.get("state_prefix", descriptors.env_dir.resolve().name)
        self.automation = terraform["automation_service_account"]
        self.modules = terraform.get("modules", default("environment", "terraform.modules"))
        kms = env.get("kms", {})
        self.kms_keys = {
            service: naming.kms_key_id(self.projects["orchestration"], self.prefix, key["location"], service)
            for service, key in kms.get("keys", {}).items()
        }
        self.task_emails = {
            task: naming.service_account_email(naming.task_account_id(task), self.projects[TASK_PROJECT[task]])
            for task in naming.TASKS
        }

    def backend(self, stack: str) -> Backend:
        """The state location of ``stack``."""
        return Backend(self.state_bucket, naming.state_prefix(self.state_base, stack), self.automation)

    def source(self, kind: str) -> str:
        """The ``source`` of a stack's module call: a git URL or a path from ``stacks/<name>/``."""
        if kind not in self._sources:  # every stack of a kind asks
            self._sources[kind] = self._source(kind)
        return self._sources[kind]

    def _source(self, kind: str) -> str:
        if "git" in self.modules:
            git = self.modules["git"]
            url = git["url"] if git["url"].startswith("git::") else f"git::{git['url']}"
            return f"{url}//modules/{kind}?ref={git['ref']}"
        # Stacks live two levels below the environment directory (stacks/<name>/).
        return (PurePosixPath("../..") / self.modules["path"] / kind).as_posix()
