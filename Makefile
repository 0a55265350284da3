# The two commands of the README, plus the benchmark.
.PHONY: run test bench db-stop

run:
	@scripts/run.sh

test:
	@scripts/test.sh

bench:
	@scripts/bench.sh

db-stop:
	@scripts/db.sh stop
