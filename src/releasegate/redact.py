"""Masking of secret values (everything that came from a `${VAR}`) in every output."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

MASK = "********"

# Below this length a value cannot be masked without mangling ordinary text ("1", "on");
# such values are still used, and the loader warns that they are too short to be secret.
MIN_SECRET_LENGTH = 4
# Words that a ${VAR} may hold (`verify_tls = "${VERIFY_TLS}"`) but that are no secret, and that
# every JSON file is full of: masking `true` would break results.json and uptime.json.
NOT_SECRETS = frozenset({"true", "false", "null", "none"})


def _variants(secret: str) -> set[str]:
    """The forms a value takes when it is written into URLs, form bodies, JSON or HTML."""
    forms = {secret, quote(secret, safe=""), json.dumps(secret)[1:-1]}
    # application/x-www-form-urlencoded, as Python writes it and as browsers do (WHATWG: space
    # as +, * left as is, ~ escaped): a password typed into a sign-in form, in a HAR or trace
    forms.add(quote_plus(secret, safe=""))
    forms.add(quote_plus(secret, safe="*").replace("~", "%7E"))
    forms.add(secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


@dataclass(frozen=True)
class Redactor:
    """Replaces every known secret value, in each form it can be written in, with a mask."""

    secrets: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Redactor:
        return cls(
            frozenset(
                s for s in secrets if len(s) >= MIN_SECRET_LENGTH and s.lower() not in NOT_SECRETS
            )
        )

    def merged(self, other: Iterable[str]) -> Redactor:
        return Redactor.of([*self.secrets, *other])

    @property
    def _forms(self) -> list[str]:
        forms: set[str] = set()
        for secret in self.secrets:
            forms |= _variants(secret)
        # longest first, so a secret that contains another is masked whole
        return sorted(forms, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def contains_secret(self, text: str) -> bool:
        return any(form in text for form in self._forms)

    def __bool__(self) -> bool:
        return bool(self.secrets)
