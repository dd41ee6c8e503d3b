"""Benchmark of the sandbox provider: plugin startup and a 200-resource apply.

Run: ``.venv/bin/python benchmarks/sandbox_bench.py [--resources 200] [--schema PATH]``.

Prints:
- provider startup: time from process start to the go-plugin handshake line (median of
  several runs, warm cache), with a breakdown of the main costs measured in-process;
- embedded Terraform ``init``, ``apply`` of N resources, the no-change ``plan`` and
  ``destroy`` against the sandbox, wall-clock.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator import engine  # noqa: E402
from generator.sandbox import schema_loader  # noqa: E402
from generator.sandbox.run import sandbox_env  # noqa: E402
from generator.sandbox.server import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE  # noqa: E402


def startup_once(schema: Path) -> float:
    """Seconds from spawning the plugin to its handshake line."""
    env = dict(
        os.environ,
        DF_GEN_SANDBOX_SCHEMA=str(schema),
        PLUGIN_PROTOCOL_VERSIONS="6",
        PLUGIN_CLIENT_CERT="bench",
        **{MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE},
    )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator.sandbox"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.kill()
    proc.wait()
    if not line.startswith(b"1|6|"):
        raise SystemExit(f"bad handshake: {line!r}")
    return elapsed


def breakdown(schema: Path) -> dict[str, float]:
    """In-process costs of the startup steps, in seconds (imports measured in a child)."""
    code = (
        "import time;t=time.perf_counter();import grpc;a=time.perf_counter();"
        "from generator.sandbox.proto import tfplugin6_pb2;b=time.perf_counter();"
        "import msgpack;c=time.perf_counter();print(a-t,b-a,c-b)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout.split()
    bare = subprocess.run([sys.executable, "-c", "pass"], capture_output=True, cwd=REPO, check=True)
    del bare
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    loaded = schema_loader.load(schema)
    json_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    schema_loader.build_response(loaded)
    convert = time.perf_counter() - t0
    return {
        "python interpreter start": python_start,
        "import grpc": float(out[0]),
        "import protobuf messages": float(out[1]),
        "import msgpack": float(out[2]),
        "parse schema JSON": json_load,
        "build protobuf schema (cached after first run)": convert,
    }


def generate_config(n: int) -> str:
    """A configuration of ``n`` resources in groups of five that reference each other."""
    parts = [
        'terraform {\n  required_providers {\n    google = { source = "hashicorp/google" }\n'
        '  }\n}\nprovider "google" {\n  project = "bench-project"\n  region = "europe-west1"\n}\n'
    ]
    groups = max(1, n // 5)
    parts.append(f'locals {{\n  ids = [for i in range({groups}) : format("%03d", i)]\n}}\n')
    parts.append(
        """
resource "google_service_account" "sa" {
  for_each   = toset(local.ids)
  account_id = "bench-sa-${each.key}"
}
resource "google_storage_bucket" "b" {
  for_each = toset(local.ids)
  name     = "bench-bucket-${each.key}"
  location = "EU"
  labels   = { n = each.key }
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = 30 }
  }
}
resource "google_storage_bucket_iam_member" "m" {
  for_each = toset(local.ids)
  bucket   = google_storage_bucket.b[each.key].name
  role     = "roles/storage.objectViewer"
  member   = google_service_account.sa[each.key].member
}
resource "google_bigquery_dataset" "d" {
  for_each   = toset(local.ids)
  dataset_id = "bench_ds_${each.key}"
  location   = "EU"
}
resource "google_pubsub_topic" "t" {
  for_each = toset(local.ids)
  name     = "bench-topic-${each.key}"
}
"""
    )
    return "".join(parts)


def timed(sb_engine: engine.Engine, args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    code, out, err = sb_engine.run(args, cwd=cwd, env=env)
    elapsed = time.perf_counter() - start
    if code not in (0,):
        raise SystemExit(f"terraform {' '.join(args)} failed ({code}):\n{out}\n{err}")
    return elapsed


def provider_totals(path: Path) -> dict[str, Any]:
    """Sum the per-RPC timings the provider processes appended to ``path``."""
    totals: dict[str, Any] = {"_processes": 0}
    if not path.exists():
        return totals
    for line in path.read_text().splitlines():
        record = json.loads(line)
        totals["_processes"] += 1
        for rpc, (count, seconds) in record["rpcs"].items():
            entry = totals.setdefault(rpc, [0, 0.0])
            entry[0] += count
            entry[1] += seconds
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=200)
    parser.add_argument("--schema", type=Path, default=schema_loader.schema_path())
    parser.add_argument("--startup-runs", type=int, default=7)
    opts = parser.parse_args()

    startup_once(opts.schema)  # warm the schema and certificate caches
    runs = [startup_once(opts.schema) for _ in range(opts.startup_runs)]
    print(
        f"provider startup to handshake: median {statistics.median(runs) * 1000:.0f} ms "
        f"(min {min(runs) * 1000:.0f}, max {max(runs) * 1000:.0f}, {len(runs)} runs)"
    )
    for step, seconds in breakdown(opts.schema).items():
        print(f"  {step:<48} {seconds * 1000:6.1f} ms")

    eng = engine.resolve_engine("embedded")
    with tempfile.TemporaryDirectory(prefix="df-gen-bench-") as tmp:
        work = Path(tmp)
        (work / "main.tf").write_text(generate_config(opts.resources))
        env = dict(os.environ, TF_IN_AUTOMATION="1")
        env.update(sandbox_env(work / ".sandbox", schema=opts.schema))
        timing_file = work / "timings.jsonl"
        env["DF_GEN_SANDBOX_TIMING"] = str(timing_file)
        steps = [
            ("init", ["init", "-input=false", "-no-color"]),
            (f"apply ({opts.resources} resources)", ["apply", "-auto-approve", "-input=false", "-no-color"]),
            ("plan (no changes)", ["plan", "-detailed-exitcode", "-input=false", "-no-color"]),
            ("destroy", ["destroy", "-auto-approve", "-input=false", "-no-color"]),
        ]
        results = []
        for name, args in steps:
            seconds = timed(eng, args, work, env)
            results.append((name, seconds, provider_totals(timing_file)))
            timing_file.unlink(missing_ok=True)
    for name, seconds, totals in results:
        procs = totals.pop("_processes", 0)
        inside = sum(v[1] for v in totals.values())
        calls = sum(v[0] for v in totals.values())
        print(
            f"terraform {name:<28} {seconds:6.2f} s  (provider processes: {procs}, "
            f"{calls} RPCs, {inside:5.2f} s inside handlers summed over threads)"
        )
        for rpc, (count, rpc_s) in sorted(totals.items(), key=lambda kv: -kv[1][1])[:3]:
            print(f"    {rpc:<26} {count:5d} calls {rpc_s:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
