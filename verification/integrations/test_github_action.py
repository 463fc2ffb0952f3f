"""The composite GitHub Action (``action.yml``) is wired as declared and its script gates on the verdict.

GitHub is not here, so the action is checked in two halves: statically (every ``${{ inputs.X }}`` is declared,
every step the brief of a release gate needs is present, uploads run ``always()`` and the verdict is raised
last) and dynamically (``.github/actions/conform.sh``, the code behind the run steps, is run phase by phase
against the toy adapter, install skipped with ``AICO_SECURE_SKIP_INSTALL=1`` because a test never downloads).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ._hooks import ROOT, console_script, run

ACTION = ROOT / "action.yml"
SCRIPT = ROOT / ".github" / "actions" / "conform.sh"
EXAMPLES = ROOT / "docs" / "examples"
# Two key-management requirements the toy build passes, and whose tests are quick.
TOY_PASSES = ["AICO-KM-004", "AICO-KM-005"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _steps() -> list[dict[str, Any]]:
    runs = _action()["runs"]
    assert runs["using"] == "composite"
    steps: list[dict[str, Any]] = runs["steps"]
    return steps


def _uses(prefix: str) -> dict[str, Any]:
    found = [step for step in _steps() if str(step.get("uses", "")).startswith(prefix)]
    assert len(found) == 1, f"expected one step using {prefix}"
    return found[0]


def _script_phase(step: dict[str, Any]) -> str:
    match = re.fullmatch(r'bash "\$GITHUB_ACTION_PATH/\.github/actions/conform\.sh" (\w+)', step["run"].strip())
    assert match, f"step {step.get('name')!r} does not run the action's script"
    return match.group(1)


def test_every_input_used_is_declared_and_every_declared_input_is_used() -> None:
    # Expressions sit in ${{ }} or, in a step's `if`, bare.
    expressions = [*EXPRESSION.findall(ACTION.read_text(encoding="utf-8")), *(s["if"] for s in _steps() if "if" in s)]
    used = {m.group(1) for e in expressions for m in re.finditer(r"inputs\.([\w-]+)", e)}
    declared = set(_action()["inputs"])
    assert used <= declared, f"undeclared inputs: {sorted(used - declared)}"
    assert declared <= used, f"declared but never used: {sorted(declared - used)}"
    assert declared == {"target", "profile", "python-version", "extras", "report-dir", "args", "upload"}
    assert _action()["inputs"]["target"]["required"] is True


def test_defaults_are_the_documented_ones() -> None:
    inputs = _action()["inputs"]
    assert inputs["profile"]["default"] == "quick"
    assert inputs["python-version"]["default"] == "3.11"
    assert inputs["extras"]["default"] == ""
    assert inputs["upload"]["default"] == "true"


def test_steps_reference_only_steps_that_exist_before_them() -> None:
    seen: set[str] = set()
    for step in _steps():
        text = yaml.safe_dump(step)
        for ref in re.findall(r"steps\.([\w-]+)\.", text):
            assert ref in seen, f"step {step.get('name')!r} reads steps.{ref} before it ran"
        if "id" in step:
            seen.add(step["id"])


def test_run_steps_call_the_script_and_pass_inputs_through_the_environment() -> None:
    assert SCRIPT.is_file() and os.access(SCRIPT, os.X_OK)
    phases = [_script_phase(step) for step in _steps() if "run" in step]
    assert phases == ["install", "run", "verdict"]
    for step in _steps():
        if "run" in step:
            assert "${{" not in step["run"], "an input interpolated into a shell line can inject commands"


def test_uploads_run_always_and_the_verdict_is_the_last_step() -> None:
    steps = _steps()
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    sarif, artifact = _uses("github/codeql-action/upload-sarif@"), _uses("actions/upload-artifact@")
    for upload in (sarif, artifact):
        assert upload["if"].startswith("always()") and "inputs.upload == 'true'" in upload["if"]
        assert steps.index(upload) < len(steps) - 1
    assert artifact["with"]["path"] == "${{ inputs.report-dir }}"
    assert "steps.conform.outputs.sarif" in sarif["with"]["sarif_file"]
    last = steps[-1]
    assert last["if"] == "always()" and _script_phase(last) == "verdict"
    assert "steps.conform.outputs.exit-code" in last["env"]["AICO_EXIT_CODE"]


def test_install_comes_from_the_action_checkout() -> None:
    install = next(s for s in _steps() if "run" in s and _script_phase(s) == "install")
    assert install["env"]["AICO_ACTION_PATH"] == "${{ github.action_path }}"
    assert 'python -m pip install --disable-pip-version-check "$source"' in SCRIPT.read_text(encoding="utf-8")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{console_script('aico-secure').parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(EXAMPLES)
    env["AICO_SECURE_SKIP_INSTALL"] = "1"
    env["GITHUB_OUTPUT"] = str(tmp_path / "github_output")
    env["AICO_TARGET"] = "toy_adapter:build"
    env["AICO_PROFILE"] = "quick"
    env["AICO_REPORT_DIR"] = "reports-out"
    env.update(extra)
    return env


def _outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "github_output").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def _act(tmp_path: Path, args: str) -> tuple[int, dict[str, str]]:
    """install, run and verdict as the action's steps would; the verdict's exit is the job's."""
    env = _env(tmp_path, AICO_ARGS=args)
    for phase in ("install", "run"):
        done = run(["bash", str(SCRIPT), phase], cwd=tmp_path, env=env)
        assert done.returncode == 0, f"{phase}: {done.stdout}{done.stderr}"
    outputs = _outputs(tmp_path)
    verdict = run(["bash", str(SCRIPT), "verdict"], cwd=tmp_path,
                  env={**env, "AICO_EXIT_CODE": outputs["exit-code"]})
    assert str(verdict.returncode) == outputs["exit-code"]
    return verdict.returncode, outputs


