# Conveniences over ./dev for those who have make; ./dev is what the README and CI use.
.PHONY: run test lint bench
run:
	./dev run
test:
	./dev test
lint:
	.venv/bin/ruff check scheduler tests bench alembic
	.venv/bin/ruff format --check scheduler tests bench alembic
	.venv/bin/mypy
bench:
	.venv/bin/python bench/classify_eval.py
	.venv/bin/python bench/holdout_eval.py
	.venv/bin/python bench/backfill_bench.py
	.venv/bin/python bench/strava_reads.py
	.venv/bin/python -m bench.dispatch_bench
	.venv/bin/python bench/instances_lateness.py
	.venv/bin/python bench/instances_lateness.py --sqlite --instances 2
	.venv/bin/python bench/daemon_footprint.py
