#!/usr/bin/env python3
"""Cuts Intercom's OpenAPI description down to what tests/schema checks, as JSON test data.

    python3 scripts/extract-openapi.py SPEC.yaml OUT.json --commit SHA [--examples]

SPEC.yaml is a copy of `descriptions/<version>/api.intercom.io.yaml` from Intercom's
Intercom-OpenAPI repository (https://github.com/intercom/Intercom-OpenAPI, MIT licence),
taken at commit SHA. OUT.json gets:

- the operations of OPERATIONS below, each with every documented status; of a response
  only its `application/json` schema and, with `--examples`, its named examples' values
  (data, not prose: tests/schema checks that the 2.16 examples match their own schema;
  no test reads the 2.14 ones, so that extract goes without);
- the schemas in COMPONENTS, and every `components.schemas` entry reachable from the
  kept schemas through `$ref`, transitively;
- no prose: `description`, `title`, `summary`, `externalDocs`, `x-…` extensions and the
  `example`/`examples` annotations of schemas are dropped, except the examples listed in
  KEPT_SCHEMA_EXAMPLES. Property *names* are never touched (a property called
  `description` stays).

Keys are sorted and the output is indented the same way every time, so running it again
on the same input gives the same bytes. Needs PyYAML (only to regenerate the data; the
tests read the JSON).
"""

import argparse
import hashlib
import json
import re
import sys

import yaml

# The operations tests/schema/main.rs checks: keep in step with its `CHECKED`. The test
# `the_extracts_hold_exactly_the_checked_operations` fails when the two differ.
OPERATIONS = [
    ("GET", "/me"),
    ("GET", "/admins"),
    ("GET", "/data_attributes"),
    ("GET", "/companies/scroll"),
    ("GET", "/companies"),
    ("POST", "/companies/list"),
    ("GET", "/companies/{company_id}"),
    ("POST", "/companies"),
    ("GET", "/contacts"),
    ("GET", "/contacts/{contact_id}"),
    ("POST", "/contacts/search"),
    ("GET", "/contacts/{contact_id}/companies"),
    ("GET", "/contacts/{contact_id}/tags"),
    ("GET", "/tags"),
    ("POST", "/tickets/search"),
    ("GET", "/tickets/{ticket_id}"),
    ("GET", "/ticket_types"),
    ("POST", "/conversations/search"),
]

# Schemas the tests name directly: `error` (a 429 body, which no operation documents) and
# the nodes the allowances of tests/schema/main.rs replace or read.
COMPONENTS = ["error", "company", "company_list", "cursor_pages", "ticket"]

# Schema `example` annotations kept, as paths inside `components.schemas`. The validator
# ignores `example`; this one is read as data: `Allowance::TypedCompanyCustomAttributes`
# shows with it that the description rejects its own example of custom attributes.
KEPT_SCHEMA_EXAMPLES = {("company", "properties", "custom_attributes")}

REPOSITORY = "https://github.com/intercom/Intercom-OpenAPI"
LICENCE = "MIT, Copyright (c) 2022 Intercom, Inc. (the full text is in LICENSE beside this file)"

# Annotations of a Schema Object that are prose or illustrations, not constraints.
PROSE = {"description", "title", "summary", "externalDocs", "example", "examples"}
# Keywords whose value is a map of property names to schemas.
SCHEMA_MAPS = {"properties", "patternProperties"}
# Keywords whose value is one schema (or, for `items`, possibly a list of them).
SCHEMA_ONE = {"items", "not", "additionalProperties", "additionalItems", "contains", "propertyNames"}
# Keywords whose value is a list of schemas.
SCHEMA_LISTS = {"allOf", "anyOf", "oneOf"}

REF = re.compile(r"^#/components/schemas/([^/]+)$")


class Yaml12Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML reads YAML 1.1, where `yes`, `on`, `2024-01-01` or `1_000` are not strings.
    The tests' own YAML reader (serde_yaml_ng) follows YAML 1.2's core schema, so this one
    does too: only true/false are booleans, no timestamps, and 1.2's number forms."""


Yaml12Loader.yaml_implicit_resolvers = {}
for tag, pattern, first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:int",
        r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
        "-+0123456789",
    ),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    Yaml12Loader.add_implicit_resolver(tag, re.compile(pattern), list(first))


def construct_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", construct_int)


def fail(message):
    sys.exit(f"extract-openapi: {message}")


