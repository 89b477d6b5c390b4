"""Pure planners: what to scrape or discover when, and how to turn results into rows."""
