"""The daemon: composition root, periodic jobs and the process lifecycle of `recovery run`."""
