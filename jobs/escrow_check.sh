#!/bin/sh
# escrow_check.sh: the Sealed Secrets controller's key is the escrowed one.
#
# Run hourly by the escrow check CronJob. Needs sh, kubectl, wget, base64, tr.
#
# Environment (all required):
#   NAMESPACE       the controller's namespace
#   ESCROW_OBJECT     Secret (in NAMESPACE) holding tls.crt, the certificate of
#                   the escrow entry of the current generation, synced by an
#                   ExternalSecret
#   CONTROLLER_URL  the controller's certificate endpoint
#                   (http://<service>.<namespace>.svc:8080/v1/cert.pem)
#   REMOTE          the entry's name in Secrets Manager (for messages)
#   GENERATION      the current escrow generation (for messages)
#
# The controller serves the certificate of its newest key
# (bitnami-labs/sealed-secrets@v0.30.0:pkg/controller/server.go:92-103), what
# kubeseal seals with. When it is not the escrowed certificate, SealedSecrets
# sealed from now on can be opened only by a key nobody can restore.
#
# Exit status: 0 the active key is escrowed; 1 it is not, nothing is escrowed
# yet, or a read failed (the Job fails and the backup alerts fire); 2 invalid
# configuration.
set -eu

LC_ALL=C
export LC_ALL

# from lib.sh: err

config_ok=1
for var in NAMESPACE ESCROW_OBJECT CONTROLLER_URL REMOTE GENERATION; do
    eval "value=\${$var:-}"
    if [ -z "$value" ]; then
        printf 'config error: %s is required\n' "$var" >&2
        config_ok=0
    fi
done
if [ "$config_ok" -ne 1 ]; then
    exit 2
fi

# PEM text without line breaks or blanks: the same certificate whatever the
# wrapping or the trailing newline.
flat() {
    tr -d ' \t\r\n'
}

if ! active=$(wget -q -T 30 -O - "$CONTROLLER_URL" </dev/null); then
    err "cannot read the controller's certificate from $CONTROLLER_URL"
    exit 1
fi
active=$(printf '%s' "$active" | flat)
case $active in
    -----BEGINCERTIFICATE-----*-----ENDCERTIFICATE-----) ;;
    *)
        err "the controller at $CONTROLLER_URL served no certificate"
        exit 1
        ;;
esac

if ! encoded=$(kubectl get secret --namespace "$NAMESPACE" "$ESCROW_OBJECT" --ignore-not-found \
    -o 'jsonpath={.data.tls\.crt}' </dev/null); then
    err "cannot read $NAMESPACE/$ESCROW_OBJECT"
    exit 1
fi
if [ -z "$encoded" ]; then
    err "nothing is escrowed at $REMOTE yet (generation $GENERATION): the PushSecret has not pushed the key; kubectl describe pushsecret -n $NAMESPACE sealing-key-escrow"
    exit 1
fi
if ! escrowed=$(printf '%s' "$encoded" | base64 -d); then
    err "$NAMESPACE/$ESCROW_OBJECT holds no base64 certificate"
    exit 1
fi
escrowed=$(printf '%s' "$escrowed" | flat)

if [ "$active" != "$escrowed" ]; then
    err "the controller's key is not the one escrowed at $REMOTE (generation $GENERATION): SealedSecrets sealed now could never be restored. Restore that generation (sealedSecrets.restoreEscrowedGenerations) if Git holds SealedSecrets sealed with it, or escrow this key under the next one (sealedSecrets.escrowGeneration: $((GENERATION + 1))); earlier entries stay"
    exit 1
fi
printf 'the active sealing key is the one escrowed at %s (generation %s)\n' "$REMOTE" "$GENERATION"
