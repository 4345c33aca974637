"""Activities from FIT, GPX and TCX files: a second source beside Strava (parsers, importer, watcher)."""
