"""The daemon's HTTP listener: health, status and the Strava webhook receiver."""
