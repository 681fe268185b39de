"""``python -m app`` is the ``annserve`` command."""

from app.cli import main

raise SystemExit(main())
