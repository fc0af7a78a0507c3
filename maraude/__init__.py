"""Maraude: digital street outreach support — ranks and explains public posts for trained youth workers."""

LABELS: tuple[str, ...] = ("no_school", "no_job", "isolation", "distress")
"""The four signals, in the canonical order used by models, tables and files (see ../shared/LABELS.md)."""

__version__ = "0.1.0"
