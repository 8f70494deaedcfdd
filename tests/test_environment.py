"""environment.yml (conda, repo2docker) and pyproject.toml (pip) pin the same packages."""

import tomllib

import yaml

from conftest import REPO


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return set(project["dependencies"]) | {req for group in extras.values() for req in group}


def _conda_pip_requirements() -> set[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    (pip_section,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    return {req for req in pip_section if not req.startswith("-e")}


def test_environment_yml_and_pyproject_agree():
    assert _conda_pip_requirements() == _pyproject_requirements()


def test_torch_pins_are_exact():
    """Any other torch pulls gigabytes on the course machines: the pins must stay exact."""
    reqs = _pyproject_requirements()
    assert "torch==2.14.1" in reqs and "torchvision==0.29.1" in reqs


def test_python_versions_agree():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python=")]
    conda_python = tuple(map(int, pins[0].split("=")[1].split(".")))
    minimum = tuple(map(int, project["requires-python"].removeprefix(">=").split(".")))
    assert conda_python >= minimum
