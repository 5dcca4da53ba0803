#!/bin/sh
# lib.sh: the helpers the job scripts share.
#
# A CronJob runs one self-contained script from its ConfigMap, so nothing
# sources this file. A script names the helpers it uses on a line
#     # from lib.sh: NAME...
# and the build (jobs/__init__.py) puts their definitions there, without the
# comments above them, a blank line apart. What a ConfigMap carries, and what
# the tests run, is that built script.
#
# config_ok is read by the scripts that include config_error.
# shellcheck disable=SC2034

# A line of the job's log (stdout).
log() {
    printf '%s\n' "$*"
}

# A failure (stderr); the caller decides whether the run goes on.
err() {
    printf 'error: %s\n' "$*" >&2
}

# RFC 1123 label: a namespace, a policy or a drill name.
is_dns_label() {
    case $1 in
        '' | *[!a-z0-9-]* | -* | *-) return 1 ;;
    esac
    [ "${#1}" -le 63 ]
}

# RFC 1123 subdomain: the name of most objects (a class, a CronJob).
is_dns_subdomain() {
    case $1 in
        '' | *[!a-z0-9.-]* | [.-]* | *[.-] | *..* | *.-* | *-.*) return 1 ;;
    esac
    [ "${#1}" -le 253 ]
}

# Label key: optional DNS-subdomain prefix and '/', then a name of at most 63
# characters from [A-Za-z0-9._-] that starts and ends alphanumeric.
is_label_key() {
    case $1 in
        */*/*) return 1 ;;
        */*)
            is_dns_subdomain "${1%/*}" || return 1
            lk_name=${1#*/}
            ;;
        *) lk_name=$1 ;;
    esac
    case $lk_name in
        '' | *[!A-Za-z0-9._-]* | [!A-Za-z0-9]* | *[!A-Za-z0-9]) return 1 ;;
    esac
    [ "${#lk_name}" -le 63 ]
}

# Every invalid setting is reported before the script exits 2 (config_ok is 0),
# so one run shows them all.
config_ok=1
config_error() {
    printf 'config error: %s\n' "$*" >&2
    config_ok=0
}
