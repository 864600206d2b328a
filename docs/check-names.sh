#!/usr/bin/env bash
# Checks that every backticked file or folder path in README.md and docs/**/*.md exists in the tree: a token in
# backticks with a slash that ends in a file extension (`src/runtime/compile.ts`) or in a slash (`src/gpu/`).
# Placeholders (<family>, *, {a,b}, $VAR), URLs, ../ paths and build outputs (lib/, dist/) are skipped; a
# `path:line` suffix is dropped, and so are git-ignored paths (`models/`, `fuzz-failures/`). ABSENT lists paths
# a doc names on purpose although the tree lacks them (an alternative that was not taken).
# Run from anywhere: bash docs/check-names.sh
set -u
cd "$(dirname "$0")/.."
ABSENT=${ABSENT:-"src/webgpu/kernels/"}
fail=0
for f in README.md $(find docs -name '*.md' | sort); do
  while IFS= read -r tok; do
    path=${tok%%:*}
    case "$path" in
      *'<'*|*'*'*|*'{'*|*'$'*|*' '*|http*|../*|./*|lib/*|dist/*|node_modules/*|/*|~*) continue ;;
    esac
    [[ "$path" == */* ]] || continue
    [[ "$path" =~ \.(ts|js|mjs|cjs|sh|md|json|html|png|yml|yaml)$ || "$path" == */ ]] || continue
    [[ " $ABSENT " == *" $path "* ]] && continue
    git check-ignore -q "$path" && continue
    if [ ! -e "$path" ] && [ ! -e "$(dirname "$f")/$path" ]; then
      echo "missing: $f: \`$tok\`"; fail=1
    fi
  done < <(grep -o '`[^`]*`' "$f" | tr -d '`' | sort -u)
done
[ $fail = 0 ] && echo "names ok"
exit $fail
