"""The access df-gen's model passes to the environment module, as Markdown for its README.

Rendered by calling ``generator/access.py`` itself (not by reading its text), so the table
is what the model computes: personas' project roles by layer with every descriptor option
off, what each option adds, the task accounts' roles, who may impersonate them, which
policy tags they read, and what the security persona gets on the exported logs. Used by
``tools/iamdoc.py`` between ``<!-- BEGIN ACCESSDOC -->`` markers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator import access, naming

SCHEMA = Path(access.__file__).parent / "schemas" / "environment.schema.json"


def options() -> list[str]:
    """The yes/no choices of the descriptor's ``access`` block, from its JSON Schema."""
    props = json.loads(SCHEMA.read_text(encoding="utf-8"))["properties"]["access"]["properties"]
    return sorted(k for k, v in props.items() if v.get("type") == "boolean")


def _env(options: dict[str, bool]) -> dict[str, Any]:
    """An environment descriptor with every persona staffed and the given options."""
    principals = {p: [f"group:{p}@example.com"] for p in ("data_engineers", "analysts", "security")}
    return {"principals": principals, "access": options}


def _roles(roles: list[str]) -> str:
    return "<br>".join(f"`{r}`" for r in roles)


def render() -> str:
    """The Markdown between the markers (markers included)."""
    from iamdoc import ACCESS_BEGIN, ACCESS_END  # tools/ is not a package

    base = access.persona_roles(_env({}))
    header = "| who | " + " | ".join(naming.LAYERS) + " |"
    lines = [ACCESS_BEGIN, "", header, "|---" * (len(naming.LAYERS) + 1) + "|"]
    for persona, layers in base.items():
        cells = [_roles(layers.get(layer, [])) for layer in naming.LAYERS]
        lines.append(f"| persona `{persona}` | " + " | ".join(cells) + " |")
    tasks = access.task_roles()
    for task, layers in tasks.items():
        cells = [_roles(layers.get(layer, [])) for layer in naming.LAYERS]
        lines.append(f"| task account `{task}` | " + " | ".join(cells) + " |")
    lines += ["", "Descriptor options (`access.*`, off by default) add:", ""]
    for option in options():
        more = access.persona_roles(_env({option: True}))
        added = [
            f"`{r}` to `{persona}` on {layer}"
            for persona, layers in more.items()
            for layer, roles in layers.items()
            for r in roles
            if r not in base.get(persona, {}).get(layer, [])
        ]
        lines.append(f"- `access.{option}`: " + "; ".join(added) + ".")
    chosen = access.impersonators({"access": {"impersonation": {t: ["<access.impersonation>"] for t in naming.TASKS}}})
    who = sorted({m for members in chosen.values() for m in members} - {"<access.impersonation>"})
    lines.append(
        "- `access.impersonation.<task>`: `roles/iam.serviceAccountTokenCreator` on that task account "
        f"(besides {', '.join(f'`{w}`' for w in who)}, which always has it)."
    )
    lines += ["", "Policy tags (`roles/datacatalog.categoryFineGrainedReader`):", ""]
    personas = ", ".join(f"`{p}`" for p in access.TAG_READER_PERSONAS)
    lines.append(f"- every tag: the persona {personas}, and the tag's own `readers`;")
    lines.append("- each task account: the tags of the columns its tasks' SQL reads (declared in the pipeline "
                 "code's `tasks.yaml`, read with sqlglot; `df-gen access` lists them);")
    for task, layers in access.TASK_READS.items():
        if layers:
            lines.append(f"- for a pipeline whose tasks df-gen cannot read (no `tasks.yaml`, or SQL sqlglot cannot "
                         f"parse), task account `{task}`: each tag used by its tables in {', '.join(layers)};")
    lines[-1] = lines[-1][:-1] + "."
    lines += ["", "Masked policy tags (`roles/bigquerydatapolicy.maskedReader` on the tag's data masking policy):", ""]
    masked = _env({})
    masked["policy_tags"] = {"tags": {"t": {"masking": "SHA256"}}}
    who = ", ".join(f"`{p}`" for p in access.masked_readers(masked, "t"))
    lines.append(f"- each tag with `masking`: the personas {who}, unless the tag's `readers` list all their members.")
    lines += ["", "Exported audit logs (the log sink's destination):", ""]
    env = _env({})
    persona_of = {m: p for p, members in env["principals"].items() for m in members}
    for destination in access.LOG_READER_ROLES:
        for role, members in access.log_readers(env, destination).items():
            names = ", ".join(f"`{persona_of[m]}`" for m in members)
            lines.append(f"- `{destination}`: `{role}` to the persona {names} on the logs {_KIND[destination]}.")
    lines += ["", ACCESS_END]
    return "\n".join(lines)


_KIND = {"bigquery": "dataset", "storage": "bucket"}
