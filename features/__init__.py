"""Maraude features package."""
