"""The catalogue of design rules (policies/rules/__init__.py): every concern module has its file
of cases here, no rule judges what it does not govern, and production-only rules stay quiet
elsewhere."""

from __future__ import annotations

from pathlib import Path

from policies import rules
from tests.support.rule_subjects import (
    DEV,
    PROD,
    cluster,
    storage_class,
    subject,
)


def test_every_concern_module_has_its_cases_file():
    here = Path(__file__).resolve().parent
    for module in rules.CONCERNS:
        name = module.__name__.rsplit(".", 1)[-1]
        assert (here / f"test_{name}.py").is_file(), name


def test_rules_ignore_resources_they_do_not_govern():
    unrelated = subject("aws:s3/bucket:Bucket", {"bucket": "b"})
    for rule in rules.RESOURCE_RULES:
        assert list(rule.check(unrelated, PROD)) == []


def test_production_rules_only_apply_in_production():
    assert list(rules.lifecycle.production_retains_data(storage_class(), DEV)) == []
    public = cluster(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"])
    assert list(rules.identity.eks_endpoint_exposure(public, DEV)) == []
    assert list(rules.identity.eks_endpoint_exposure(public, PROD))
