"""Values that hold a secret, whatever their key is called.

The detectors are Yelp's detect-secrets plugins (pinned in requirements.txt): cloud and service
tokens (AWS, Azure storage, GitHub, GitLab, Slack, Stripe, Twilio, SendGrid, npm, PyPI, OpenAI,
...), JWTs, private keys, credentials in URLs, ``password=`` style assignments, and Shannon
entropy. A few gaps of that release are filled from gitleaks' rules, and URLs carrying a password
without a user name (``redis://:pw@host``), which detect-secrets' Basic Auth plugin does not match.

Plugins are called through ``analyze_string`` only: ``analyze_line`` may run a plugin's
``verify``, which sends the candidate to its provider's API
(Yelp/detect-secrets@v1.5.0:detect_secrets/plugins/base.py), and a config check never sends a
value anywhere. Findings name the kind of secret, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import BasePlugin
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
)
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import CONFIG_DENYLIST_REGEX_TO_GROUP, KeywordDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

# Every pattern plugin of detect-secrets 1.5 except IPPublicDetector: an address is not a secret.
TOKEN_PLUGINS: tuple[BasePlugin, ...] = (
    ArtifactoryDetector(),
    AWSKeyDetector(),
    AzureStorageKeyDetector(),
    BasicAuthDetector(),
    CloudantDetector(),
    DiscordBotTokenDetector(),
    GitHubTokenDetector(),
    GitLabTokenDetector(),
    IbmCloudIamDetector(),
    IbmCosHmacDetector(),
    JwtTokenDetector(),
    MailchimpDetector(),
    NpmDetector(),
    OpenAIDetector(),
    PrivateKeyDetector(),
    PypiTokenDetector(),
    SendGridDetector(),
    SlackDetector(),
    SoftlayerDetector(),
    SquareOAuthDetector(),
    StripeDetector(),
    TelegramBotTokenDetector(),
    TwilioKeyDetector(),
)
# NpmDetector's pattern (`//.+/:_authToken=`) backtracks over every `//` of a long one-line value
# (seconds for a megabyte of minified JSON); it can only match where its literal occurs.
NEEDED_LITERALS: dict[type, str] = {NpmDetector: "_authToken"}
# Keys that detect-secrets' 1.5 plugins do not know, from gitleaks/gitleaks@v8.30.1:
# config/gitleaks.toml (rules gcp-api-key, github-fine-grained-pat, azure-ad-client-secret).
EXTRA_TOKENS = {
    "GCP API Key": re.compile(r"\bAIza[\w-]{35}"),
    "GitHub Token": re.compile(r"github_pat_\w{82}"),
    "Azure AD Client Secret": re.compile(r"(?<![\w~.])[a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34}"),
}
# A value is not a config file, but the keyword plugin's config-file mode is what finds
# `password=...` and `AccountKey=...` inside libpq, JDBC and Azure connection strings.
KEYWORDS = KeywordDetector()

# userinfo of any scheme://userinfo@host: a password after the colon, with or without a user.
URL_USERINFO = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://([^/?#\s@]{0,256})@")
# Go's MySQL driver form, user:password@tcp(host:3306)/db, has no scheme. Bounded repeats keep
# every pattern linear in the value's length (a ConfigMap value may be a whole file).
GO_DSN = re.compile(r"(?<![\w.+-])[^\s:/@]{0,64}:[^\s/@]{1,256}@(?:tcp|tcp6|unix)\(")
QUERY_PARAM = re.compile(r"[?&;]([A-Za-z0-9_.-]+)=[^&;#\s]")
CREDENTIAL_PARAMS = frozenset(
    {"password", "passwd", "pwd", "pass", "secret", "token", "signature", "sig", "auth"}
)
CREDENTIAL_PARAM_NAMES = frozenset(
    {"apikey", "accesskey", "secretkey", "privatekey", "sharedaccesskey"}
)
# The word split of design.apps.words: apiKey, API_KEY and api-key are all "api", "key".
WORD_BOUNDARY = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")

# Shannon entropy, with detect-secrets' default limits (4.5 for base64, 3.0 for hex). Tuned by
# what counts as a candidate rather than by the limits: hex runs shorter than 20 characters
# (UUID groups, short commit IDs, colours) are not keys; base64-alphabet runs must mix letters
# and digits, which long words joined by `/`, `-` or `_` (paths, names) do not.
BASE64 = Base64HighEntropyString()
HEX = HexHighEntropyString()
HEX_MIN_LENGTH = 20
BASE64_RUN = re.compile(r"[A-Za-z0-9+/=_-]+")
HEX_RUN = re.compile(r"[0-9a-fA-F]+")
# A URL's host and path are names joined by `/`: judged segment by segment (its credentials are
# found above, by userinfo and query).
URL_PATH = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s?#\"'<>]*")
# A digest names content rather than granting access: sha256:<hex>, or a value whose key says so.
DIGEST = re.compile(r"\b(?:sha(?:1|224|256|384|512)|md5):[0-9a-fA-F]+")
DIGEST_KEY_WORDS = frozenset({"commit", "revision", "digest", "checksum", "etag", "hash"})
DIGEST_WORD = re.compile(r"sha\d*|md5")


def findings(value: str, key_words: frozenset[str] = frozenset()) -> list[str]:
    """The kinds of secret ``value`` holds (empty when none); ``key_words`` are its key's words."""
    found = dict.fromkeys(_tokens(value))
    found.update(dict.fromkeys(_url_credentials(value)))
    found.update(dict.fromkeys(_entropy(value, key_words)))
    return list(found)


