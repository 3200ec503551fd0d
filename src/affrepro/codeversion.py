"""The version of the code a workflow job runs: a hash of its module and every affrepro module it imports.

`common.smk`'s `job()` puts this hash into each job's shell command
(`AFFREPRO_CODE=<hash> python -m affrepro.<module> ...`), so Snakemake's `code`
rerun trigger reruns exactly the jobs whose code changed, and `dvc repro`
(whose stages depend on src/affrepro) then brings every affected table up to
date. Imports are followed statically through the package's own modules.

The hash reads each module's code, not its text: comments, docstrings and layout
are left out, so editing prose reruns nothing (docstrings only reach `--help`).
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def source_path(module: str) -> Path | None:
    """The file of an affrepro module or package, None for anything outside the package."""
    parts = module.split(".")
    if parts[0] != "affrepro":
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


@cache  # one parse per module for the whole workflow (each rule's job() asks for overlapping closures)
def direct_imports(module: str) -> frozenset[str]:
    """affrepro modules named by the import statements of `module` (a `from a import b` counts a.b if it is a module)."""
    path = source_path(module)
    if path is None:
        return frozenset()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    found = {name for name in found if source_path(name) is not None}
    return frozenset(found | {parent for name in found for parent in _parents(name)})


@cache
def closure(module: str) -> frozenset[str]:
    """`module` and every affrepro module it imports, transitively (package __init__ files included)."""
    seen, todo = set(), [module, *_parents(module)]
    while todo:
        name = todo.pop()
        if name not in seen and source_path(name) is not None:
            seen.add(name)
            todo.extend(direct_imports(name) - seen)
    return frozenset(seen)


def clear_caches() -> None:
    """Forget every parsed module (the caches last a process: one workflow parse)."""
    for cached in (source_path, direct_imports, closure, code):
        cached.cache_clear()


DEFINITIONS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


@cache
def code(module: str) -> bytes:
    """A module's syntax tree without docstrings (ast.dump has no comments, layout or line numbers)."""
    tree = ast.parse(source_path(module).read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None) if isinstance(node, DEFINITIONS) else None
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            if isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def code_version(*modules: str, own: tuple[str, ...] = ()) -> str:
    """A short hash of the code of `modules` and everything they import, and of the code of `own` alone
    (a paper's declaration: its data and small functions, not the modules its other functions import)."""
    digest = hashlib.sha256()
    for name in sorted(set().union(*(closure(m) for m in modules))):
        digest.update(name.encode() + b"\0" + code(name) + b"\0")
    for name in sorted(set(own)):
        digest.update(b"own\0" + name.encode() + b"\0" + code(name) + b"\0")
    return digest.hexdigest()[:16]
