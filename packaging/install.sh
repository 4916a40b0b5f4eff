#!/bin/sh
# Installs an arena binary with the assets it reads: PREFIX/bin/arena, and PREFIX/share/arena
# (the layout templates, the skins and the OpenAPI document), where the binary looks for them wherever
# it is started from. Used by `make install` and the Dockerfile.
#   usage: packaging/install.sh BINARY PREFIX
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BINARY PREFIX" >&2; exit 2; }
binary=$1
prefix=$2
root=$(cd "$(dirname "$0")/.." && pwd)
install -d "$prefix/bin" "$prefix/share/arena/templates" "$prefix/share/arena/skins"
install -m 755 "$binary" "$prefix/bin/arena"
install -m 644 "$root"/assets/templates/*.json "$prefix/share/arena/templates/"
install -m 644 "$root"/assets/skins/*.json "$prefix/share/arena/skins/"
install -m 644 "$root/assets/openapi.yaml" "$prefix/share/arena/openapi.yaml"
