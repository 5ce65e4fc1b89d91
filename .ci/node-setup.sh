#!/usr/bin/env bash
# Put Node $STRATUS_NODE_VERSION first on PATH, whatever Node the machine has: the official build, as the
# npm registry publishes it (node-<os>-<arch>@<version>, the platform packages of the `node` package), unpacked
# once into .ci/node/<version>/ (gitignored) and reused. Sourced by .ci/run; also usable alone:
#   STRATUS_NODE_VERSION=22.23.5 . .ci/node-setup.sh && npx vitest run test/infra/
# Returns non-zero (and prints why) when the binary cannot be fetched or does not run.
stratus_node_setup() {
  local version="${STRATUS_NODE_VERSION:?set STRATUS_NODE_VERSION}"
  local root dir os arch pkg tmp tarball
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/node"
  dir="$root/$version"
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) echo "::: node: no npm-published Node build for $(uname -s)" >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "::: node: no npm-published Node build for $(uname -m)" >&2; return 1 ;;
  esac
  pkg="node-$os-$arch@$version"
  if [ ! -x "$dir/bin/node" ]; then
    echo "::: node: fetching $pkg from the npm registry into $dir"
    tmp="$(mktemp -d)"
    if ! tarball="$(cd "$tmp" && npm pack "$pkg" --silent)" || [ -z "$tarball" ]; then
      echo "::: node: npm pack $pkg failed" >&2
      rm -rf "$tmp"
      return 1
    fi
    mkdir -p "$dir"
    # The package holds the release as published: bin/node (npm stays the machine's, run by this node).
    if ! tar xzf "$tmp/$tarball" -C "$dir" --strip-components=1 package/bin/node; then
      echo "::: node: could not unpack $tarball" >&2
      rm -rf "$tmp" "$dir"
      return 1
    fi
    rm -rf "$tmp"
  fi
  PATH="$dir/bin:$PATH"
  export PATH
  hash -r
  local ran
  ran="$(node --version 2>/dev/null)"
  if [ "$ran" != "v$version" ]; then
    echo "::: node: expected v$version first on PATH, found ${ran:-nothing}" >&2
    return 1
  fi
  echo "::: node: $ran ($(command -v node)), npm $(npm --version)"
}
stratus_node_setup
