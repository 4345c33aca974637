# Conveniences over ./dev for those who have make; ./dev is what the README and CI use.
.PHONY: run test lint bench
run:
	./dev run
test:
	./dev test
lint:
	./dev test --co -q >/dev/null
bench:
	.venv/bin/python bench/classify_eval.py
	.venv/bin/python bench/dispatch_bench.py
	.venv/bin/python bench/strava_reads.py
	.venv/bin/python bench/daemon_footprint.py
