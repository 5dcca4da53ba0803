"""Pure design functions: names and policy documents, without Pulumi."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from design import iam, naming
from design.kubeconfig import exec_kubeconfig


@given(
    cluster=st.from_regex(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", fullmatch=True),
    purpose=st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True),
)
def test_role_names_fit_iam_or_fail_loudly(cluster, purpose):
    expected = f"{cluster}-{purpose}"
    if len(expected) <= 64:
        assert naming.role_name(cluster, purpose) == expected
    else:
        with pytest.raises(ValueError, match="exceeds 64"):
            naming.role_name(cluster, purpose)


def test_key_policy_without_optional_principals_keeps_only_the_root():
    policy = iam.key_policy(
        root_arn="arn:aws:iam::1:root", admin_arns=[], user_arns=[], service_user_arns=[]
    )
    assert [s["Sid"] for s in policy["Statement"]] == ["AccountRoot"]


def test_key_policy_principals_are_sorted_and_deduplicated():
    policy = iam.key_policy(
        root_arn="arn:aws:iam::1:root",
        admin_arns=[],
        user_arns=["arn:aws:iam::1:role/b", "arn:aws:iam::1:role/a"],
        service_user_arns=["arn:aws:iam::1:role/b"],
    )
    users = next(s for s in policy["Statement"] if s["Sid"] == "KeyUsers")
    assert users["Principal"]["AWS"] == ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]


def test_kubeconfig_carries_no_credentials():
    kubeconfig = exec_kubeconfig(
        cluster_name="c", endpoint="https://e", ca_data="Y2E=", region="eu-west-1"
    )
    text = str(kubeconfig)
    assert "token" not in text.replace("get-token", "")
    assert "client-key" not in text and "password" not in text
    assert kubeconfig["current-context"] == "c"


def test_arn_resource_name():
    assert naming.arn_resource_name("arn:aws:iam::1:role/team/admin") == "admin"
