.PHONY: demo test setup lint
demo:            ## run the portal with demo data, workers and a simulated camera
	bin/demo
test:            ## run the whole test suite (PostgreSQL + Redis when present)
	bin/test
setup:
	bin/setup
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
