"""The escrow check against the stand-in cluster: the controller's certificate (a stand-in
``wget``) against the escrowed one (the Secret the ExternalSecret syncs), on a first cluster,
after a rebuild with and without restore, and for a second key escrowed under the next
generation; whatever it cannot prove fails the Job, which the backup alerts watch."""

from __future__ import annotations

import base64

import pytest

from design import escrow
from tests.support.kube_harness import ScriptBin
from tests.support.snapshot_harness import SHELLS

NS = "kube-system"
ENV = escrow.check_env(
    namespace=NS,
    controller="sealed-secrets-controller",
    remote=escrow.generation_key("prod", "eks-prod", 1),
    generation=1,
)
WGET = """#!/bin/sh
# The stand-in controller: serves FAKE_CERT's content at CONTROLLER_URL, or fails.
[ "$#" -eq 6 ] && [ "$1" = -q ] && [ "$2" = -T ] && [ "$4" = -O ] && [ "$5" = - ] || exit 9
[ "$6" = "$CONTROLLER_URL" ] || exit 9
[ -f "${FAKE_CERT:-}" ] || { echo "wget: server returned error: HTTP/1.1 503" >&2; exit 1; }
cat "$FAKE_CERT"
"""
KEY_ONE = "-----BEGIN CERTIFICATE-----\nMIIB1TCCAX+gAwIBAgIUone\nAAAA\n-----END CERTIFICATE-----\n"
KEY_TWO = "-----BEGIN CERTIFICATE-----\nMIIB1TCCAX+gAwIBAgIUtwo\nBBBB\n-----END CERTIFICATE-----\n"


@pytest.fixture(params=SHELLS)
def check(request, tmp_path):
    bin_ = ScriptBin(tmp_path, request.param)
    bin_.write_tool("wget", WGET)

    def run(*, active: str | None, escrowed: str | None, env: dict | None = None):
        cert = tmp_path / "cert.pem"
        if active is not None:
            cert.write_text(active)
        secrets = []
        if escrowed is not None:
            data = {"tls.crt": base64.b64encode(escrowed.encode()).decode()}
            secrets.append({"namespace": NS, "name": escrow.ESCROWED_CERT, "data": data})
        full_env = {**ENV, "FAKE_CERT": str(cert), **(env or {})}
        return bin_.execute(escrow.CHECK_SCRIPT_KEY, {"secrets": secrets}, full_env)

    return run


def test_the_escrowed_key_is_the_active_one(check):
    # The escrowed PEM may wrap or end differently: the certificate is what counts.
    result = check(active=KEY_ONE, escrowed=KEY_ONE.rstrip("\n"))

    assert result.returncode == 0, result.stderr
    assert result.lines() == [
        f"the active sealing key is the one escrowed at {ENV['REMOTE']} (generation 1)"
    ]
    assert result.calls == [
        [
            "get",
            "secret",
            "--namespace",
            NS,
            escrow.ESCROWED_CERT,
            "--ignore-not-found",
            "-o",
            "jsonpath={.data.tls\\.crt}",
        ]
    ]


def test_a_rebuild_without_restore_fails_until_the_new_key_is_escrowed(check):
    # The controller made a new key; generation 1 still holds the old one (IfNotExists).
    result = check(active=KEY_TWO, escrowed=KEY_ONE)

    assert result.returncode == 1
    (line,) = result.errors()
    assert "the controller's key is not the one escrowed at prod/sealed-secrets/eks-prod/" in line
    assert "sealedSecrets.escrowGeneration: 2" in line
    # Escrowed under the next generation, it passes again (the old entry stays).
    second = {
        "REMOTE": escrow.generation_key("prod", "eks-prod", 2),
        "GENERATION": "2",
    }
    result = check(active=KEY_TWO, escrowed=KEY_TWO, env=second)
    assert result.returncode == 0, result.stderr


def test_a_rebuild_with_restore_passes(check):
    assert check(active=KEY_ONE, escrowed=KEY_ONE).returncode == 0


def test_nothing_escrowed_yet_fails(check):
    result = check(active=KEY_ONE, escrowed=None)

    assert result.returncode == 1
    assert result.errors() == [
        f"error: nothing is escrowed at {ENV['REMOTE']} yet (generation 1): the PushSecret has "
        f"not pushed the key; kubectl describe pushsecret -n {NS} sealing-key-escrow"
    ]


@pytest.mark.parametrize("served", [None, "<html>bad gateway</html>"])
def test_a_controller_that_serves_no_certificate_fails(check, served):
    result = check(active=served, escrowed=KEY_ONE)

    assert result.returncode == 1
    assert result.calls == []
    assert result.errors()[-1].startswith("error: ")


@pytest.mark.parametrize("missing", sorted(ENV))
def test_missing_configuration_is_refused(check, missing):
    result = check(active=KEY_ONE, escrowed=KEY_ONE, env={missing: ""})

    assert result.returncode == 2
    assert result.errors() == [f"config error: {missing} is required"]