def prune_schema(schema, at=()):
    """A Schema Object without its prose; `at` is its path inside components.schemas."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key.startswith("x-"):
            continue
        if key == "example" and at in KEPT_SCHEMA_EXAMPLES:
            out[key] = value
        elif key in PROSE:
            continue
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: prune_schema(s, at + (key, name)) for name, s in value.items()}
        elif key in SCHEMA_ONE and isinstance(value, list):
            out[key] = [prune_schema(s) for s in value]
        elif key in SCHEMA_ONE:
            out[key] = prune_schema(value, at + (key,))
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [prune_schema(s) for s in value]
        else:
            out[key] = value
    return out


def refs(schema):
    """The component names a pruned schema refers to."""
    found = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref":
                match = REF.match(value) if isinstance(value, str) else None
                if not match:
                    fail(f"a $ref that is not #/components/schemas/NAME: {value!r}")
                found.add(match.group(1))
            elif key not in ("enum", "default", "example", "const"):
                found |= refs(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= refs(item)
    return found


def response(raw, where, examples):
    """A response object: its JSON schema and (if `examples`) its examples' values, nothing else."""
    if "$ref" in raw:
        fail(f"{where} is a $ref to a shared response; teach the script to follow it")
    content = (raw.get("content") or {}).get("application/json")
    if content is None:
        return {}
    kept = {}
    if "schema" in content:
        kept["schema"] = prune_schema(content["schema"])
    if examples and isinstance(content.get("examples"), dict):
        examples = {}
        for name, example in content["examples"].items():
            if "$ref" in example:
                fail(f"{where}: example {name!r} is a $ref; teach the script to follow it")
            if "value" in example:
                examples[name] = {"value": example["value"]}
        kept["examples"] = examples
    if examples and "example" in content:
        kept["example"] = content["example"]
    return {"content": {"application/json": kept}}


def sort_keys(value):
    if isinstance(value, dict):
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(v) for v in value]
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", help="a copy of descriptions/<version>/api.intercom.io.yaml")
    parser.add_argument("out", help="the JSON extract to write, e.g. tests/schema/openapi/2.16.json")
    parser.add_argument("--commit", required=True, help="the Intercom-OpenAPI commit the copy was taken at")
    parser.add_argument("--examples", action="store_true", help="keep the responses' examples (values only)")
    args = parser.parse_args()
    if not re.fullmatch(r"[0-9a-f]{40}", args.commit):
        fail(f"--commit wants a full 40-digit commit id, not {args.commit!r}")

    with open(args.spec, "rb") as f:
        data = f.read()
    spec = yaml.load(data, Loader=Yaml12Loader)
    version = str(spec["info"]["version"])
    schemas = spec.get("components", {}).get("schemas", {})

    paths = {}
    wanted = list(COMPONENTS)
    for method, template in OPERATIONS:
        operation = spec.get("paths", {}).get(template, {}).get(method.lower())
        if operation is None:
            fail(f"the {version} description has no {method} {template}")
        responses = {}
        for status, raw in operation.get("responses", {}).items():
            kept = response(raw, f"{method} {template} {status}", args.examples)
            responses[str(status)] = kept
            wanted += sorted(refs(kept.get("content", {}).get("application/json", {}).get("schema")))
        paths.setdefault(template, {})[method.lower()] = {"responses": responses}

    components = {}
    while wanted:
        name = wanted.pop()
        if name in components:
            continue
        if name not in schemas:
            fail(f"the {version} description has no schema {name}")
        components[name] = prune_schema(schemas[name], (name,))
        wanted += sorted(refs(components[name]))

    license = spec["info"].get("license", {})
    extract = {
        "x-extract": {
            "from": REPOSITORY,
            "file": f"descriptions/{version}/api.intercom.io.yaml",
            "commit": args.commit,
            "sha256": hashlib.sha256(data).hexdigest(),
            "licence": LICENCE,
            "made by": "scripts/extract-openapi.py" + (" --examples" if args.examples else "") + " (its comment says what is kept)",
        },
        "openapi": spec.get("openapi"),
        "info": {"version": version, "license": license},
        "paths": sort_keys(paths),
        "components": {"schemas": sort_keys(components)},
    }
    text = json.dumps(extract, indent=1, ensure_ascii=False) + "\n"
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(
        f"{args.out}: {version}, {len(OPERATIONS)} operations, {len(components)} schemas, {len(text.encode())} bytes",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
