"""The web dashboard: a page served by `serve` (live) and `view` (replay), and its JSON views."""
