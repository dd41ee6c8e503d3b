from click.testing import CliRunner

from generator import __version__
from generator.cli import cli


def test_version_option_prints_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"df-gen, version {__version__}\n"
