"""The stand-in kubectl's escrow form: what jobs/escrow_check.sh calls.

State keys:
  secrets  [{"namespace", "name", "data": {"key": "<base64>"}}]

Form:
  get secret --namespace NS NAME --ignore-not-found -o jsonpath={.data.tls\\.crt}
"""

from __future__ import annotations

from fake_kube_core import Command, UnsupportedError

CERT_TEMPLATE = "jsonpath={.data.tls\\.crt}"


class EscrowForms:
    state: dict

    def get_secret(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        if (
            len(args) != 1
            or cmd.require("--ignore-not-found") != "true"
            or cmd.require("--output") != CERT_TEMPLATE
        ):
            raise UnsupportedError("get secret form")
        cmd.done()
        for secret in self.state.get("secrets", []):
            if (secret["namespace"], secret["name"]) == (ns, args[0]):
                return secret.get("data", {}).get("tls.crt", "")
        return ""  # kubectl prints nothing and exits 0
