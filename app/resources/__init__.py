"""Typed models of the ten kinds, their validation, and loading them from a folder."""
