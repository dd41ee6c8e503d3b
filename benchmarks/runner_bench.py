"""Benchmark of the runner against the sandbox: the demo and a synthetic 50-stack environment.

Run: ``.venv/bin/python benchmarks/runner_bench.py [--datasources 9] [--pipelines 40]
[--parallelism 1 4] [--skip-demo] [--skip-synthetic]``.

For each environment and each ``--parallelism`` it times, on a fresh copy:

- ``apply``: the full first apply (every stack planned and applied, in order);
- ``plan``: a no-change plan right after (every stack skipped: Terraform is not run);
- ``plan --all``: every stack planned by Terraform (no changes);
- ``1 change``: one pipeline's descriptor edited (a table description), re-rendered, then ``apply`` (only that
  stack is planned and applied).

The goal (issue 6): a no-change plan of 50 stacks under 2 s and at least 10x faster than
``plan --all``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import synthetic  # noqa: E402

from generator import runner  # noqa: E402
from generator.render import render  # noqa: E402


def demo_env(base: Path) -> tuple[Path, Path]:
    """A copy of the demo; returns it and the pipeline descriptor to edit."""
    shutil.copytree(REPO / "environments" / "demo", base / "environments" / "demo",
                    ignore=shutil.ignore_patterns(".df-gen"))
    shutil.copytree(REPO / "pipelines", base / "pipelines")
    shutil.copytree(REPO / "modules", base / "modules", ignore=shutil.ignore_patterns(".terraform*"))
    env_dir = base / "environments" / "demo"
    render(env_dir)
    return env_dir, env_dir / "pipelines" / "store-daily.yaml"


def synthetic_env(datasources: int, pipelines: int) -> Callable[[Path], tuple[Path, Path]]:
    def make(base: Path) -> tuple[Path, Path]:
        env_dir = base / "environments" / "synth"
        synthetic.write(env_dir, datasources, pipelines)
        shutil.copytree(REPO / "modules", base / "modules", ignore=shutil.ignore_patterns(".terraform*"))
        render(env_dir)
        return env_dir, env_dir / "pipelines" / "p0.yaml"

    return make


def timed(func: Callable[[], runner.RunReport], expect: set[str]) -> tuple[float, runner.RunReport]:
    started = time.perf_counter()
    report = func()
    seconds = time.perf_counter() - started
    statuses = {r.status for r in report.results}
    if not statuses <= expect:
        lines = "\n".join(report.summary_lines())
        raise SystemExit(f"unexpected statuses {sorted(statuses)} (expected {sorted(expect)}):\n{lines}")
    return seconds, report


def scenario(label: str, make: Callable[[Path], tuple[Path, Path]], parallelism: int, root: Path) -> dict[str, float]:
    env_dir, pipeline = make(root / f"{label}-p{parallelism}")
    options = runner.RunOptions(env_dir, sandbox=True, auto_approve=True, parallelism=parallelism, quiet=True)
    figures: dict[str, float] = {}
    figures["stacks"] = len(render_report(env_dir))
    figures["apply"], _ = timed(lambda: runner.apply(options), {"applied"})
    figures["plan"], _ = timed(lambda: runner.plan(options), {"skipped"})
    all_options = runner.RunOptions(env_dir, sandbox=True, parallelism=parallelism, all_stacks=True, quiet=True)
    figures["plan --all"], _ = timed(lambda: runner.plan(all_options), {"no-changes"})
    edit_pipeline(pipeline)
    render(env_dir)
    figures["1 change"], report = timed(lambda: runner.apply(options), {"skipped", "applied"})
    applied = [r.name for r in report.results if r.status == "applied"]
    if len(applied) != 1:
        raise SystemExit(f"one pipeline changed but these stacks were applied: {applied}")
    return figures


def edit_pipeline(path: Path) -> None:
    """A change to one pipeline's descriptor: a new description on one of its tables."""
    data = yaml.safe_load(path.read_text())
    layer = next(iter(data["tables"].values()))
    next(iter(layer.values()))["description"] = "edited by the benchmark"
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def render_report(env_dir: Path) -> list[str]:
    return sorted(p.name for p in (env_dir / "stacks").iterdir() if p.is_dir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasources", type=int, default=9)
    parser.add_argument("--pipelines", type=int, default=40)
    parser.add_argument("--parallelism", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    environments: list[tuple[str, Callable[[Path], tuple[Path, Path]]]] = []
    if not args.skip_demo:
        environments.append(("demo", demo_env))
    if not args.skip_synthetic:
        environments.append(("synthetic", synthetic_env(args.datasources, args.pipelines)))
    columns = ["apply", "plan", "plan --all", "1 change"]
    print(f"{'environment':<12} {'stacks':>6} {'par':>3} " + " ".join(f"{c:>11}" for c in columns) + "  all/plan")
    with tempfile.TemporaryDirectory(prefix="df-gen-runner-bench-") as tmp:
        for label, make in environments:
            for parallelism in args.parallelism:
                figures = scenario(label, make, parallelism, Path(tmp))
                cells = " ".join(f"{figures[c]:>10.2f}s" for c in columns)
                ratio = figures["plan --all"] / figures["plan"]
                print(f"{label:<12} {int(figures['stacks']):>6} {parallelism:>3} {cells}  {ratio:>7.0f}x", flush=True)


if __name__ == "__main__":
    main()
