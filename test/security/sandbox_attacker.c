/* A hostile process worker: it tries the attack its first argument names, once, at start, and
 * says how that went on stdout before it exits ("blocked: ATTACK: REASON" or "ESCAPED: ATTACK").
 * An attack the sandbox treats as a violation never gets to say anything: the node kills the
 * worker and names the call. Written in C so each attack is exactly one system call. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static long attack(const char* name, const char* target) {
  if (!strcmp(name, "ptrace")) return ptrace(PTRACE_ATTACH, getppid(), 0, 0);
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, -3, 0);
  if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "user", "x", "y", 1, -3);
  if (!strcmp(name, "bpf")) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
  }
  if (!strcmp(name, "perf_event_open")) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  }
  if (!strcmp(name, "userfaultfd")) return syscall(SYS_userfaultfd, 0);
  if (!strcmp(name, "mount")) return mount("none", ".", "tmpfs", 0, NULL);
  if (!strcmp(name, "unshare")) return unshare(CLONE_NEWUSER);
  if (!strcmp(name, "setns")) return setns(open("/proc/1/ns/net", O_RDONLY), 0);
  if (!strcmp(name, "clone_newuser")) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    return pid;
  }
  if (!strcmp(name, "fork")) {
    long pid = syscall(SYS_fork);
    if (pid == 0) _exit(0);
    return pid;
  }
  if (!strcmp(name, "setsid")) return setsid();
  if (!strcmp(name, "setpgid")) return setpgid(0, getppid());
  if (!strcmp(name, "setuid")) return setuid(0);
  if (!strcmp(name, "chroot")) return chroot(".");
  if (!strcmp(name, "process_vm_readv")) {
    char buffer[8];
    struct iovec local = {buffer, sizeof(buffer)}, remote = {(void*)0x400000, sizeof(buffer)};
    return process_vm_readv(getppid(), &local, 1, &remote, 1, 0);
  }
  if (!strcmp(name, "init_module")) return syscall(SYS_init_module, NULL, 0, "");
  if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
  if (!strcmp(name, "reboot")) return syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, 0);
  if (!strcmp(name, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, -1, NULL, 0);
  if (!strcmp(name, "pidfd_getfd")) return syscall(SYS_pidfd_getfd, 0, 0, 0);
  if (!strcmp(name, "ioctl_tiocsti")) {
    char c = 'x';
    return ioctl(0, TIOCSTI, &c);
  }
  if (!strcmp(name, "personality")) return personality(READ_IMPLIES_EXEC);
  if (!strcmp(name, "mknod_device")) return mknod("tty", S_IFCHR | 0600, makedev(5, 0));
  if (!strcmp(name, "io_uring")) return syscall(SYS_io_uring_setup, 8, calloc(1, 120));
  if (!strcmp(name, "clone3")) return syscall(SYS_clone3, calloc(1, 88), 88);
  if (!strcmp(name, "socket_packet")) return socket(AF_PACKET, SOCK_RAW, 0);
  if (!strcmp(name, "socket_raw")) return socket(AF_INET, SOCK_RAW, 1);
  if (!strcmp(name, "socket_inet")) return socket(AF_INET, SOCK_STREAM, 0);
  if (!strcmp(name, "socket_inet6")) return socket(AF_INET6, SOCK_DGRAM, 0);
  if (!strcmp(name, "socket_netlink")) return socket(AF_NETLINK, SOCK_RAW, 0);
  if (!strcmp(name, "socket_vsock")) return socket(AF_VSOCK, SOCK_STREAM, 0);
  if (!strcmp(name, "read_secret")) return open(target, O_RDONLY);
  if (!strcmp(name, "write_outside")) return open(target, O_WRONLY | O_CREAT, 0600);
  if (!strcmp(name, "unix_socket")) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, target, sizeof(addr.sun_path) - 1);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    return s < 0 ? s : connect(s, (struct sockaddr*)&addr, sizeof(addr));
  }
  if (!strcmp(name, "signal_node")) return kill(atoi(target), 0); /* the node's pid */
  if (!strcmp(name, "fill_scratch")) {                            /* 64 MiB into its own folder */
    static char chunk[64 << 10];
    const long long goal = 64LL << 20;
    long long total = 0;
    const int fd = open("fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return -1;
    for (ssize_t n = 0; total < goal && (n = write(fd, chunk, sizeof(chunk))) > 0;) total += n;
    printf("wrote %lld MiB\n", total >> 20);
    return total < goal ? -1 : 0;
  }
  if (!strcmp(name, "memory")) {
    for (int i = 0; i < 64; ++i) { /* 4 GiB in 64 MiB pieces, touched */
      char* p = malloc(64 << 20);
      if (p == NULL) return -1;
      memset(p, 1, 64 << 20);
    }
    return 0;
  }
  fprintf(stderr, "unknown attack %s\n", name);
  exit(2);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  errno = 0;
  const long r = attack(argv[1], argc > 2 ? argv[2] : "");
  if (r < 0) {
    printf("blocked: %s: %s\n", argv[1], errno != 0 ? strerrorname_np(errno) : "failed");
  } else {
    printf("ESCAPED: %s\n", argv[1]);
  }
  fflush(stdout);
  return 0;
}
