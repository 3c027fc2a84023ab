"""One module per subcommand of ``%osc`` / ``osc-live``; each defines ``SUBCOMMAND``.

See :mod:`osc_live.commands.registry` for how to add one.
"""
