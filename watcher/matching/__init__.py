"""Linking a change to the firm's case types."""
