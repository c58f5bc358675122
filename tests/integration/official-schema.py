#!/usr/bin/python3
"""official-schema.py SCHEMA-FILE DOC: validate DOC against one of the official runtime-spec
schemas shipped by Debian (golang-github-opencontainers-specs-dev), resolving its refs locally."""
import json, pathlib, sys
import jsonschema

base = pathlib.Path("/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema")
store = {}
for f in base.glob("*.json"):
    s = json.load(open(f))
    store[f.name] = s
    store[f.as_uri()] = s
    for key in ("id", "$id"):
        if key in s:
            store[s[key]] = s
            store[s[key].rsplit("/", 1)[0] + "/" + f.name] = s
schema = store[sys.argv[1]]
resolver = jsonschema.RefResolver(base_uri=schema.get("id", base.as_uri() + "/"), referrer=schema, store=store)
jsonschema.validate(json.load(open(sys.argv[2])), schema, resolver=resolver)
print("valid against official", sys.argv[1])
