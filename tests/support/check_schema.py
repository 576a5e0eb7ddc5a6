#!/usr/bin/env python3
"""Validate YAML files against a JSON Schema with the reference Python implementation.

    check_schema.py SCHEMA FILE...

Prints one JSON object: file -> list of error messages (empty when valid). The schema itself
is checked against its metaschema first (exit 2 when it is not a valid schema).
"""
import json
import sys

import jsonschema
import yaml


def main():
    schema = json.load(open(sys.argv[1]))
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"not a valid schema: {e.message}", file=sys.stderr)
        sys.exit(2)
    validator = cls(schema)
    results = {}
    for path in sys.argv[2:]:
        try:
            doc = yaml.safe_load(open(path))
        except yaml.YAMLError as e:
            results[path] = [f"YAML: {e}"]
            continue
        results[path] = [
            f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(doc)
        ]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
