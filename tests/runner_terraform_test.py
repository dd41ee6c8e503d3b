"""One Terraform call (generator/runner/terraform.py): Terraform's error lines and the retry patterns.

The retry loop, the pump and Ctrl-C run through whole commands in runner_test.py (a fake
engine) and signals_test.py (a stand-in engine in a real process).
"""

from __future__ import annotations

import pytest

from generator.errors import DfGenError
from generator.runner.terraform import ENV_RETRY_PATTERNS, error_lines, retry_pattern


def test_error_lines_take_terraform_error_block() -> None:
    text = ("Planning...\n\n"
            "Error: Invalid bucket name\n\n  with module.x.google_storage_bucket.b,\n"
            "  on main.tf line 3:\n\n")
    assert error_lines(text) == [
        "Error: Invalid bucket name", "", "  with module.x.google_storage_bucket.b,", "  on main.tf line 3:"]
    boxed = "│ Error: boom\n│ \n│   detail\n╵\n"
    assert error_lines(boxed)[0] == "Error: boom"
    assert error_lines("a\nb\nlast words\n") == ["a", "b", "last words"]


def test_retry_patterns_default_and_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert retry_pattern().search("googleapi: Error 429: Quota exceeded, rateLimitExceeded")
    assert not retry_pattern().search("Error 400: Invalid bucket name")
    monkeypatch.setenv(ENV_RETRY_PATTERNS, r"Error 400|flaky \d+")
    assert retry_pattern().search("flaky 7")
    assert not retry_pattern().search("Error 429")
    monkeypatch.setenv(ENV_RETRY_PATTERNS, "(")
    with pytest.raises(DfGenError, match="DF_GEN_RETRY_PATTERNS"):
        retry_pattern()
