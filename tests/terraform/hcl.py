"""Load a Terraform configuration with python-hcl2 into plain Python values.

python-hcl2 (8.x) keeps HCL's quoting: a literal string comes back as '"text"', an expression as
'${...}', block labels as '"label"', and blocks carry '__is_block__' / '__comments__' keys. This
module removes that noise: literals become plain strings, expressions stay '${...}', labels lose
their quotes, and each block keeps its comments under COMMENTS (checkov's inline skips are
comments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

COMMENTS = "__comments__"


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


def clean(value: Any) -> Any:
    """python-hcl2's value with the quoting removed (see the module doc)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "__is_block__":
                continue
            if key == COMMENTS:
                out[COMMENTS] = [c.get("value", "") for c in item]
                continue
            out[_unquote(key)] = clean(item)
        return out
    if isinstance(value, list):
        return [clean(item) for item in value]
    if isinstance(value, str):
        return _unquote(value)
    return value


def is_expression(value: Any) -> bool:
    """True for a '${...}' expression (anything not a literal)."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def ref(expression: Any) -> str | None:
    """The bare reference inside '${...}' ('aws_sqs_queue.dlq.arn'), or None."""
    if not is_expression(expression):
        return None
    inner = expression[2:-1].strip()
    if re.fullmatch(r"[A-Za-z_][\w.\-\[\]\"]*", inner):
        return inner
    return None


def block(value: Any) -> dict[str, Any]:
    """A nested block written once: python-hcl2 gives a list of one dict."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return value[0]
    if isinstance(value, dict):
        return value
    raise AssertionError(f"expected one block, got {value!r}")


def blocks(value: Any) -> list[dict[str, Any]]:
    """A nested block that may be repeated."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return list(value)


@dataclass
class Module:
    """One directory of .tf files."""

    path: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    resource_files: dict[tuple[str, str], str] = field(default_factory=dict)

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        """The resources of one type, by name."""
        return {name: body for (t, name), body in self.resources.items() if t == kind}

    def text(self) -> str:
        """The concatenated source of the module's files."""
        return "\n".join((self.path / name).read_text() for name in sorted(self.files))


def load_module(path: Path) -> Module:
    """Parse every .tf file directly in `path`."""
    module = Module(path=path)
    for tf in sorted(path.glob("*.tf")):
        with tf.open() as handle:
            parsed = clean(hcl2.load(handle))
        module.files[tf.name] = parsed
        for entry in parsed.get("resource", []):
            for kind, named in entry.items():
                for name, body in named.items():
                    module.resources[(kind, name)] = body
                    module.resource_files[(kind, name)] = tf.name
        for entry in parsed.get("data", []):
            for kind, named in entry.items():
                for name, body in named.items():
                    module.data[(kind, name)] = body
        for entry in parsed.get("variable", []):
            module.variables.update(entry)
        for entry in parsed.get("output", []):
            module.outputs.update(entry)
        for entry in parsed.get("locals", []):
            module.locals.update({k: v for k, v in entry.items() if k != COMMENTS})
        for entry in parsed.get("module", []):
            module.modules.update(entry)
    return module


def load_tree(root: Path) -> dict[Path, Module]:
    """Every module under `root` (the root itself and each directory holding .tf files)."""
    dirs = {tf.parent for tf in root.rglob("*.tf") if ".terraform" not in tf.parts}
    return {d: load_module(d) for d in sorted(dirs)}


def walk(value: Any, path: tuple[str, ...] = ()):
    """Yield (path, key, value) for every key of every dict nested in `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from walk(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, path + (str(index),))
