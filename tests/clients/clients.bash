# Shared by the client tests: every scenario runs with oci-rt, then with runc.

# both FN: run scenario FN with runtime "ocirt", then "runc"; says which one failed
both() {
  local rt
  for rt in ocirt runc; do
    echo "# runtime $rt"
    "$1" "$rt" || { echo "failed with $rt"; return 1; }
  done
}
