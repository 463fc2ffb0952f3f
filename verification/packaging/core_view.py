"""A virtual environment holding exactly what ``pip install aico-secure`` (no extras) would, built offline.

Installing from PyPI in a test would need the network and would mostly test pip. Instead the core requirement
closure is resolved from this checkout's ``pyproject.toml`` against the distributions installed in the running
environment (``importlib.metadata``), and a ``--without-pip`` venv gets a site-packages that is a *view*: one
symlink per top-level entry of those distributions only (per file where a top-level folder is shared with a
distribution outside the closure). Anything the closure does not name, such as chromadb, is simply not there.

The project itself is laid out the way its wheel lays it out (``[tool.hatch.build.targets.wheel]``): the package
copied, the suite copied to ``aico_secure/_suite``, a dist-info with the entry points (the pytest plugin and the
bandit plugins are found through them) and the console script. A copy, not a path entry at the checkout, so the
suite is found where an installed wheel finds it, not in the checkout beside the package.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "aico-secure"


class NotResolvable(Exception):
    """The running environment cannot provide the core closure (a distribution missing or of another version)."""


@dataclass(frozen=True)
class CoreView:
    env_dir: Path
    python: Path
    site_packages: Path
    distributions: frozenset[str]  # canonical names of the distributions exposed (the project not included)

    def script(self, name: str) -> Path:
        return self.env_dir / "bin" / name


def pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def core_requirements() -> list[Requirement]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    return [Requirement(text) for text in project["dependencies"]]


def _applies(requirement: Requirement, extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    environment = dict(default_environment())
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras)


def resolve(roots: Iterable[Requirement]) -> dict[str, md.Distribution]:
    """Every installed distribution the roots need, transitively, with the extras each was asked for.

    Raises ``NotResolvable`` when one is not installed or its version is outside what is asked: the view would
    then not be what pip installs."""
    found: dict[str, md.Distribution] = {}
    extras_done: dict[str, set[str]] = {}
    queue = [r for r in roots if _applies(r, [""])]
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        if name == PROJECT:
            continue  # the project is laid out from the checkout, not taken from the environment
        try:
            dist = found.get(name) or md.distribution(requirement.name)
        except md.PackageNotFoundError:
            raise NotResolvable(f"{requirement} is not installed in {sys.prefix}") from None
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise NotResolvable(f"{requirement} asked, {dist.version} installed")
        done = extras_done.setdefault(name, set())
        wanted = ({""} | set(requirement.extras)) - done
        if not wanted:
            continue
        done |= wanted
        found[name] = dist
        for text in dist.requires or ():
            child = Requirement(text)
            if _applies(child, wanted):
                queue.append(child)
    return found


def _top(path: md.PackagePath) -> str | None:
    first = path.parts[0] if path.parts else ""
    # Byte-code caches are rebuilt on import; a shared top-level __pycache__ would only expose other files' caches.
    return None if first in ("", "..", "__pycache__") or first.startswith("/") else first


def _expose(dists: dict[str, md.Distribution], site: Path) -> None:
    """Symlink into ``site`` every top-level entry the chosen distributions own; where a top-level folder also
    holds files of a distribution left out (a shared namespace), link the chosen distributions' files one by one."""
    chosen_tops: dict[tuple[Path, str], list[md.Distribution]] = {}
    for dist in dists.values():
        base = Path(str(dist.locate_file("")))
        for entry in dist.files or ():
            top = _top(entry)
            if top is not None:
                owners = chosen_tops.setdefault((base, top), [])
                if dist not in owners:
                    owners.append(dist)
    shared: set[tuple[Path, str]] = set()
    for other in md.distributions():
        if canonicalize_name(other.metadata["Name"]) in dists:
            continue
        base = Path(str(other.locate_file("")))
        shared |= {(base, top) for entry in other.files or () if (top := _top(entry)) and (base, top) in chosen_tops}
    for (base, top), owners in chosen_tops.items():
        source = base / top
        if not source.exists() and not source.is_symlink():
            continue  # a RECORD entry the installer listed but never wrote (or a cache file since removed)
        if (base, top) not in shared or source.is_file():
            if not (site / top).exists():
                (site / top).symlink_to(source)
            continue
        for dist in owners:
            for entry in dist.files or ():
                if _top(entry) == top and Path(str(dist.locate_file(entry))).is_file():
                    link = site / Path(*entry.parts)
                    link.parent.mkdir(parents=True, exist_ok=True)
                    if not link.exists():
                        link.symlink_to(Path(str(dist.locate_file(entry))))


def _version() -> str:
    text = (ROOT / "aico_secure" / "__init__.py").read_text()
    found = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.MULTILINE)
    assert found, "aico_secure/__init__.py has no __version__"
    return found.group(1)


def _install_project(site: Path, env_dir: Path, python: Path) -> None:
    """The wheel's layout from pyproject's wheel target: packages copied, force-included folders copied to their
    place in the wheel, the metadata pip would write (requirements, entry points) and the console scripts."""
    config = pyproject()
    wheel = config["tool"]["hatch"]["build"]["targets"]["wheel"]  # type: ignore[index]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in wheel["packages"]:
        shutil.copytree(ROOT / package, site / Path(package).name, ignore=ignore)
    for source, target in wheel.get("force-include", {}).items():
        shutil.copytree(ROOT / source, site / target, ignore=ignore)
    project = config["project"]
    assert isinstance(project, dict)
    info = site / f"aico_secure-{_version()}.dist-info"
    info.mkdir()
    requires = [f"Requires-Dist: {r}" for r in project["dependencies"]]
    for extra, items in project.get("optional-dependencies", {}).items():
        requires.append(f"Provides-Extra: {extra}")
        requires += [f"Requires-Dist: {r}; extra == \"{extra}\"" for r in items]
    (info / "METADATA").write_text("\n".join(["Metadata-Version: 2.4", f"Name: {PROJECT}",
                                              f"Version: {_version()}", *requires]) + "\n")
    (info / "INSTALLER").write_text("core-view\n")
    groups = {"console_scripts": project.get("scripts", {}), **project.get("entry-points", {})}
    lines = []
    for group, points in groups.items():
        lines += [f"[{group}]", *(f"{name} = {value}" for name, value in points.items()), ""]
    (info / "entry_points.txt").write_text("\n".join(lines))
    for name, value in project.get("scripts", {}).items():
        module, function = value.split(":")
        script = env_dir / "bin" / name
        script.write_text(f"#!{python}\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n")
        script.chmod(0o755)


def build(env_dir: Path) -> CoreView:
    """A venv at ``env_dir`` whose site-packages holds the core closure and the project, nothing else."""
    dists = resolve(core_requirements())
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    _expose(dists, site)
    _install_project(site, env_dir, python)
    return CoreView(env_dir, python, site, frozenset(dists))


def clean_env(view: CoreView, **extra: str) -> dict[str, str]:
    """The environment for a command in the view: nothing that would put this checkout's environment back (its
    ``bin`` on PATH included: a tool found there would run with the full environment), the view's ``bin`` first."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("PYTEST_", "COV_"))}
    ours = (Path(sys.prefix) / "bin").resolve()
    path = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and Path(p).resolve() != ours]
    env["PATH"] = os.pathsep.join([str(view.env_dir / "bin"), *path])
    return {**env, **extra}
