"""The runner's side: the page, sign-in links and sessions, answers to reminders, class corrections.

Only `pages` imports Jinja2, and only when the first page is rendered: the idle daemon stays small.
"""
