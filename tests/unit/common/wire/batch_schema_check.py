#!/usr/bin/env python3
"""Validates a wire batch document against schemas/wire-batch.v<N>.schema.json, N from its
"schema" member (tier0watch.batch/N; v1 when absent or unknown).

Usage: batch_schema_check.py <schemas dir> <batch.json>
Exit status: 0 valid, 1 invalid (errors on stderr), 2 jsonschema unavailable.
The event schema referenced by the batch schema is resolved from the same folder, offline.
"""
import json
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(2)


def main():
    schemas = pathlib.Path(sys.argv[1])
    instance = json.loads(pathlib.Path(sys.argv[2]).read_text())
    version = "1"
    if isinstance(instance, dict) and instance.get("schema") in ("tier0watch.batch/2",
                                                                "tier0watch.batch/3"):
        version = instance["schema"].rsplit("/", 1)[1]
    batch_schema = json.loads((schemas / ("wire-batch.v%s.schema.json" % version)).read_text())
    event_schema = json.loads((schemas / "event.schema.json").read_text())
    cls = jsonschema.validators.validator_for(batch_schema)
    cls.check_schema(batch_schema)
    try:
        from referencing import Registry, Resource

        registry = Registry().with_resources(
            [(s["$id"], Resource.from_contents(s)) for s in (batch_schema, event_schema)])
        validator = cls(batch_schema, registry=registry,
                        format_checker=cls.FORMAT_CHECKER)
    except ImportError:  # jsonschema < 4.18
        resolver = jsonschema.RefResolver.from_schema(
            batch_schema, store={event_schema["$id"]: event_schema})
        validator = cls(batch_schema, resolver=resolver,
                        format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    for e in errors:
        print("/".join(str(p) for p in e.absolute_path) + ": " + e.message, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
