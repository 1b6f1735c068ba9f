# Test doubles of torch / transformers / datasets / peft / trl for running the bundle's TRL script without them:
# each call is appended to the JSON-lines file named by STUB_CALLS, and keyword arguments are checked against the
# field names in tests/formats/bundle/upstream-keys.json (read from those projects' sources), so an unknown
# argument fails here as it would in the real class.
import json
import os

KEYS = json.load(open(os.environ["UPSTREAM_KEYS"]))


def record(what, **data):
    with open(os.environ["STUB_CALLS"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"call": what, **data}, default=str) + "\n")


def check(kwargs, allowed, owner):
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"{owner}.__init__() got unexpected keyword arguments {unknown}")
