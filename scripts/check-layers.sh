#!/usr/bin/env bash
# DESIGN.md section 3, STYLE.md section 10: the layers point one way.
#     core -> crypto -> store -> lists -> mail -> { delivery, intake, web } -> cli
# Each layer library may use only symbols defined in the layers to its left:
# a call from a layer into its peer (delivery, intake and web into each
# other) or into a layer to its right fails here, with the symbol and where
# it is defined, even when the final binary (which links them all) would
# link. Reads the static libraries with nm.
#   usage: scripts/check-layers.sh DIR   (DIR holds liblk_<layer>.a)
set -euo pipefail
dir=${1:?directory of the layer libraries}
order=(core crypto store lists mail delivery intake web cli)
declare -A rank=([core]=0 [crypto]=1 [store]=2 [lists]=3 [mail]=4
                 [delivery]=5 [intake]=5 [web]=5 [cli]=6)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for l in "${order[@]}"; do
  lib="$dir/liblk_$l.a"
  [ -f "$lib" ] || { echo "layers: $lib is missing" >&2; exit 1; }
  nm -g --defined-only "$lib" 2>/dev/null | awk 'NF >= 3 && $2 ~ /^[A-TV-Z]$/ { print $3 }' |
    sort -u > "$work/$l.def"
  nm -u "$lib" 2>/dev/null | awk '{ print $NF }' | grep -v ':$' | sort -u > "$work/$l.undef"
done
bad=0
for l in "${order[@]}"; do
  for o in "${order[@]}"; do
    [ "$l" = "$o" ] && continue
    # l may use o only if o is strictly to its left
    [ "${rank[$o]}" -lt "${rank[$l]}" ] && continue
    if hits=$(comm -12 "$work/$l.undef" "$work/$o.def") && [ -n "$hits" ]; then
      while read -r sym; do
        echo "layers: $l uses $sym, defined in $o (DESIGN.md section 3)" >&2
      done <<< "$hits"
      bad=1
    fi
  done
done
[ "$bad" -eq 0 ] || exit 1
echo "layers: each of ${order[*]} uses only the layers to its left"
