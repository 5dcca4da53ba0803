"""Adapts ``rules`` to pulumi-policy. Building the pack starts its gRPC server, so only
``__main__`` calls ``build_pack``; tests call the validate functions directly."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

try:
    from policies import rules
except ImportError:  # run by the CLI from inside policies/, with the project root on sys.path
    import rules  # type: ignore[no-redef]

PACK_NAME = "eks-config-storage-rules"
LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}
CONFIG_SCHEMA = PolicyConfigSchema(
    properties={
        "environment": {"type": "string"},
        "production": {"type": "boolean"},
        "protect": {"type": "boolean"},
        "permissionsBoundary": {"type": "string"},
    },
    required=["environment", "production", "protect"],
)


def settings(config: Any) -> rules.Settings:
    return rules.Settings(
        environment=str(config["environment"]),
        production=bool(config["production"]),
        protect=bool(config["protect"]),
        permissions_boundary=str(config.get("permissionsBoundary") or ""),
    )


def resource_policy(rule: rules.ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        subject = rules.Subject(
            type=args.resource_type,
            name=args.name,
            urn=args.urn,
            props=args.props,
            protect=bool(args.opts.protect),
        )
        for message in rule.check(subject, settings(args.get_config())):
            report_violation(f"[{rule.principle}] {message}", None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=f"{rule.principle}: {rule.description}",
        enforcement_level=LEVELS[rule.enforcement],
        validate=validate,
        config_schema=CONFIG_SCHEMA,
    )


def stack_policy(rule: rules.StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        subjects = [
            rules.Subject(r.resource_type, r.name, r.urn, r.props, bool(r.opts.protect))
            for r in args.resources
        ]
        for urn, message in rule.check(subjects, settings(args.get_config())):
            report_violation(f"[{rule.principle}] {message}", urn)

    return StackValidationPolicy(
        name=rule.name,
        description=f"{rule.principle}: {rule.description}",
        enforcement_level=LEVELS[rule.enforcement],
        validate=validate,
        config_schema=CONFIG_SCHEMA,
    )


def policies() -> list:
    return [resource_policy(r) for r in rules.RESOURCE_RULES] + [
        stack_policy(r) for r in rules.STACK_RULES
    ]


def build_pack() -> PolicyPack:
    return PolicyPack(name=PACK_NAME, policies=policies())
