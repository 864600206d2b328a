#!/usr/bin/env bash
# Checks that every relative link in README.md and docs/**/*.md resolves: the file or folder exists, and a
# #fragment names a heading of the target (GitHub's slugs). Run from anywhere: bash docs/check-links.sh
# Links to files that another change of the same issue adds may be listed in PENDING until that change lands.
set -u
cd "$(dirname "$0")/.."
PENDING=${PENDING:-"docs/dependencies.md"}
slugs() { # GitHub heading anchors of a markdown file, one a line
  grep -E '^#{1,6} ' "$1" | sed -E 's/^#+ +//' | tr '[:upper:]' '[:lower:]' \
    | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'
}
fail=0
for f in README.md $(find docs -name '*.md' | sort); do
  dir=$(dirname "$f")
  for link in $(grep -o '](\([^)]*\))' "$f" | sed -E 's/^\]\((.*)\)$/\1/'); do
    case "$link" in http://*|https://*|mailto:*) continue ;; esac
    path=${link%%#*}; frag=; [[ "$link" == *#* ]] && frag=${link#*#}
    if [ -z "$path" ]; then target=$f; else target=$(realpath -m --relative-to=. "$dir/$path"); fi
    if [ ! -e "$target" ]; then
      if [[ " $PENDING " == *" $target "* ]]; then echo "pending: $f -> $link"; continue; fi
      echo "missing: $f -> $link"; fail=1; continue
    fi
    if [ -n "$frag" ] && [[ "$target" == *.md ]] && ! slugs "$target" | grep -qxF "$frag"; then
      echo "no heading #$frag: $f -> $link"; fail=1
    fi
  done
done
[ $fail = 0 ] && echo "links ok"
exit $fail
