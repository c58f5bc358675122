#!/usr/bin/env bats
# The manual and the completion know every flag the parser knows.

load helpers

@test "every flag of every command is in its man page and the completion" {
  for cmd in create run start state kill delete list spec exec features ps pause resume update events checkpoint restore; do
    page="$REPO/man/oci-rt-$cmd.8"
    [ -f "$page" ]
    flags=$("$OCIRT" "$cmd" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
    [ -n "$flags" ]
    for f in $flags; do
      [ "$f" = --help ] && continue
      [ "$f" = --id ] || [ "$f" = --signal ] && continue  # positional arguments, not flags
      esc=${f//-/\\-}
      grep -qF -- "$esc" "$page" || grep -qF -- "$f" "$page" || { echo "$cmd: $f missing from $page"; false; }
      grep -qF -- "$f" "$REPO/contrib/completions/oci-rt.bash" || { echo "$cmd: $f missing from the completion"; false; }
    done
  done
  for f in --root --log --log-format --debug --systemd-cgroup --version; do
    esc=${f//-/\\-}
    grep -qF -- "$esc" "$REPO/man/oci-rt.8"
  done
}

@test "man pages render" {
  for p in "$REPO"/man/*.8; do
    run man -l "$p"
    [ "$status" -eq 0 ]
    [[ "$output" == *NAME* ]]
  done
}
