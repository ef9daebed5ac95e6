#!/usr/bin/env bash
# Make (once) a Debian bookworm image with Python 3.11 from Debian's packages and import it into
# podman as the image named by $1, for building the Dockerfile where no registry is reachable.
# The root file system is kept as a tar under $IMGSTREAM_IMAGE_CACHE so a wiped image store
# does not cost another bootstrap.
set -euo pipefail
image=${1:-localhost/debian-python:bookworm}
cache=${IMGSTREAM_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imgstream}
tar="$cache/debian-python-bookworm.tar"

podman image exists "$image" && exit 0
mkdir -p "$cache"
if [ ! -s "$tar" ]; then
  # Builds inside the image reach package indexes through the same TLS-inspecting proxy as this
  # machine, so the base trusts the machine's extra certificate authorities.
  mmdebstrap --quiet --variant=minbase --format=tar \
    --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
    --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
    --customize-hook='cp /usr/local/share/ca-certificates/*.crt "$1"/usr/local/share/ca-certificates/ 2>/dev/null || true; chroot "$1" update-ca-certificates' \
    --customize-hook='printf "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n" > "$1"/etc/pip.conf' \
    bookworm "$tar.partial"
  mv "$tar.partial" "$tar"
fi
podman import --quiet --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' "$tar" "$image" >/dev/null