def _reports(tmp_path: Path, outputs: dict[str, str]) -> None:
    folder = tmp_path / "reports-out"
    assert len(list(folder.glob("*.junit.xml"))) == 1
    assert len(list(folder.glob("*.json"))) == 1
    sarif = tmp_path / outputs["sarif"]
    assert sarif.is_file() and sarif.parent == folder and sarif.suffix == ".sarif"


def test_script_fails_the_job_when_the_toy_build_fails_the_catalog(tmp_path: Path) -> None:
    code, outputs = _act(tmp_path, "-n 1 -q")
    assert code == 1
    _reports(tmp_path, outputs)


def test_script_passes_the_job_when_the_run_is_limited_to_requirements_it_passes(tmp_path: Path) -> None:
    args = " ".join(f"--requirement {rid}" for rid in TOY_PASSES)
    code, outputs = _act(tmp_path, f"-n 1 -q {args}")
    assert code == 0
    _reports(tmp_path, outputs)


def test_script_refuses_a_target_that_cannot_load_and_still_records_it(tmp_path: Path) -> None:
    env = _env(tmp_path, AICO_TARGET="no_such_module_here:build")
    done = run(["bash", str(SCRIPT), "run"], cwd=tmp_path, env=env)
    assert done.returncode == 0
    assert _outputs(tmp_path)["exit-code"] == "2"


@pytest.mark.parametrize("recorded", ["", "not-a-number"])
def test_verdict_fails_closed_when_no_exit_code_was_recorded(tmp_path: Path, recorded: str) -> None:
    done = run(["bash", str(SCRIPT), "verdict"], cwd=tmp_path, env=_env(tmp_path, AICO_EXIT_CODE=recorded))
    assert done.returncode == 2


def test_install_refuses_when_skipped_but_nothing_is_installed(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env["PATH"] = "/usr/bin:/bin"
    done = run(["bash", str(SCRIPT), "install"], cwd=tmp_path, env=env)
    assert done.returncode == 2
