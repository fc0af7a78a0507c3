"""Maraude models package."""
