// The typed channel between the runtime (parent) and the container's init (child): a
// SOCK_SEQPACKET socketpair, one fixed-size message per send, so nothing is ever split.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <exception>
#include <string>

#include "ocirt/error.hpp"

namespace ocirt::sync {

enum class Type : uint32_t {
  Go = 1,          // parent -> child: maps written, cgroup joined; start setting up
  RunHooks,        // child -> parent: rootfs ready, run prestart + createRuntime hooks now
  HooksDone,       // parent -> child
  Created,         // child -> parent: ready to exec, waiting for start; text: warnings
  Ack,             // parent -> child: state recorded; carries the host pid of the child
  Start,           // parent -> child (foreground `run` only, instead of the exec fifo)
  SeccompFd,       // child -> parent: the seccomp listener fd (SCM_RIGHTS)
  SeccompDone,     // parent -> child: the fd went to linux.seccomp.listenerPath
  ConsoleFd,       // child -> parent: the pty master (SCM_RIGHTS), text: the pty name
  ConsoleDone,     // parent -> child: the master went to --console-socket
  Error,           // child -> parent: step + errno + text
  Ready,           // child -> parent: own scratch memory touched; move me into the cgroup now
  Reborn,          // child -> parent (rootless exec): a pidfd (SCM_RIGHTS) and value: the pid of
                   // the grandchild that goes on in the container's pid namespace; the sender exits
};

struct Message {
  Type type;
  int32_t err;    // Error: errno
  int64_t value;  // Go: the child's pid as the runtime sees it
  uint32_t kind;  // Error: ocirt::ErrorKind
  char field[128];  // Error: the input it is about (JSON path or option), "" if none
  char text[2048];
};

void send(int fd, Type t, int64_t value = 0);
// An exception as an Error message: an ocirt::Error keeps its kind, field and errno.
void send_error(int fd, const std::exception& e);
// The Error that an Error message carries.
ocirt::Error error_of(const Message& m);
void send_text(int fd, Type t, const std::string& text);
// One message carrying one fd (SCM_RIGHTS).
void send_fd(int fd, Type t, int passed, const std::string& text = "", int64_t value = 0);
// Receives one message. Returns false on EOF (the peer is gone). A passed fd lands in *fd_out.
bool recv(int fd, Message& m, int* fd_out = nullptr);
// Receives and requires `want`; an Error message is rethrown as ocirt::Error.
void expect(int fd, Type want, const char* step);

}  // namespace ocirt::sync
