"""Developer tools for the SaaS platform: event contracts, the compatibility gate, the event log
recorder (runtime, `saas_devtools.event_log`) and the replay tool (`saas_devtools.replay`)."""