def _tokens(value: str) -> Iterator[str]:
    for plugin in TOKEN_PLUGINS:
        if (needs := NEEDED_LITERALS.get(type(plugin))) and needs not in value:
            continue
        if any(True for _ in plugin.analyze_string(value)):
            yield plugin.secret_type
    for kind, pattern in EXTRA_TOKENS.items():
        if pattern.search(value):
            yield kind
    if any(True for _ in KEYWORDS.analyze_string(value, CONFIG_DENYLIST_REGEX_TO_GROUP)):
        yield "secret assignment (password=, api_key=, ...)"


def _url_credentials(value: str) -> Iterator[str]:
    for match in URL_USERINFO.finditer(value):
        _, colon, password = match.group(1).partition(":")
        if colon and password:
            yield "password in a URL"
            break
    if GO_DSN.search(value):
        yield "password in a connection string"
    for name in QUERY_PARAM.findall(value):
        parts = [w.lower() for w in WORD_BOUNDARY.split(name) if w]
        # By the last word: access_token and X-Amz-Signature are credentials, token_type is not.
        if parts and (parts[-1] in CREDENTIAL_PARAMS or "".join(parts) in CREDENTIAL_PARAM_NAMES):
            yield "credential in a URL's query"
            break


def _entropy(value: str, key_words: frozenset[str]) -> Iterator[str]:
    text = DIGEST.sub(" ", value)
    text = URL_PATH.sub(lambda url: url.group(0).replace("/", " "), text)
    if not any(w in DIGEST_KEY_WORDS or DIGEST_WORD.fullmatch(w) for w in key_words):
        for run in HEX_RUN.findall(text):
            if (
                len(run) >= HEX_MIN_LENGTH
                and HEX.calculate_shannon_entropy(run) > HEX.entropy_limit
            ):
                yield "high-entropy hex string"
                break
    for run in BASE64_RUN.findall(text):
        mixed = any(c.isalpha() for c in run) and any(c.isdigit() for c in run)
        hexadecimal = HEX_RUN.fullmatch(run) is not None
        if (
            mixed
            and not hexadecimal
            and BASE64.calculate_shannon_entropy(run) > BASE64.entropy_limit
        ):
            yield "high-entropy string"
            break
