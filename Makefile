# The two commands of the README. Both set up everything they need on a fresh machine.
.PHONY: demo test bootstrap

demo: bootstrap
	.venv/bin/feedbackbot demo

test:
	bash scripts/test.sh

bootstrap:
	bash scripts/bootstrap.sh
