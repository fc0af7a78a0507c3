"""The hand-written French training corpus: parts written by the team, merged and split by ``models.corpus.build``."""
