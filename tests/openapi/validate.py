#!/usr/bin/python3
"""Holds docs/openapi.yaml to the services.

    validate.py SPEC [--routes FILE] [--exchanges FILE]

Always checks the document itself: OpenAPI 3.1, every operation has responses with exact status codes
(no `default`, no ranges, so that an undocumented status is always caught), a description and a service
tag; every path parameter is declared and every declared one is in the path; operationIds are unique;
every local `$ref` resolves; every schema is a valid JSON Schema 2020-12 (the dialect of OpenAPI 3.1).

--routes FILE: JSON lines {"service", "method", "route", "websocket"} as the services register them
(router::routes through the real app wiring). Every one must be in the document under that service's
tag, and every operation of the document must be registered by the service(s) it is tagged with.

--exchanges FILE: JSON lines {"service", "method", "route", "target", "status", "contentType", "body"}
recorded from the running services. Each must be a documented operation of that service, `target`
must match `route`, the status must be documented for it, the content type must be the documented one
(none when nothing is documented), the body must be valid against the response's schema, and a problem's
`status` member must be the HTTP status. Every operation must have been answered with success (2xx or
101) at least once.

Prints every mismatch and exits 1 if there is any. Written for Debian 12's python3-yaml (6.0) and
python3-jsonschema (4.10), which supports draft 2020-12.
"""

