# A full disk for the scenario tests (store_full.sh, exit_codes.sh): source
# it after lib.bash. tests/hooks/enospc.c, built next to the binary as
# lk_enospc.so and preloaded into it (lkf, or LD_PRELOAD=$ENOSPC for serve),
# fails every write to the files whose path starts with what `full PREFIX`
# wrote into the flag file, with ENOSPC as a full file system does; `unfull`
# frees the disk again. Other programs (sqlite3, curl) are not preloaded.
ENOSPC="$(dirname "$LK")/lk_enospc.so"
[ -f "$ENOSPC" ] || { echo "FAIL - no $ENOSPC (built by the lk_enospc target)"; exit 1; }
export LK_TEST_ENOSPC_FLAG="$T/disk-full"
# The ASan build: the sanitizer's runtime is not the first library then.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
full() { printf '%s\n' "$1" >"$LK_TEST_ENOSPC_FLAG"; } # full PREFIX: writes there fail
unfull() { rm -f "$LK_TEST_ENOSPC_FLAG"; }
lkf() { LD_PRELOAD="$ENOSPC" "$LK" "$@"; } # lkf ARG...: listkeeper on the disk as it is
