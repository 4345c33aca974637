"""recovery-scheduler: timed recovery reminders for runners, from their Strava activities."""

__version__ = "0.1.0"
