"""`python -m bench.caption_latency`: see bench/caption_latency/__init__.py."""

from bench.caption_latency.cli import main

raise SystemExit(main())
