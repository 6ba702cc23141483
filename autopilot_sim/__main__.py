"""`python -m autopilot_sim` runs the command line."""

from autopilot_sim.cli import main

raise SystemExit(main())
