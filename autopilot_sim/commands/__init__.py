"""One module per `autopilot-sim` subcommand; each exposes `register(subparsers)`."""
