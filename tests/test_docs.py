"""The README is part of the product: its commands must be the ones that work."""

from __future__ import annotations

import re
import shlex
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.config import Settings

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _bash_blocks(README)[1].strip()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_every_command_is_documented() -> None:
    for name, command in cli.commands.items():
        assert f"`assistant {name}" in README, name
        assert command.help


def test_every_setting_is_documented() -> None:
    for f in fields(Settings):
        assert f"ASSISTANT_{f.name.upper()}" in README, f.name


@pytest.fixture
def quick_start() -> list[list[str]]:
    block = README.split("<!-- quick-start")[1].split("<!-- /quick-start -->")[0]
    lines = [line for line in _bash_blocks(block)[0].splitlines() if line.strip()]
    return [shlex.split(line)[1:] for line in lines]


def test_quick_start_commands_work(quick_start, tmp_path: Path, model_cache: Path) -> None:
    runner = CliRunner()
    env = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), "ASSISTANT_CACHE_DIR": str(model_cache)}
    outputs = []
    for args in quick_start:
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.stdout)
    assert "diulang-ulang seperti mantra" in outputs[0]
    # the example answer shown under the quick start cites what the first command cites
    example = README.split("An answer looks like this")[1].split("```")[1]
    cited = re.findall(r"\(article [\w-]+, sentence \d+\)", outputs[0])
    assert cited and cited == re.findall(r"\(article [\w-]+, sentence \d+\)", example)
    assert "diulang-ulang seperti mantra" in outputs[1]
    assert '"abstained": true' in outputs[2]
    assert "kremlin" in outputs[3].lower()
