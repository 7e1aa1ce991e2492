"""Configuration documents: YAML reading, merging and JSON-schema validation, one-line errors.

The one YAML reader of the workflow (config files, schemas, tables/paper files): a missing file
or a syntax error is a :class:`ConfigError` naming the file; a schema violation names the file,
the key and the fix.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

# libyaml's parser when PyYAML was built with it (~10x faster on the method files)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(ValueError):
    """A configuration problem; the message names the file, the key and the fix."""


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error is a :class:`ConfigError`."""
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_LOADER)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; create it or fix the path") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror}); fix the path") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``: mappings merge recursively, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def typed_scalars(value: Any) -> Any:
    """``value`` with every string that YAML reads as a number or boolean converted (``"3"`` ->
    3, ``"true"`` -> True, ``"0.5"`` -> 0.5), in lists and mappings too.

    Snakemake hands ``--config`` values over as strings (``seeds='[0]'`` arrives as ``['0']``),
    which the schema would refuse; other strings (paths, templates) stay as they are.
    """
    if isinstance(value, Mapping):
        return {k: typed_scalars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed_scalars(v) for v in value]
    if isinstance(value, str):
        try:
            parsed = yaml.load(value, Loader=_LOADER)
        except yaml.YAMLError:
            return value
        return parsed if isinstance(parsed, (bool, int, float)) else value
    return value


def command_line_config(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` items (``snakemake --config`` syntax) as a config mapping: VALUE is YAML
    (``seeds='[0, 1]'``, ``data='{smoke: {images: 12}}'``), a malformed item a
    :class:`ConfigError`."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--config {item!r}: not KEY=VALUE; write e.g. seeds='[0]'")
        try:
            value = yaml.load(text, Loader=yaml.BaseLoader)
        except yaml.YAMLError:
            value = text
        out[key] = typed_scalars(text if value is None else value)
    return out


def load_schema(schema_dir: Path, name: str) -> dict[str, Any]:
    """``schema_dir/<name>.schema.yaml``."""
    return read_yaml(Path(schema_dir) / f"{name}.schema.yaml")


def first_error(doc: Any, schema: dict[str, Any]) -> jsonschema.ValidationError | None:
    """The most relevant (deepest) schema violation of ``doc``, or None."""
    validator = jsonschema.Draft202012Validator(schema)
    return jsonschema.exceptions.best_match(validator.iter_errors(doc))


def _explain(err: jsonschema.ValidationError) -> str:
    """One line for a schema violation, with the fix."""
    where = ".".join(str(p) for p in err.absolute_path) or "top level"
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        unknown = sorted(set(err.instance) - set(allowed))
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"{where}: unknown key {', '.join(map(repr, unknown))}{hint}; fix the spelling"
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        return f"{where}: missing key {', '.join(map(repr, missing))}; add it"
    if err.validator == "pattern" and list(err.absolute_path)[-1:] == ["commit"]:
        return f"{where}: {err.instance!r} is not a full 40-hex commit SHA; pin the exact commit"
    if err.validator == "minimum":
        least = err.validator_value
        return f"{where}: {err.instance!r} is less than {least}; use {least} or more"
    if err.validator == "type" and isinstance(err.instance, str):
        return (f"{where}: {err.instance!r} is not of type {err.validator_value!r}; write the "
                "value as YAML (e.g. seeds: [0], images: 12)")  # fmt: skip
    if err.validator == "propertyNames":
        return f"{where}: bad name {err.instance!r}: {err.message}"
    return f"{where}: {err.message}"


def validate(doc: Any, schema: dict[str, Any], path: Path | str) -> None:
    """Check ``doc`` against ``schema``; the first error (deepest, most relevant) is raised."""
    error = first_error(doc, schema)
    if error is not None:
        raise ConfigError(f"{path}: {_explain(error)}")