import argparse
import json
import re
import sys

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SERVICES = ("gateway", "webhook-ingest")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class Checker:
    def __init__(self, spec):
        self.spec = spec
        self.errors = []

    def fail(self, message):
        self.errors.append(message)

    # ------------------------------------------------------------------ references
    def pointer(self, ref):
        """The object `ref` ('#/a/b') names, or None."""
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return None
        node = self.spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def resolve(self, obj):
        """`obj` with `$ref`s to reusable objects (responses, parameters, ...) followed."""
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj and seen < 20:
            target = self.pointer(obj["$ref"])
            if target is None:
                return None
            obj = target
            seen += 1
        return obj

    def check_refs(self, node, where):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None and self.pointer(ref) is None:
                self.fail(f"{where}: $ref {ref!r} does not resolve")
            for key, value in node.items():
                self.check_refs(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                self.check_refs(value, f"{where}/{i}")

    # ------------------------------------------------------------------ the document
    def operations(self):
        """(path, method, operation, path item) for every operation of the document."""
        for path, item in (self.spec.get("paths") or {}).items():
            if not isinstance(item, dict):
                continue
            for method in METHODS:
                if method in item:
                    yield path, method, item[method], item

    def services_of(self, op):
        return [t for t in op.get("tags", []) if t in SERVICES]

    def check_schema(self, schema, where):
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            self.fail(f"{where}: not a valid JSON Schema 2020-12: {e.message}")

    def check_document(self):
        spec = self.spec
        if not str(spec.get("openapi", "")).startswith("3.1."):
            self.fail("openapi: must be 3.1.x")
        info = spec.get("info") or {}
        if not info.get("title") or not info.get("version"):
            self.fail("info: title and version are required")
        if not spec.get("paths"):
            self.fail("paths: none")
        self.check_refs(spec, "#")
        for name, schema in ((spec.get("components") or {}).get("schemas") or {}).items():
            self.check_schema(schema, f"components/schemas/{name}")
        op_ids = {}
        for path, method, op, item in self.operations():
            where = f"{method.upper()} {path}"
            if not path.startswith("/"):
                self.fail(f"{where}: a path starts with /")
            if not self.services_of(op):
                self.fail(f"{where}: no service tag (one of {', '.join(SERVICES)})")
            op_id = op.get("operationId")
            if op_id:
                if op_id in op_ids:
                    self.fail(f"{where}: operationId {op_id} also used by {op_ids[op_id]}")
                op_ids[op_id] = where
            # Path parameters: declared (on the path or the operation) exactly as the template names them.
            declared = set()
            for p in list(item.get("parameters", [])) + list(op.get("parameters", [])):
                p = self.resolve(p)
                if not isinstance(p, dict) or "name" not in p or "in" not in p:
                    self.fail(f"{where}: a parameter without name and in")
                    continue
                if "schema" in p:
                    self.check_schema(p["schema"], f"{where} parameter {p['name']}")
                if p["in"] == "path":
                    declared.add(p["name"])
                    if p.get("required") is not True:
                        self.fail(f"{where}: path parameter {p['name']} must be required")
            in_template = set(re.findall(r"\{([^}/]+)\}", path))
            for name in in_template - declared:
                self.fail(f"{where}: path parameter {name} is not declared")
            for name in declared - in_template:
                self.fail(f"{where}: parameter {name} is declared in: path but not in the path")
            body = self.resolve(op.get("requestBody")) if "requestBody" in op else None
            if "requestBody" in op and not (isinstance(body, dict) and body.get("content")):
                self.fail(f"{where}: requestBody without content")
            for media, m in ((body or {}).get("content") or {}).items():
                if "schema" in m:
                    self.check_schema(m["schema"], f"{where} request {media}")
            responses = op.get("responses")
            if not isinstance(responses, dict) or not responses:
                self.fail(f"{where}: no responses")
                continue
            for status, response in responses.items():
                status = str(status)
                if not re.fullmatch(r"[1-5][0-9][0-9]", status):
                    self.fail(f"{where}: response {status!r}: only exact status codes are allowed")
                resolved = self.resolve(response)
                if not isinstance(resolved, dict) or not resolved.get("description"):
                    self.fail(f"{where} {status}: a response needs a description")
                    continue
                for media, m in (resolved.get("content") or {}).items():
                    if "schema" not in m:
                        self.fail(f"{where} {status} {media}: no schema")
                    else:
                        self.check_schema(m["schema"], f"{where} {status} {media}")

    # ------------------------------------------------------------------ routes
    def documented(self):
        """{(service, METHOD, path): operation}."""
        out = {}
        for path, method, op, _ in self.operations():
            for service in self.services_of(op):
                out[(service, method.upper(), path)] = op
        return out

    def check_routes(self, routes):
        served = {(r["service"], r["method"].upper(), r["route"]) for r in routes}
        documented = set(self.documented())
        for service, method, route in sorted(served - documented):
            self.fail(f"{service} serves {method} {route}, which docs/openapi.yaml does not describe")
        for service, method, route in sorted(documented - served):
            self.fail(f"docs/openapi.yaml describes {method} {route} on {service}, which {service} does not serve")
        for service in SERVICES:
            if not any(s == service for s, _, _ in served):
                self.fail(f"the route list has no route of {service}")

    # ------------------------------------------------------------------ exchanges
    def validate_body(self, schema, value, where):
        # The schema is checked with the document's components at its root, so that
        # '#/components/schemas/...' resolves as it does in the document.
        root = dict(schema) if isinstance(schema, dict) else {"allOf": [schema]}
        root["components"] = self.spec.get("components", {})
        root.setdefault("$schema", SCHEMA_DIALECT)
        validator = jsonschema.Draft202012Validator(root)
        problems = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        for e in problems[:5]:
            at = "/".join(str(p) for p in e.absolute_path) or "(the body)"
            self.fail(f"{where}: body at {at}: {e.message}")
        return not problems

    def check_exchanges(self, exchanges):
        documented = self.documented()
        succeeded = set()
        for n, x in enumerate(exchanges, 1):
            key = (x["service"], x["method"].upper(), x["route"])
            status = str(x["status"])
            where = f"exchange {n}: {x['service']} {key[1]} {x.get('target', x['route'])} -> {status}"
            op = documented.get(key)
            if op is None:
                self.fail(f"{where}: {key[1]} {key[2]} is not an operation of {key[0]} in docs/openapi.yaml")
                continue
            template = "^" + re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(x["route"])) + "$"
            target_path = x.get("target", x["route"]).split("?", 1)[0]
            if not re.match(template, target_path):
                self.fail(f"{where}: the target does not match the route {x['route']}")
            response = self.resolve((op.get("responses") or {}).get(status, (op.get("responses") or {}).get(int(status))))
            if response is None:
                self.fail(f"{where}: status {status} is not documented for {key[1]} {key[2]}")
                continue
            if status.startswith("2") or status == "101":
                succeeded.add(key)
            content = response.get("content") or {}
            media = (x.get("contentType") or "").split(";")[0].strip().lower()
            body = x.get("body") or ""
            if not content:
                if body:
                    self.fail(f"{where}: a body was sent where none is documented ({media or 'no content type'})")
                continue
            if media not in content:
                self.fail(f"{where}: content type {media or '(none)'} is not documented (documented: {', '.join(content)})")
                continue
            schema = content[media].get("schema")
            if schema is None:
                continue
            if media == "application/json" or media.endswith("+json"):
                try:
                    value = json.loads(body)
                except ValueError as e:
                    self.fail(f"{where}: the body is not JSON: {e}")
                    continue
                if self.validate_body(schema, value, where) and media == "application/problem+json":
                    if isinstance(value, dict) and value.get("status") != int(status):
                        self.fail(f"{where}: the problem's status {value.get('status')} is not the HTTP status")
            else:
                self.validate_body(schema, body, where)
        for key in sorted(set(documented) - succeeded):
            self.fail(f"no exchange answered {key[1]} {key[2]} on {key[0]} with success: the test does not exercise it")


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec")
    ap.add_argument("--routes")
    ap.add_argument("--exchanges")
    args = ap.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    c = Checker(spec)
    c.check_document()
    if args.routes:
        c.check_routes(read_lines(args.routes))
    if args.exchanges:
        c.check_exchanges(read_lines(args.exchanges))
    for e in c.errors:
        print("openapi: " + e)
    ops = sum(1 for _ in c.operations())
    print(f"openapi: {ops} operations, {len(c.errors)} mismatches")
    return 1 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
