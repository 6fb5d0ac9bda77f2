"""Load YAML input files into frozen models, turning every problem into one line:
``file:line: field: problem``.

PyYAML's composed node tree keeps line marks; we index them by the key path so that a
pydantic error location (``('phases', 2, 'kind')``) maps back to the line a user edits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import SpecError

Model = TypeVar("Model", bound=BaseModel)
LinePath = tuple[str | int, ...]


class Located(ValueError):
    """A validation error raised by a model-level check, pointing below the model.

    Cross-field checks (``caches[0].origin`` names an unknown origin) run on the whole
    model, so pydantic locates them at the model; ``loc`` says which field is at fault.
    """

    def __init__(self, loc: LinePath, message: str) -> None:
        super().__init__(message)
        self.loc = loc


def load_model(path: Path, model: type[Model]) -> Model:
    """Read ``path`` as YAML and validate it as ``model``; raise SpecError on any problem."""
    text = _read(path)
    data, lines = parse_yaml(text, str(path))
    try:
        return model.model_validate(data, context={"base_dir": path.parent})
    except ValidationError as exc:
        raise _spec_error(str(path), exc, lines) from None


def parse_yaml(text: str, name: str) -> tuple[Any, dict[LinePath, int]]:
    """Return the parsed document and a map from key path to 1-based line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise SpecError(name, line, "yaml", str(exc.problem or exc.context)) from None
    except yaml.YAMLError as exc:
        raise SpecError(name, None, "yaml", str(exc).splitlines()[0]) from None
    lines: dict[LinePath, int] = {(): 1}
    if node is not None:
        _index_lines(node, (), lines)
    return ({} if data is None else data), lines


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), None, "file", "not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), None, "file", f"cannot be read ({exc.__class__.__name__})") from None


def _index_lines(node: yaml.Node, path: LinePath, lines: dict[LinePath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*path, str(key_node.value))
            lines[key_path] = key_node.start_mark.line + 1
            _index_lines(value_node, key_path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _index_lines(item, (*path, index), lines)


def _spec_error(name: str, exc: ValidationError, lines: dict[LinePath, int]) -> SpecError:
    first = exc.errors(include_url=False)[0]
    loc: LinePath = tuple(first["loc"])
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, Located):
        loc = (*loc, *cause.loc)
    line = _nearest_line(loc, lines)
    field = ".".join(str(part) for part in loc) or "(document)"
    return SpecError(name, line, field, _problem(first))


def _nearest_line(loc: LinePath, lines: dict[LinePath, int]) -> int:
    # A missing field has no line of its own: point at its parent mapping.
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _problem(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown field (check the spelling; see the scenario schema in scenarios/README.md)"
    return message
