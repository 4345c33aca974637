"""Test doubles: faithful local stand-ins for the services the scheduler talks to."""
