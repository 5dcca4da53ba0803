"""Evaluates a ValidatingAdmissionPolicy's CEL offline (cel-python), as the API server would for
one request: the match constraints and conditions decide whether the policy applies, then every
validation must hold (kubernetes/kubernetes@v1.34.0: staging/src/k8s.io/apiserver/pkg/admission/
plugin/policy/validating). Kubernetes' CEL library extensions are not modelled; the policies use
only standard CEL (has, in, ==, &&, ||, ?:, + on strings)."""

from __future__ import annotations

from tests.support.upstream_schema import cel_holds


def denials(
    spec: dict,
    *,
    username: str,
    operation: str,
    resource: str,
    old: dict | None = None,
    new: dict | None = None,
) -> list[str]:
    """The messages of the validations ``spec`` fails for this request (empty: admitted)."""
    applies = any(
        operation in rule["operations"] and resource in rule["resources"]
        for rule in spec["matchConstraints"]["resourceRules"]
    )
    if not applies:
        return []
    variables = {
        "request": {
            "userInfo": {"username": username},
            "operation": operation,
            "resource": {"resource": resource},
        },
        "object": new,
        "oldObject": old,
    }
    if not all(cel_holds(c["expression"], variables) for c in spec.get("matchConditions", [])):
        return []
    return [v["message"] for v in spec["validations"] if not cel_holds(v["expression"], variables)]
