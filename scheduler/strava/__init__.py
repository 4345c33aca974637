"""Strava: connecting athletes, pulling their activities, webhooks, and the app's rate budget."""
