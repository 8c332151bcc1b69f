#!/usr/bin/env python3
"""Run the MOU jobs: `python jobs.py --help`."""

import sys

from automations.cli import main

sys.exit(main())
