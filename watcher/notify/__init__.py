"""Composing (pure) and delivering (apprise) what attorneys and coordinators receive."""
