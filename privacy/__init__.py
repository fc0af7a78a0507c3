"""Maraude privacy layer: the one place that handles raw identities.

Redaction (:mod:`privacy.redact`), keyed pseudonyms (:mod:`privacy.pseudonym`), keys
(:mod:`privacy.keys`), the encrypted identity vault (:mod:`privacy.vault`), the raw → clean hand-off
(:mod:`privacy.protect`), reveal, retention, opt-outs and leak scanning. See docs/privacy.md.
"""
