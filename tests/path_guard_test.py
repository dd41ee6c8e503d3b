"""The path guard (generator/fsutil.py): nothing is read, written or deleted outside its place.

Descriptors stay inside ENV_DIR, schema and SQL files inside the pipeline's code directory,
manifest entries inside stacks/; special files are refused without blocking; pipeline code
templates run in Jinja's sandbox and fail with one line naming template and line.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.errors import DfGenError
from generator.render import MANIFEST, load_model, render
from generator.validate import validate

BASE = Path(__file__).parent / "data" / "descriptors" / "base"
SECRET = "root:$6$secret-hash-value:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n"


@pytest.fixture
def env_dir(tmp_path: Path, monkeypatch) -> Path:
    """The base test environment in tmp_path/env, the working directory."""
    shutil.copytree(BASE, tmp_path / "env")
    monkeypatch.chdir(tmp_path / "env")
    return Path(".")


def _errors(env: Path) -> list[str]:
    with pytest.raises(DfGenError) as raised:
        validate(env)
    return raised.value.lines()


def test_descriptor_link_leaving_env_is_refused_and_never_echoed(env_dir, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text(SECRET)
    (env_dir / "datasources" / "shadow.yaml").symlink_to(secret)
    lines = _errors(env_dir)
    assert lines == ["datasources/shadow.yaml: error: is a link leaving the environment directory; refused"]


def test_link_to_a_valid_descriptor_outside_is_refused(env_dir, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("apiVersion: dfgen/v1\nkind: DataSource\ndatasets:\n  landing: {}\n")
    (env_dir / "datasources" / "outside.yaml").symlink_to(outside)
    assert _errors(env_dir) == [
        "datasources/outside.yaml: error: is a link leaving the environment directory; refused"
    ]


def test_a_descriptor_folder_linked_outside_refuses_each_of_its_files(env_dir, tmp_path):
    # Files in a folder that is inside are not walked link by link; a folder that is not
    # inside sends each of its files through the whole check.
    shutil.move(env_dir / "datasources", tmp_path / "elsewhere")
    (env_dir / "datasources").symlink_to(tmp_path / "elsewhere")
    assert _errors(env_dir)[0] == "datasources/sales.yaml: error: is outside the environment directory; refused"


def test_link_inside_env_is_followed(env_dir):
    (env_dir / "datasources" / "copy.yaml").symlink_to(Path("sales.yaml"))
    assert sorted(validate(env_dir).datasources) == ["copy", "sales"]


def test_non_descriptor_content_is_not_echoed(env_dir):
    (env_dir / "datasources" / "notes.yaml").write_text(SECRET)
    lines = _errors(env_dir)
    assert lines == ["datasources/notes.yaml:1:1: error: not a df-gen descriptor (expected 'apiVersion: dfgen/v1' "
                     "and 'kind: DataSource' at the top)"]
    assert "secret" not in "\n".join(lines)


def test_fifo_is_refused_without_hanging(env_dir):
    os.mkfifo(env_dir / "datasources" / "fifo.yaml")
    result: list[list[str]] = []
    worker = threading.Thread(target=lambda: result.append(_errors(env_dir)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert result == [["datasources/fifo.yaml: error: is a FIFO, not a regular file; refused"]]


def _pipeline(env_dir: Path, **changes) -> None:
    path = env_dir / "pipelines" / "sales-daily.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data))


def test_schema_and_sql_paths_stay_inside_the_code_directory(env_dir, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.json").write_text('[{"name": "secret_col", "type": "STRING"}]')
    (tmp_path / "outside" / "secret.sql").write_text("SELECT 'TOP SECRET' AS x\n")
    code = env_dir / "code" / "sales-daily"
    (code / "schemas" / "linked.json").symlink_to(tmp_path / "outside" / "secret.json")
    _pipeline(env_dir,
              tables={"landing": {"trav": {"schema": "../../../outside/secret.json"},
                                  "linked": {"schema": "schemas/linked.json"}}},
              views={"vtrav": {"layer": "exposure", "sql": "../../../outside/secret.sql"}},
              data_quality={})
    assert _errors(env_dir) == [
        "pipelines/sales-daily.yaml:13:15: error: tables.landing.linked.schema: schemas/linked.json is a link "
        "leaving the pipeline's code directory; refused (hint: keep schema and SQL files inside code/sales-daily)",
        "pipelines/sales-daily.yaml:15:15: error: tables.landing.trav.schema: ../../../outside/secret.json is "
        "outside the pipeline's code directory; refused (hint: keep schema and SQL files inside code/sales-daily)",
        "pipelines/sales-daily.yaml:19:10: error: views.vtrav.sql: ../../../outside/secret.sql is outside the "
        "pipeline's code directory; refused (hint: keep schema and SQL files inside code/sales-daily)",
    ]


def test_each_code_path_is_checked_once_per_validate_and_again_by_the_next(env_dir, tmp_path, monkeypatch):
    """Pipelines sharing a code directory share the answers of one validate, not of the one
    before: a schema replaced by a link leaving the code directory is refused next time."""
    import generator.validate.pipeline as rules

    shutil.copy(env_dir / "pipelines" / "sales-daily.yaml", env_dir / "pipelines" / "sales-weekly.yaml")
    asked: list[tuple[str, str]] = []
    real = rules.outside_problem

    def counting(root: Path, path: Path, what: str) -> str | None:
        asked.append((str(root), str(path)))
        return real(root, path, what)

    monkeypatch.setattr(rules, "outside_problem", counting)
    first = _errors(env_dir)  # the two pipelines' tables collide; their code paths are fine
    assert not any("leaving" in line or "outside" in line for line in first), first
    assert asked and len(asked) == len(set(asked))  # the second pipeline asked nothing again
    schema = env_dir / "code" / "sales-daily" / "schemas" / "events.json"
    (tmp_path / "elsewhere.json").write_text(schema.read_text())
    schema.unlink()
    schema.symlink_to(tmp_path / "elsewhere.json")
    assert any("schemas/events.json is a link leaving the pipeline's code directory" in line
               for line in _errors(env_dir))


def test_sql_file_linked_from_outside_is_refused_at_render(env_dir, tmp_path):
    (tmp_path / "secret.sql").write_text("SELECT 'TOP SECRET' AS x\n")
    (env_dir / "code" / "sales-daily" / "sql").mkdir()
    (env_dir / "code" / "sales-daily" / "sql" / "leak.sql").symlink_to(tmp_path / "secret.sql")
    with pytest.raises(DfGenError) as raised:
        load_model(env_dir)
    assert raised.value.lines() == [
        "code/sales-daily/sql/leak.sql: error: is a link leaving the pipeline's code directory; refused"
    ]


@pytest.mark.parametrize("entry", ["../../../victim.txt", "/tmp/victim.txt", "sales/../../victim.txt"])
@pytest.mark.parametrize("flags", [["--prune"], ["--prune", "--force"], []])
def test_manifest_entry_outside_stacks_is_never_touched(env_dir, tmp_path, entry, flags):
    render(env_dir)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious data\n")
    manifest = env_dir / "stacks" / MANIFEST
    document = json.loads(manifest.read_text())
    document["files"][entry] = "sha256:" + "0" * 64
    manifest.write_text(json.dumps(document))
    result = CliRunner().invoke(cli, ["render", ".", *flags])
    assert result.exit_code == 1
    why = "is not a relative path" if entry.startswith("/") else "leaves its directory ('..' or an empty part)"
    assert result.output == (
        f"stacks/{MANIFEST}: error: entry '{entry}' {why}; df-gen touches nothing outside stacks/ "
        "(hint: remove the entry from the manifest (git log shows who added it))\n"
    )
    assert victim.read_text() == "precious data\n"


def test_stack_directory_linked_outside_is_not_written(env_dir, tmp_path):
    render(env_dir)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(env_dir / "stacks" / "datasource-sales", elsewhere)
    (env_dir / "stacks" / "datasource-sales").symlink_to(elsewhere)
    (elsewhere / "main.tf").unlink()
    with pytest.raises(DfGenError) as raised:
        render(env_dir)
    assert raised.value.lines() == [
        "stacks/datasource-sales/main.tf: error: is outside stacks; refused"
    ]
    assert not (elsewhere / "main.tf").exists()


def test_generated_file_linked_outside_is_not_written_even_with_force(env_dir, tmp_path):
    render(env_dir)
    outside = tmp_path / "outside.tf"
    outside.write_text("# not df-gen's\n")
    (env_dir / "stacks" / "datasource-sales" / "main.tf").unlink()
    (env_dir / "stacks" / "datasource-sales" / "main.tf").symlink_to(outside)
    with pytest.raises(DfGenError) as raised:
        render(env_dir, force=True)
    assert raised.value.lines() == [
        "stacks/datasource-sales/main.tf: error: is a link leaving stacks; refused"
    ]
    assert outside.read_text() == "# not df-gen's\n"


def _dag(env_dir: Path, text: str) -> None:
    (env_dir / "code" / "sales-daily" / "dag.py.j2").write_text(text)


def test_pipeline_templates_cannot_run_code(env_dir, tmp_path):
    marker = tmp_path / "pwned"
    _dag(env_dir, "x = 1\n{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch "
                  f"{marker}') }}}}\n")
    with pytest.raises(DfGenError) as raised:
        load_model(env_dir)
    [line] = raised.value.lines()
    assert line.startswith("code/sales-daily/dag.py.j2:2:1: error: template ")
    assert not marker.exists()


@pytest.mark.parametrize(("text", "message"), [
    ("ok = 1\nvalue = {{ 1/0 }}\n", "code/sales-daily/dag.py.j2:2:1: error: template failed: "
                                    "ZeroDivisionError: division by zero"),
    ("a = 1\nb = 2\n{% include 'missing.sql' %}\n", "code/sales-daily/dag.py.j2:3:1: error: template not found: "
                                                   "missing.sql"),
    ("{% include '../../../../etc/passwd' %}\n", "code/sales-daily/dag.py.j2:1:1: error: template not found: "
                                                "../../../../etc/passwd"),
    ("x = {{ nope }}\n", "code/sales-daily/dag.py.j2:1:1: error: template uses an undefined value: "
                         "'nope' is undefined"),
    ("x = {% if %}\n", "code/sales-daily/dag.py.j2:1:1: error: template syntax error: Expected an expression, "
                       "got 'end of statement block'"),
])
def test_template_errors_are_one_line(env_dir, text, message):
    _dag(env_dir, text)
    with pytest.raises(DfGenError) as raised:
        load_model(env_dir)
    assert raised.value.lines() == [message]


def test_include_of_a_link_leaving_the_code_directory(env_dir, tmp_path):
    (tmp_path / "secret.txt").write_text("TOP SECRET\n")
    (env_dir / "code" / "sales-daily" / "part.txt").symlink_to(tmp_path / "secret.txt")
    _dag(env_dir, "{% include 'part.txt' %}\n")
    with pytest.raises(DfGenError) as raised:
        load_model(env_dir)
    [line] = raised.value.lines()
    assert line.startswith("code/sales-daily/dag.py.j2:1:1: error: template not found: part.txt (a link leaving ")


def test_within_follows_links_below_the_root(tmp_path):
    from generator.fsutil import within

    root = tmp_path / "root"
    (root / "a" / "x" / "a").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "a" / "out").symlink_to(tmp_path / "outside")
    (root / "a" / "in").symlink_to(root / "a" / "x")
    (tmp_path / "link-to-root").symlink_to(root)
    assert within(root, root / "a" / "x" / "a" / "f.json")
    assert within(root, root / "a" / "in" / "a" / "f.json")
    assert not within(root, root / "a" / "out" / "f.json")
    assert not within(root, root / ".." / "outside" / "f.json")
    assert within(root, root / "a" / ".." / "a" / "f.json")
    assert within(tmp_path / "link-to-root", root / "a" / "f.json")
    assert within(root, tmp_path / "link-to-root" / "a")


@pytest.mark.parametrize("blocked", ["datasource-sales", "pipeline-sales-daily/schemas"])
def test_a_file_where_a_stack_directory_goes_is_one_line_and_kept(env_dir, blocked):
    render(env_dir)
    directory = env_dir / "stacks" / blocked
    shutil.rmtree(directory)
    directory.write_text("not df-gen's\n")
    result = CliRunner().invoke(cli, ["render", "."])
    assert result.exit_code == 1
    assert result.output == f"error: stacks/{blocked}: a file is in the way of the generated directory; move it aside\n"
    assert directory.read_text() == "not df-gen's\n"


def test_an_entry_whose_kind_cannot_be_told_gets_the_whole_check() -> None:
    from generator.validate import _may_be_link

    class Entry:
        def is_symlink(self) -> bool:
            raise PermissionError(13, "Permission denied")

    assert _may_be_link(Entry()) is True  # type: ignore[arg-type]
