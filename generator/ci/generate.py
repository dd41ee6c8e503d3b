"""``df-gen ci ENV_DIR... --provider P``: write the CI files of the repository."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from generator import __version__
from generator.ci.files import Written, write_files
from generator.ci.workflows import BUILDERS, Env
from generator.dags.check import image_version
from generator.errors import DfGenError
from generator.gitchanges import inside, repository_root
from generator.render import load_model


def default_install() -> str:
    """How the generated runs install df-gen: this version, with the embedded Terraform."""
    return f'python -m pip install "df-gen[embedded]=={__version__}"'


def environment(root: Path, env_dir: Path) -> Env:
    """What the workflows need of one environment (from its model)."""
    model = load_model(env_dir)
    path = inside(root, env_dir, "the environment directory", "ci").as_posix()
    backend = model.stacks[0].backend
    return Env(path=path, name=Path(path).name, automation=backend.impersonate, bucket=backend.bucket,
               image=image_version(model))


def generate(env_dirs: Sequence[Path], provider: str, *, install: str | None = None, force: bool = False,
             check: bool = False, cwd: Path | None = None, branch: str = "main",
             promote: Sequence[str] = ()) -> tuple[Path, Written]:
    """Write (or, with ``check``, compare) the workflow files for ``env_dirs``."""
    if provider not in BUILDERS:
        raise DfGenError(f"ci: unknown provider '{provider}'; one of {', '.join(BUILDERS)}")
    root = repository_root(cwd, "ci")
    envs = [environment(root, Path(d)) for d in env_dirs]
    seen: dict[str, str] = {}
    for env in envs:
        if env.name in seen or env.slug in seen.values():
            raise DfGenError(f"ci: {env.path} and {seen.get(env.name, env.path)} would share the CI "
                             f"environment '{env.name}'; give environments distinct directory names")
        seen[env.name] = env.path
    chain = promotion(envs, promote)
    args = " ".join([*(e.path for e in envs), "--provider", provider,
                     *(["--promote", ",".join(promote)] if promote else [])])
    files = BUILDERS[provider](envs, install or default_install(), args, branch, chain)
    return root, write_files(root, files, force=force, check=check)


def promotion(envs: Sequence[Env], names: Sequence[str]) -> list[Env]:
    """The environments of ``--promote`` in its order (each named by directory name or path)."""
    chain: list[Env] = []
    for name in names:
        found = [e for e in envs if name in (e.name, e.path, e.path.rstrip("/"))]
        if not found:
            known = ", ".join(e.name for e in envs)
            raise DfGenError(f"ci: --promote names '{name}', which is not one of the environments ({known})")
        if found[0] in chain:
            raise DfGenError(f"ci: --promote names '{name}' twice")
        chain.append(found[0])
    if len(chain) == 1:
        raise DfGenError("ci: --promote needs at least two environments, in order (e.g. dev,prod)")
    return chain
