"""OSC argument types (``osc_types``) and NTP timetags (``ntp``), as in python-osc."""
