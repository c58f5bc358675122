# bash completion for oci-rt
_oci_rt() {
  local cur prev words cword
  _init_completion || return
  local commands="create start run exec state kill delete list spec features ps pause resume update events checkpoint restore"
  local global="--root --log --log-format --debug --systemd-cgroup --version --help"
  local cmd="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      --root|--log|--log-format) ((i++)) ;;
      -*) ;;
      *) cmd=${words[i]}; break ;;
    esac
  done
  local root=/run/oci-rt
  for ((i = 1; i < cword; i++)); do [[ ${words[i]} == --root ]] && root=${words[i+1]}; done
  case "$prev" in
    --root|--bundle|-b) _filedir -d; return ;;
    --log|--pid-file|--console-socket|--process|-p) _filedir; return ;;
    --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
    --format|-f) [[ $cmd == list || $cmd == ps ]] && { COMPREPLY=($(compgen -W "table json" -- "$cur")); return; } ;;
    --resources|-r) _filedir; return ;;
  esac
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$commands $global" -- "$cur"))
    return
  fi
  local flags=""
  case "$cmd" in
    create) flags="--bundle --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds --pidfd-socket --help" ;;
    run) flags="--bundle --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds --pidfd-socket --detach --keep --no-subreaper --help" ;;
    exec) flags="--process --cwd --env --user --additional-gids --cap --no-new-privs --apparmor --process-label --cgroup --preserve-fds --ignore-paused --detach --pid-file --tty --console-socket --pidfd-socket --help" ;;
    kill) flags="--all --help" ;;
    delete) flags="--force --help" ;;
    list) flags="--format --quiet --help" ;;
    spec) flags="--bundle --rootless --help" ;;
    ps) flags="--format --help" ;;
    update) flags="--resources --blkio-weight --cpu-period --cpu-quota --cpu-burst --cpu-share --cpu-rt-period --cpu-rt-runtime --cpu-idle --cpuset-cpus --cpuset-mems --memory --memory-reservation --memory-swap --kernel-memory --kernel-memory-tcp --pids-limit --l3-cache-schema --mem-bw-schema --help" ;;
    events) flags="--stats --interval --help" ;;
    checkpoint) flags="--image-path --work-path --parent-path --leave-running --tcp-established --ext-unix-sk --shell-job --lazy-pages --page-server --status-fd --file-locks --pre-dump --manage-cgroups-mode --empty-ns --auto-dedup --help" ;;
    restore) flags="--console-socket --image-path --work-path --tcp-established --ext-unix-sk --shell-job --file-locks --manage-cgroups-mode --bundle --detach --pid-file --no-subreaper --no-pivot --no-new-keyring --parent-path --empty-ns --auto-dedup --lazy-pages --lsm-profile --lsm-mount-context --help" ;;
    *) flags="--help" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ $cmd != list && $cmd != spec && $cmd != create && $cmd != run ]]; then
    COMPREPLY=($(compgen -W "$(ls "$root" 2>/dev/null)" -- "$cur"))
  elif [[ $cmd == kill ]]; then
    COMPREPLY=($(compgen -W "$(kill -l | tr -d ')0-9' | tr -s ' \t' '\n')" -- "$cur"))
  fi
}
complete -F _oci_rt oci-rt
